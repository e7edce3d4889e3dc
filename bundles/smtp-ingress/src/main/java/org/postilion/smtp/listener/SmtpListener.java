package org.postilion.smtp.listener;

import io.netty.util.concurrent.EventExecutorGroup;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.james.protocols.api.handler.CommandHandlerResultLogger;
import org.apache.james.protocols.smtp.SMTPProtocol;
import org.apache.james.protocols.smtp.SMTPProtocolHandlerChain;
import org.apache.james.protocols.smtp.core.DataLineMessageHookHandler;
import org.apache.james.protocols.smtp.core.ExpnCmdHandler;
import org.apache.james.protocols.smtp.core.HeloCmdHandler;
import org.apache.james.protocols.smtp.core.HelpCmdHandler;
import org.apache.james.protocols.smtp.core.MailCmdHandler;
import org.apache.james.protocols.smtp.core.NoopCmdHandler;
import org.apache.james.protocols.smtp.core.QuitCmdHandler;
import org.apache.james.protocols.smtp.core.RsetCmdHandler;
import org.apache.james.protocols.smtp.core.UnknownCmdHandler;
import org.apache.james.protocols.smtp.core.VrfyCmdHandler;
import org.apache.james.protocols.smtp.core.WelcomeMessageHandler;
import org.apache.james.protocols.smtp.core.esmtp.StartTlsCmdHandler;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postilion.api.bounce.ReportInbox;
import org.postilion.api.concurrent.DaemonThreads;
import org.postilion.api.delivery.Response;
import org.postilion.api.reception.LocalListener;
import org.postilion.api.reception.Reception;
import org.postilion.api.reception.ReceptionException;
import org.postilion.api.reception.Submission;
import org.postilion.api.trace.SmtpTrace;
import org.postilion.smtp.auth.PostilionRealm;
import org.postilion.smtp.tls.ServerTls;
import org.postilion.smtp.tls.TlsSettings;
import org.postilion.support.security.Authenticator;
import org.postilion.support.security.EvenTimeAuthenticator;
import org.postilion.support.security.FailedAuthThrottle;
import org.postilion.support.security.JaasAuthenticator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ESMTP listener per {@code etc/org.postilion.smtp.listener-<name>.cfg}. Accepted mail is
 * handed to the queue manager and acknowledged only once it is in the spool.
 */
@Component(
    service = LocalListener.class,
    immediate = true,
    configurationPid = "org.postilion.smtp.listener",
    configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = SmtpListener.Config.class, factory = true)
public class SmtpListener implements LocalListener {
  private static final Logger LOG = LoggerFactory.getLogger(SmtpListener.class);
  private static final Duration TLS_POLL_INTERVAL = Duration.ofSeconds(5);

  /** What a bcrypt check is taken to cost until one has been timed. */
  private static final Duration TYPICAL_PASSWORD_CHECK = Duration.ofMillis(100);

  /** Added to the reply delay with each recent failure of an address. */
  private static final Duration AUTH_FAILURE_DELAY = Duration.ofSeconds(1);

  @ObjectClassDefinition(name = "Postilion SMTP listener", description = "An ESMTP listener")
  public @interface Config {
    @AttributeDefinition(description = "Address to listen on: 127.0.0.1, 0.0.0.0, ::")
    String address() default "127.0.0.1";

    @AttributeDefinition(description = "TCP port; 0 picks a free one")
    int port() default 2525;

    @AttributeDefinition(description = "Name in the greeting and EHLO reply; empty for this host's")
    String hostname() default "";

    @AttributeDefinition(description = "Largest message in bytes, advertised as SIZE")
    long max__message__size() default 20L * 1024 * 1024;

    @AttributeDefinition(description = "Most recipients of one message")
    int max__recipients() default 1024;

    @AttributeDefinition(description = "Networks (CIDR) whose clients may relay to any domain")
    String relay__hosts() default "127.0.0.1/32, ::1/128";

    @AttributeDefinition(description = "Recipient domains any client may send to")
    String relay__domains() default "";

    @AttributeDefinition(
        description =
            "relay: mail is queued for delivery; reports: an MX for report_domains whose mail"
                + " (bounces, complaints, auto-replies) is read into records, never relayed")
    String role() default "relay";

    @AttributeDefinition(description = "With role = reports: the domains reports are sent to")
    String report__domains() default "";

    @AttributeDefinition(description = "Threads that run SMTP sessions (spool writes block them)")
    int worker__threads() default 32;

    @AttributeDefinition(description = "Concurrent connections; 0 for no limit")
    int max__connections() default 1000;

    @AttributeDefinition(description = "Concurrent connections from one address; 0 for no limit")
    int max__connections__per__ip() default 50;

    @AttributeDefinition(
        description =
            "Whether clients in relay_hosts are exempt from max_connections_per_ip, as Postfix"
                + " exempts $mynetworks")
    boolean max__connections__per__ip_exempt__relay__hosts() default true;

