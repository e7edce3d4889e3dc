package org.postilion.http.inject;

import java.util.ArrayList;
import java.util.List;
import org.postilion.api.delivery.MessageContent;
import org.postilion.api.reception.Reception;
import org.postilion.api.reception.ReceptionException;
import org.postilion.api.reception.Submission;
import org.postilion.http.inject.InjectionRequest.Recipient;
import org.postilion.http.inject.pebble.RenderBudget;
import org.postilion.http.web.RequestException;

/**
 * Hands an injection's messages to the same reception as SMTP mail (filters, queue naming, spool)
 * and accounts for every recipient. Returns only once each accepted message is durable.
 */
final class Injector {
  private final MessageComposer composer;

  Injector(MessageComposer composer) {
    this.composer = composer;
  }

  /** Who is injecting: for the Received trail, the records and the tenant. */
  record Client(String address, String receptionProtocol, String tenant) {}

  /**
   * KumoMTA's response fields, and the status: 200 when every recipient was accepted, 503 when a
   * recipient failed on the server's side (worth retrying those), 422 when the request itself was
   * at fault for some. The accepted recipients are queued whatever the status.
   */
  record Outcome(
      int successCount, int failCount, List<String> failedRecipients, List<String> errors) {
    int status(boolean serverFault) {
      return failCount == 0 ? 200 : serverFault ? 503 : 422;
    }
  }

  /** Result of an injection: the body and whether a failure was the server's. */
  record Result(Outcome outcome, int status) {}

  /**
   * Renders and queues the request's messages.
   *
   * @param budget what its templates may spend; once it is cancelled, the recipients not yet queued
   *     fail
   */
  Result inject(InjectionRequest request, Client client, Reception reception, RenderBudget budget)
      throws RequestException {
    MessageComposer.Composition composition = composer.compile(request);
    Tally tally = new Tally();
    List<Recipient> valid = new ArrayList<>();
    for (Recipient recipient : request.recipients()) {
      if (recipient.problem() != null) {
        tally.failed(recipient, recipient.problem(), false);
      } else {
        valid.add(recipient);
      }
    }
    if (!valid.isEmpty() && composition.sameForEveryone()) {
      String cancelled = budget.cancellation();
      try {
        if (cancelled != null) {
          throw new RequestException(503, null, cancelled);
        }
        byte[] content = composition.render(valid.get(0), budget);
        receive(request, valid, content, client, reception);
        valid.forEach(r -> tally.succeeded());
      } catch (RequestException e) {
        valid.forEach(r -> tally.failed(r, e.describe(), isServerFault(e)));
      } catch (ReceptionException e) {
        valid.forEach(r -> tally.failed(r, r.email() + ": " + e.response(), isServerFault(e)));
      }
    } else {
      for (Recipient recipient : valid) {
        String cancelled = budget.cancellation();
        if (cancelled != null) {
          tally.failed(recipient, recipient.email() + ": " + cancelled, true);
          continue;
        }
        try {
          receive(
              request,
              List.of(recipient),
              composition.render(recipient, budget),
              client,
              reception);
          tally.succeeded();
        } catch (RequestException e) {
          tally.failed(recipient, recipient.field() + " " + e.describe(), isServerFault(e));
        } catch (ReceptionException e) {
          tally.failed(recipient, recipient.email() + ": " + e.response(), isServerFault(e));
        }
      }
    }
    Outcome outcome =
        new Outcome(
            tally.success, tally.failedRecipients.size(), tally.failedRecipients, tally.errors);
    return new Result(outcome, outcome.status(tally.serverFault));
  }

  /** Raw injection: one message for every recipient, as an SMTP transaction would be. */
  Result injectRaw(
      String sender,
      List<String> recipients,
      MessageContent content,
      Client client,
      Reception reception) {
    Tally tally = new Tally();
    List<String> valid = new ArrayList<>();
    for (String recipient : recipients) {
      String problem = EmailAddresses.problem(recipient);
      if (problem == null) {
        valid.add(recipient);
      } else {
        tally.failedRecipients.add(recipient);
        tally.errors.add("recipient " + recipient + ": " + problem);
      }
    }
    if (!valid.isEmpty()) {
      try {
        reception.receive(submission(sender, valid, content, client));
        valid.forEach(r -> tally.succeeded());
      } catch (ReceptionException e) {
        tally.serverFault = isServerFault(e);
        for (String recipient : valid) {
          tally.failedRecipients.add(recipient);
          tally.errors.add(recipient + ": " + e.response());
        }
      }
    }
    Outcome outcome =
        new Outcome(
            tally.success, tally.failedRecipients.size(), tally.failedRecipients, tally.errors);
    return new Result(outcome, outcome.status(tally.serverFault));
  }

  private static void receive(
      InjectionRequest request,
      List<Recipient> recipients,
      byte[] content,
      Client client,
      Reception reception)
      throws ReceptionException {
    List<String> addresses = recipients.stream().map(Recipient::email).toList();
    reception.receive(
        submission(request.envelopeSender(), addresses, MessageContent.of(content), client));
  }

  private static Submission submission(
      String sender, List<String> recipients, MessageContent content, Client client) {
    return new Submission(
        sender, recipients, content, client.receptionProtocol(), client.address(), client.tenant());
  }

  /** A template cut short by the request's timeout is the server's problem, not the request's. */
  private static boolean isServerFault(RequestException e) {
    return e.status() >= 500;
  }

  /** A 4xx reply from reception (spool full, database down) is the server's problem. */
  private static boolean isServerFault(ReceptionException e) {
    return e.response().code() / 100 == 4;
  }

  private static final class Tally {
    int success;
    boolean serverFault;
    final List<String> failedRecipients = new ArrayList<>();
    final List<String> errors = new ArrayList<>();

    void succeeded() {
      success++;
    }

    void failed(Recipient recipient, String error, boolean byServer) {
      failedRecipients.add(recipient.email() == null ? recipient.field() : recipient.email());
      errors.add(error);
      serverFault |= byServer;
    }
  }
}
