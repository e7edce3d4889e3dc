package org.postilion.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;
import static org.ops4j.pax.exam.karaf.options.KarafDistributionOption.editConfigurationFilePut;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.BeforeClass;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.postilion.testkit.DkimVerifier;
import org.postilion.testkit.SmtpClient;

/**
 * DKIM signing and message hygiene in the running distribution: keys made with mta:dkim-keygen,
 * mail received over SMTP and delivered to a maildir, signatures checked by dkimpy.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class DkimIT extends PostilionTestSupport {
  private static final String QUEUE_CFG = "etc/org.postilion.queue-itest-dkim.cfg";
  private static final String DEFINITION = "org.postilion.dkim.DkimDefinition";

  /** Long folded fields, 8-bit text, and trailing blank lines; no Message-ID or Date. */
  private static final String HARD_MESSAGE =
      "From: \"J\u00f6rg\" <joerg@news.canon.test>\r\n"
          + "To: a@signed.test,\r\n"
          + "    b@signed.test,\r\n"
          + "\tc@signed.test\r\n"
          + "Subject: a subject long enough that the client folded it over more than\r\n"
          + " \tone line   \r\n"
          + "MIME-Version: 1.0\r\n"
          + "Content-Type: text/plain; charset=iso-8859-1\r\n"
          + "Content-Transfer-Encoding: 8bit\r\n"
          + "\r\n"
          + "Gr\u00fc\u00dfe  aus   K\u00f6ln \t \r\n"
          + "\r\n"
          + "   indented\r\n"
          + "\r\n"
          + "\r\n"
          + "\r\n";

  @BeforeClass
  public static void dkimpyIsInstalled() {
    assertTrue(
        "dkimpy is needed: scripts/test-deps installs python3-dkim and python3-nacl",
        DkimVerifier.available());
  }

  @Override
  protected Option[] extraOptions() {
    return new Option[] {
      editConfigurationFilePut("etc/org.postilion.queue-default.cfg", "protocol", "held"),
      editConfigurationFilePut(QUEUE_CFG, "match.domain", "signed.test"),
      editConfigurationFilePut(QUEUE_CFG, "protocol", "maildir"),
      editConfigurationFilePut(
          QUEUE_CFG, "maildir.path", "${karaf.data}/itest-maildir/{domain}/{user}"),
      editConfigurationFilePut(
          "etc/org.postilion.queue.hygiene.cfg", "hostname", "mta.itest.example"),
    };
  }

  private static Path maildir(String user) {
    return data().resolve("itest-maildir/signed.test").resolve(user);
  }

  /** Sends one message and returns the bytes that arrive in the recipient's maildir. */
  private static byte[] deliver(String sender, String user, String content) throws Exception {
    String reply;
    try (SmtpClient smtp = new SmtpClient(smtpPort()).hello()) {
      reply = smtp.sendMessage(sender, user + "@signed.test", content);
    }
    assertTrue(reply, reply.startsWith("250 "));
    Path box = maildir(user);
    await("a message in " + box, WAIT, () -> newMessages(box).size() == 1);
    return Files.readAllBytes(newMessages(box).get(0));
  }

  /** Runs mta:dkim-keygen and returns its output. */
  private String keygen(String options) throws Exception {
    String output = shell("mta:dkim-keygen " + options);
    assertTrue(output, output.contains("Publish this DNS TXT record:"));
    return output;
  }

  /** The TXT record value printed by mta:dkim-keygen, its quoted strings joined. */
  private static String txtRecord(String output) {
    String line = output.lines().filter(l -> l.contains("._domainkey.")).findFirst().orElseThrow();
    Matcher strings = Pattern.compile("\"([^\"]*)\"").matcher(line);
    StringBuilder record = new StringBuilder();
    while (strings.find()) {
      record.append(strings.group(1));
    }
    return record.toString();
  }

  /** The cfg lines mta:dkim-keygen suggests, with extra settings. */
  private static String suggestedCfg(String output, String extra) {
    return output
            .lines()
            .filter(l -> l.startsWith("  ") && l.contains(" = "))
            .map(String::trim)
            .collect(Collectors.joining("\n"))
        + "\n"
        + extra;
  }

  private static long signatures(byte[] message) {
    return new String(message, StandardCharsets.ISO_8859_1)
        .lines()
        .takeWhile(l -> !l.isEmpty())
        .filter(l -> l.startsWith("DKIM-Signature:"))
        .count();
  }

  @Test
  public void keygenOutputSignsMailThatItsTxtRecordVerifies() throws Exception {
    String rsa = keygen("--domain keys.test --selector k1");
    String ed25519 = keygen("--domain keys.test --selector e1 --algorithm ed25519-sha256");
    assertTrue(rsa, rsa.contains("2048 bits"));
    Path rsaKey = etc().resolve("dkim/keys.test/k1.key");
    assertTrue(Files.readString(rsaKey).startsWith("-----BEGIN PRIVATE KEY-----"));
    assertTrue(
        "a second keygen does not overwrite the key",
        shell("mta:dkim-keygen --domain keys.test --selector k1").contains("--force"));

    writeConfigs(
        new EtcFile(DEFINITION, "org.postilion.dkim-k1.cfg", suggestedCfg(rsa, "")),
        new EtcFile(DEFINITION, "org.postilion.dkim-e1.cfg", suggestedCfg(ed25519, "")));
    byte[] delivered =
        deliver(
            "news@keys.test",
            "keygen",
            "From: news@keys.test\r\nTo: keygen@signed.test\r\nSubject: keys\r\n\r\nhello\r\n");
    assertEquals(2, signatures(delivered));
    Map<String, String> records = new HashMap<>();
    records.put("k1._domainkey.keys.test", txtRecord(rsa));
    records.put("e1._domainkey.keys.test", txtRecord(ed25519));
    assertTrue(records.toString(), records.get("e1._domainkey.keys.test").contains("k=ed25519"));
    assertEquals(List.of("0 pass", "1 pass"), DkimVerifier.verify(delivered, records));
  }

  @Test
  public void everyAlgorithmAndCanonicalizationVerifiesOnAHardMessage() throws Exception {
    Map<String, String> records = new HashMap<>();
    String[][] signatures = {
      {"rr", "rsa-sha256", "relaxed/relaxed"},
      {"rs", "rsa-sha256", "simple/simple"},
      {"er", "ed25519-sha256", "relaxed/relaxed"},
      {"es", "ed25519-sha256", "simple/simple"},
    };
    for (String[] signature : signatures) {
      String output =
          keygen("--domain canon.test --selector " + signature[0] + " --algorithm " + signature[1]);
      records.put(signature[0] + "._domainkey.canon.test", txtRecord(output));
      writeConfig(
          DEFINITION,
          "org.postilion.dkim-" + signature[0] + ".cfg",
          suggestedCfg(output, "canonicalization = " + signature[2] + "\n"));
    }
    byte[] delivered = deliver("joerg@news.canon.test", "hard", HARD_MESSAGE);
    String text = new String(delivered, StandardCharsets.ISO_8859_1);
    assertEquals(text, 4, signatures(delivered));
    assertEquals(
        List.of("0 pass", "1 pass", "2 pass", "3 pass"), DkimVerifier.verify(delivered, records));
    // Hygiene ran first: the added Message-ID and Date are signed, the Received field is not.
    String header = text.substring(0, text.indexOf("\r\n\r\n"));
    assertTrue(header, header.contains("\r\nMessage-ID: <"));
    assertTrue(header, header.contains("@mta.itest.example>\r\n"));
    assertTrue(header, header.contains("\r\nDate: "));
    Matcher signed =
        Pattern.compile("[;\\s]h=([^;]*);").matcher(header.replaceAll("\r\n[ \t]", ""));
    int lists = 0;
    while (signed.find()) {
      String names = signed.group(1).replaceAll("\\s", "");
      assertTrue(
          names,
          names.startsWith("from:from:")
              && names.contains(":date:")
              && names.contains(":message-id:"));
      lists++;
    }
    assertEquals(4, lists);
    assertTrue(header, header.contains("\r\nReceived: from itest.example ([127.0.0.1])"));
    assertTrue(header, header.contains("by mta.itest.example (Postilion) with ESMTP id "));
    assertFalse(header, header.contains("h=received"));
  }

  @Test
  public void aMissingKeySendsMailUnsignedWithARecordSayingWhy() throws Exception {
    writeConfig(
        DEFINITION,
        "org.postilion.dkim-nokey.cfg",
        "domain = nokey.test\nselector = gone\nkey.file = etc/dkim/nokey.test/gone.key\n");
    byte[] delivered =
        deliver(
            "a@nokey.test",
            "nokey",
            "From: a@nokey.test\r\nSubject: unsigned\r\n\r\nstill delivered\r\n");
    assertEquals(0, signatures(delivered));
    assertTrue(
        eventLog(),
        hasRecord(
            "Reception",
            "nokey@signed.test",
            "\"dkim_error\":\"gone._domainkey.nokey.test not signed: key file "));
    await(
        "the missing key in karaf.log",
        WAIT,
        () -> karafLog().contains("gone.key does not exist; messages it should sign are sent"));
  }

  @Test
  public void aBadSignatureFileIsRejectedNamingTheKey() throws Exception {
    writeEtcFile(
        "org.postilion.dkim-bad.cfg",
        "domain = bad.test\nselector = s\nkey.file = x.key\nalgorithm = rsa-sha1\n");
    await(
        "the rejection in karaf.log",
        WAIT,
        () ->
            karafLog()
                .contains(
                    "org.postilion.dkim-bad.cfg rejected, key algorithm: unknown algorithm"
                        + " 'rsa-sha1'"));
  }

  @Test
  public void messagesWithoutExactlyOneFromAreRefusedWithARejectionRecord() throws Exception {
    try (SmtpClient smtp = new SmtpClient(smtpPort()).hello()) {
      String two =
          smtp.sendMessage(
              "a@example.org",
              "twofrom@signed.test",
              "From: a@example.org\r\nFrom: b@example.org\r\nSubject: x\r\n\r\nx\r\n");
      assertTrue(two, two.startsWith("550 5.6.0"));
      String none =
          smtp.sendMessage("a@example.org", "nofrom@signed.test", "Subject: x\r\n\r\nx\r\n");
      assertTrue(none, none.startsWith("550 5.6.0"));
    }
    await(
        "Rejection records",
        WAIT,
        () ->
            hasRecord("Rejection", "twofrom@signed.test", "\"code\":550")
                && hasRecord("Rejection", "nofrom@signed.test", enhancedCode("5.6.0")));
    assertTrue(newMessages(maildir("twofrom")).isEmpty());
  }
}