    @AttributeDefinition(description = "Seconds a client may stay silent between commands")
    int command__timeout() default 300;

    @AttributeDefinition(description = "Seconds a client may stay silent while sending a message")
    int data__timeout() default 180;

    @AttributeDefinition(description = "Replies 500-504 before the session is ended")
    int max__bad__commands() default 20;

    @AttributeDefinition(description = "Longest line, command or message, with its CRLF")
    int max__line__length() default 8192;

    @AttributeDefinition(description = "Largest header section of a message, in octets")
    int max__header__size() default 262144;

    @AttributeDefinition(description = "starttls, implicit (TLS from the first byte) or off")
    String tls_mode() default "starttls";

    @AttributeDefinition(description = "PEM certificate chain; empty for a self-signed one")
    String tls_certificate() default "";

    @AttributeDefinition(description = "PEM private key of the certificate")
    String tls_private__key() default "";

    @AttributeDefinition(description = "TLS protocols: TLSv1.3, TLSv1.2")
    String tls_protocols() default "TLSv1.3, TLSv1.2";

    @AttributeDefinition(description = "Enabled cipher suites; empty for the JVM's defaults")
    String tls_ciphers() default "";

    @AttributeDefinition(description = "Refuse MAIL before STARTTLS")
    boolean tls_required() default false;

    @AttributeDefinition(description = "Offer AUTH without TLS")
    boolean auth_allow__plaintext() default false;

    @AttributeDefinition(description = "Refuse MAIL before AUTH")
    boolean listener_require__auth() default false;

    @AttributeDefinition(description = "Failed AUTH attempts per address before it is locked out")
    int auth_max__failures() default 10;

    @AttributeDefinition(description = "Seconds a failed AUTH attempt counts against its address")
    int auth_failure__window() default 900;
  }

  @Reference private Reception reception;

  /** Reads what report listeners (role = reports) receive; offered by the bounce bundle. */
  @Reference(
      cardinality = ReferenceCardinality.OPTIONAL,
      policy = ReferencePolicy.DYNAMIC,
      policyOption = ReferencePolicyOption.GREEDY)
  private volatile ReportInbox reports;

  /** The report inbox, or a 451 when the bounce bundle is not installed. */
  private String toReports(Submission submission) throws ReceptionException {
    ReportInbox inbox = reports;
    if (inbox == null) {
      throw new ReceptionException(
          Response.of(
              451, "4.3.5", "reports cannot be read now (postilion-bounce is not installed)"));
    }
    return inbox.receive(submission);
  }

  private Running running;
  private ListenerSettings settings;

  /** Where transcripts go while an operator watches (mta:trace-smtp-server). */
  @Reference(
      cardinality = ReferenceCardinality.OPTIONAL,
      policy = ReferencePolicy.DYNAMIC,
      policyOption = ReferencePolicyOption.GREEDY)
  private volatile SmtpTrace trace;

  @Activate
  void activate(Config config, Map<String, Object> properties) throws Exception {
    String name = listenerName(properties);
    try {
      settings =
          ListenerSettings.from(
              name, config, Path.of(System.getProperty("karaf.data", "data")).toAbsolutePath());
      running =
          start(
              settings,
              reception,
              settings.receivesReports() ? this::toReports : reception::receive,
              new EvenTimeAuthenticator(
                  new JaasAuthenticator(PostilionRealm.NAME), TYPICAL_PASSWORD_CHECK),
              () -> trace);
    } catch (IllegalArgumentException | IOException e) {
      LOG.error("SMTP listener {} is not started: {}", name, e.getMessage());
      throw e;
    }
    LOG.info(
        "SMTP listener {} listening on {} as {}, TLS {}",
        name,
        boundAddress(),
        settings.hostname(),
        settings.tls().mode().cfgName());
  }

  @Deactivate
  void deactivate() {
    if (running != null) {
      running.close();
      LOG.info("SMTP listener {} stopped", settings.name());
    }
  }

  @Override
  public String name() {
    return settings.name();
  }

  @Override
  public Map<String, Long> refusalCounts() {
    return running.refusals().counts();
  }

  @Override
  public String tls() {
    ServerTls tls = running.tls();
    return tls == null ? "off" : tls.describe();
  }

  @Override
  public long maxMessageSize() {
    return settings.maxMessageSize();
  }

  @Override
  public int connections() {
    return running.server().openConnections();
  }

  /** Where the listener is bound, with the real port when port 0 was configured. */
  @Override
  public InetSocketAddress boundAddress() {
    return running.server().getListenAddresses().get(0);
  }

  /** A started listener and what it owns. */
  record Running(
      ListenerServer server,
      Refusals refusals,
      ServerTls tls,
      ScheduledExecutorService housekeeping,
      TransactionTimes times) {
    void close() {
      server.unbind();
      housekeeping.shutdownNow();
      times.close();
      if (tls != null) {
        tls.close();
      }
    }
  }

