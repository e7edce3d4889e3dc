package org.postilion.shell;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.CommandException;
import org.apache.karaf.shell.support.completers.FileCompleter;
import org.apache.karaf.shell.support.table.ShellTable;
import org.postilion.api.bounce.Report;
import org.postilion.api.bounce.ReportReader;
import org.postilion.api.event.EventRecord;
import org.postilion.api.json.Json;

/** Offered once the bounce bundle (postilion-bounce) is installed, which reads the reports. */
@Service
@Command(
    scope = "mta",
    name = "report-parse",
    description =
        "Reads message files as the report listener would: the OOB or Feedback records each"
            + " yields (bounces, ARF complaints, auto-replies), or why it yields none")
public class ReportParseCommand implements Action {

  @Argument(
      index = 0,
      name = "paths",
      required = true,
      multiValued = true,
      description = "Message files (RFC 5322, as received); a folder means every file in it")
  @Completion(FileCompleter.class)
  List<String> paths;

  @Option(
      name = "--json",
      description = "One line per record, exactly as the listener writes it, plus \"file\"")
  boolean json;

  @Reference ReportReader reader;

  @Reference Session session;

  @Override
  public Object execute() throws CommandException {
    List<Path> files = new ArrayList<>();
    for (String path : paths) {
      Path given = Path.of(path);
      if (Files.isDirectory(given)) {
        try (DirectoryStream<Path> listing = Files.newDirectoryStream(given)) {
          List<Path> inFolder = new ArrayList<>();
          listing.forEach(
              file -> {
                if (Files.isRegularFile(file)) {
                  inFolder.add(file);
                }
              });
          inFolder.sort(null);
          files.addAll(inFolder);
        } catch (IOException e) {
          throw AdminCommand.refused(new IOException("cannot list " + given + ": " + e, e));
        }
      } else if (Files.isRegularFile(given)) {
        files.add(given);
      } else {
        throw AdminCommand.refused(new IllegalArgumentException("no such file: " + given));
      }
    }
    PrintStream out = session.getConsole();
    ShellTable table = new ShellTable().emptyTableText("no files");
    table.column("File");
    table.column("Type");
    table.column("Recipient");
    table.column("Code");
    table.column("Status");
    table.column("Classification");
    table.column("Feedback");
    table.column("Text").maxSize(60);
    for (Path file : files) {
      Report report;
      try (InputStream in = Files.newInputStream(file)) {
        report = reader.read(in);
      } catch (IOException e) {
        report = Report.unrecognised("cannot read the file: " + e.getMessage());
      }
      String name = file.toString();
      if (report.records().isEmpty()) {
        String note = report.note() == null ? "nothing to record" : report.note();
        if (json) {
          Map<String, Object> line = new LinkedHashMap<>();
          line.put("type", null);
          line.put("note", note);
          line.put("file", name);
          out.println(Json.write(line));
        } else {
          table.addRow().addContent(name, "-", "", "", "", "", "", note);
        }
        continue;
      }
      for (EventRecord record : report.records()) {
        if (json) {
          String line = record.toJson();
          out.println(
              line.substring(0, line.length() - 1)
                  + ",\"file\":"
                  + Json.quote(name, new StringBuilder())
                  + "}");
        } else {
          Object feedbackType =
              record.feedbackReport() == null ? "" : record.feedbackReport().get("feedback_type");
          table
              .addRow()
              .addContent(
                  name,
                  record.type().recordName(),
                  record.recipient(),
                  record.type().recordName().equals("Feedback") ? "" : record.response().code(),
                  record.response() == null || record.response().enhancedCode() == null
                      ? ""
                      : record.response().enhancedCode(),
                  record.type().recordName().equals("Feedback")
                      ? ""
                      : record.bounceClassification(),
                  feedbackType == null ? "" : feedbackType,
                  record.response() == null ? "" : record.response().content());
        }
      }
    }
    if (!json) {
      table.print(out);
    }
    return null;
  }
}
