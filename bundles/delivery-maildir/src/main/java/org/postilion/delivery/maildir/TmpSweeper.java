package org.postilion.delivery.maildir;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes files a crash left in a maildir's {@code tmp/}: the maildir rule (anything older than 36
 * hours) and, at once, files of ours whose writing process is gone. Each folder is swept the first
 * time this process writes to it.
 */
final class TmpSweeper {
  private static final Logger LOG = LoggerFactory.getLogger(TmpSweeper.class);

  /** The maildir convention's age for abandoned files in tmp/. */
  static final Duration ABANDONED = Duration.ofHours(36);

  private static final Pattern OUR_NAME = Pattern.compile("^\\d+\\.M\\d+P(\\d{1,18})Q\\d+\\.(.+)$");

  private final String host;
  private final long pid;
  private final Set<Path> swept = ConcurrentHashMap.newKeySet();

  TmpSweeper(String host, long pid) {
    this.host = host;
    this.pid = pid;
  }

  /** Sweeps {@code tmp} unless this process already did; returns how many files went. */
  int sweepOnce(Path tmp) {
    if (!swept.add(tmp)) {
      return 0;
    }
    int removed = 0;
    Instant abandoned = Instant.now().minus(ABANDONED);
    try (DirectoryStream<Path> files = Files.newDirectoryStream(tmp)) {
      for (Path file : files) {
        if (isLeftover(file, abandoned) && Files.deleteIfExists(file)) {
          removed++;
        }
      }
    } catch (NoSuchFileException e) {
      return 0;
    } catch (IOException e) {
      LOG.warn("Cannot sweep the maildir folder {}: {}", tmp, e.toString());
    }
    if (removed > 0) {
      LOG.info("Removed {} files left behind in {}", removed, tmp);
    }
    return removed;
  }

  private boolean isLeftover(Path file, Instant abandoned) throws IOException {
    Matcher ours = OUR_NAME.matcher(file.getFileName().toString());
    if (ours.matches() && ours.group(2).equals(host)) {
      long writer = Long.parseLong(ours.group(1));
      if (writer != pid && ProcessHandle.of(writer).isEmpty()) {
        return true;
      }
    }
    return Files.getLastModifiedTime(file).toInstant().isBefore(abandoned);
  }
}