  static Running start(ListenerSettings settings, Reception reception, Authenticator authenticator)
      throws Exception {
    return start(settings, reception, reception::receive, authenticator, () -> null);
  }

  static Running start(
      ListenerSettings settings,
      Reception reception,
      SpoolingMessageHook.Destination destination,
      Authenticator authenticator,
      Supplier<SmtpTrace> trace)
      throws Exception {
    ScheduledExecutorService housekeeping =
        Executors.newSingleThreadScheduledExecutor(
            DaemonThreads.named("postilion-smtp-" + settings.name() + "-upkeep"));
    try {
      return start(settings, reception, destination, authenticator, housekeeping, trace);
    } catch (Exception | Error e) {
      housekeeping.shutdownNow();
      throw e;
    }
  }

  private static Running start(
      ListenerSettings settings,
      Reception reception,
      SpoolingMessageHook.Destination destination,
      Authenticator authenticator,
      ScheduledExecutorService housekeeping,
      Supplier<SmtpTrace> trace)
      throws Exception {
    ServerTls tls = null;
    if (settings.tls().mode() != TlsSettings.Mode.OFF) {
      tls = new ServerTls(settings.name(), settings.tls());
      tls.watch(housekeeping, TLS_POLL_INTERVAL);
    }
    EventExecutorGroup workers =
        ListenerServer.workerGroup(settings.name(), settings.workerThreads());
    Refusals refusals = new Refusals(settings.name(), reception, workers);
    FailedAuthThrottle throttle =
        new FailedAuthThrottle(
            settings.auth().maxFailures(),
            settings.auth().failureWindow(),
            AUTH_FAILURE_DELAY,
            Clock.systemUTC());
    housekeeping.scheduleWithFixedDelay(throttle::expire, 1, 1, TimeUnit.MINUTES);
    TransactionTimes times = new TransactionTimes();
    SpoolingMessageHook spooling = new SpoolingMessageHook(destination, times);
    NoopMetricFactory metrics = new NoopMetricFactory();
    // The chain is spelled out rather than taken from James's defaults: those accept any
    // recipient (an open relay), let postmaster@ through for any domain, and put message hooks
    // before the size check.
    SMTPProtocolHandlerChain chain = new SMTPProtocolHandlerChain(metrics, false);
    // First and on its own: the chain adds James's plain AuthCmdHandler for an AuthHook that
    // arrives before any AUTH command handler.
    chain.add(new SmtpAuthCmdHandler(settings, throttle, refusals));
    chain.addAll(
        List.of(
            new CommandGuard(),
            new ExpnCmdHandler(),
            new RewrittenReplies.Ehlo(metrics),
            new HeloCmdHandler(metrics),
            new HelpCmdHandler(),
            new MailCmdHandler(metrics),
            new NoopCmdHandler(),
            new QuitCmdHandler(metrics),
            new RewrittenReplies.Rcpt(metrics),
            new RsetCmdHandler(),
            new VrfyCmdHandler(),
            new BufferedDataCmdHandler(metrics, reception, refusals),
            new BdatCmdHandler(settings, spooling, refusals, reception),
            new StartTlsCmdHandler(),
            new JaasAuthHook(authenticator, throttle, refusals),
            new SubmissionPolicyHook(settings),
            times,
            new SmtpUtf8(),
            new StrictLineEndingFilter(),
            new HeaderSizeFilter(settings, refusals),
            new MessageSizeLimit(settings, refusals),
            new WelcomeMessageHandler(),
            new RecipientPolicyHook(settings, refusals),
            new DataLineMessageHookHandler(),
            spooling,
            new UnknownCmdHandler(metrics),
            new CommandHandlerResultLogger(),
            new ErrorLimit(settings, refusals),
            new SessionBuffer()));
    chain.wireExtensibleHandlers();
    ListenerServer server =
        new ListenerServer(
            new SMTPProtocol(chain, new ListenerConfiguration(settings)),
            settings,
            refusals,
            tls,
            workers,
            trace);
    server.setListenAddresses(new InetSocketAddress(settings.address(), settings.port()));
    server.setIoWorkerCount(Math.max(2, Runtime.getRuntime().availableProcessors()));
    server.setBossWorkerCount(Optional.of(1));
    server.setGracefulShutdown(false);
    try {
      server.bind();
    } catch (Exception e) {
      workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      times.close();
      throw e;
    }
    return new Running(server, refusals, tls, housekeeping, times);
  }

  private static String listenerName(Map<String, Object> properties) {
    Object file = properties.get("felix.fileinstall.filename");
    String source = file != null ? file.toString() : String.valueOf(properties.get("service.pid"));
    String base = source.substring(source.lastIndexOf('/') + 1).replace(".cfg", "");
    int separator = Math.max(base.lastIndexOf('-'), base.lastIndexOf('~'));
    return separator >= 0 ? base.substring(separator + 1) : base;
  }
}
