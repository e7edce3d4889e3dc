package org.postilion.shell;

import java.io.IOException;
import java.io.PrintStream;
import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.CommandException;
import org.apache.karaf.shell.support.completers.StringsCompleter;
import org.postilion.api.signing.DkimKeys;

/** Offered once the DKIM bundle (postilion-dkim) is installed, which makes the keys. */
@Service
@Command(
    scope = "mta",
    name = "dkim-keygen",
    description =
        "Creates a DKIM private key under etc/dkim/<domain>/<selector>.key and prints the DNS TXT"
            + " record to publish and the cfg that signs with it")
public class DkimKeygenCommand implements Action {

  @Option(name = "--domain", required = true, description = "The signing domain, d=")
  String domain;

  @Option(name = "--selector", required = true, description = "The selector, s=")
  String selector;

  @Option(name = "--algorithm", description = "rsa-sha256 (default) or ed25519-sha256")
  @Completion(
      values = {"rsa-sha256", "ed25519-sha256"},
      value = StringsCompleter.class)
  String algorithm = "rsa-sha256";

  @Option(name = "--bits", description = "RSA key size, default 2048")
  int bits = 2048;

  @Option(name = "--force", description = "Replace an existing key file")
  boolean force;

  @Reference DkimKeys keys;

  @Reference Session session;

  @Override
  public Object execute() throws CommandException {
    DkimKeys.NewKey key;
    try {
      key = keys.create(domain, selector, algorithm, bits, force);
    } catch (IllegalArgumentException | IOException e) {
      throw AdminCommand.refused(e);
    }
    PrintStream out = session.getConsole();
    out.println(
        "Private key ("
            + key.algorithm()
            + (key.bits() > 0 ? ", " + key.bits() + " bits" : "")
            + ") written to "
            + key.file());
    out.println();
    out.println("Publish this DNS TXT record:");
    out.print(key.recordName() + " IN TXT (");
    for (String string : key.txtStrings()) {
      out.print(" \"" + string + "\"");
    }
    out.println(" )");
    out.println();
    out.println(
        "Then sign with it: create etc/org.postilion.dkim-"
            + key.domain()
            + "-"
            + key.selector()
            + ".cfg with");
    out.println("  domain = " + key.domain());
    out.println("  selector = " + key.selector());
    out.println("  key.file = " + key.relativePath());
    out.println("  algorithm = " + key.algorithm());
    return null;
  }
}
