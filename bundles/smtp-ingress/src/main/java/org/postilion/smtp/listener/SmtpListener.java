package org.postilion.smtp.listener;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.james.protocols.api.handler.CommandDispatcher;
import org.apache.james.protocols.api.handler.CommandHandlerResultLogger;
import org.apache.james.protocols.smtp.SMTPProtocol;
import org.apache.james.protocols.smtp.SMTPProtocolHandlerChain;
import org.apache.james.protocols.smtp.SMTPSession;
import org.apache.james.protocols.smtp.core.DataCmdHandler;
import org.apache.james.protocols.smtp.core.DataLineMessageHookHandler;
import org.apache.james.protocols.smtp.core.ExpnCmdHandler;
import org.apache.james.protocols.smtp.core.HeloCmdHandler;
import org.apache.james.protocols.smtp.core.HelpCmdHandler;
import org.apache.james.protocols.smtp.core.MailCmdHandler;
import org.apache.james.protocols.smtp.core.NoopCmdHandler;
import org.apache.james.protocols.smtp.core.QuitCmdHandler;
import org.apache.james.protocols.smtp.core.RcptCmdHandler;
import org.apache.james.protocols.smtp.core.RsetCmdHandler;
import org.apache.james.protocols.smtp.core.UnknownCmdHandler;
import org.apache.james.protocols.smtp.core.VrfyCmdHandler;
import org.apache.james.protocols.smtp.core.WelcomeMessageHandler;
import org.apache.james.protocols.smtp.core.esmtp.EhloCmdHandler;
import org.apache.james.protocols.smtp.core.esmtp.MailSizeEsmtpExtension;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.postilion.api.reception.LocalListener;
import org.postilion.api.reception.Reception;
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

    @AttributeDefinition(description = "Threads that run SMTP sessions (spool writes block them)")
    int worker__threads() default 32;

    @AttributeDefinition(description = "Seconds a client may stay silent before it is dropped")
    int idle__timeout() default 300;

    @AttributeDefinition(description = "Concurrent connections; 0 for no limit")
    int max__connections() default 1000;
  }

  @Reference private Reception reception;

  private ListenerServer server;
  private ListenerSettings settings;

  @Activate
  void activate(Config config, Map<String, Object> properties) throws Exception {
    String name = listenerName(properties);
    try {
      settings = ListenerSettings.from(name, config);
    } catch (IllegalArgumentException e) {
      LOG.error("SMTP listener {} is not started: {}", name, e.getMessage());
      throw e;
    }
    server = start(settings, reception);
    LOG.info("SMTP listener {} listening on {} as {}", name, boundAddress(), settings.hostname());
  }

  @Deactivate
  void deactivate() {
    if (server != null) {
      server.unbind();
      LOG.info("SMTP listener {} stopped", settings.name());
    }
  }

  /** Where the listener is bound, with the real port when port 0 was configured. */
  @Override
  public InetSocketAddress boundAddress() {
    return server.getListenAddresses().get(0);
  }

  static ListenerServer start(ListenerSettings settings, Reception reception) throws Exception {
    NoopMetricFactory metrics = new NoopMetricFactory();
    // The chain is spelled out rather than taken from James's defaults: those accept any
    // recipient (an open relay), let postmaster@ through for any domain, and put message hooks
    // before the size check.
    SMTPProtocolHandlerChain chain = new SMTPProtocolHandlerChain(metrics, false);
    chain.addAll(
        List.of(
            new CommandDispatcher<SMTPSession>(),
            new ExpnCmdHandler(),
            new EhloCmdHandler(metrics),
            new HeloCmdHandler(metrics),
            new HelpCmdHandler(),
            new MailCmdHandler(metrics),
            new NoopCmdHandler(),
            new QuitCmdHandler(metrics),
            new RcptCmdHandler(metrics),
            new RsetCmdHandler(),
            new VrfyCmdHandler(),
            new DataCmdHandler(metrics),
            new StrictLineEndingFilter(),
            new MailSizeEsmtpExtension(),
            new WelcomeMessageHandler(),
            new RecipientPolicyHook(settings),
            new DataLineMessageHookHandler(),
            new SpoolingMessageHook(reception),
            new UnknownCmdHandler(metrics),
            new CommandHandlerResultLogger()));
    chain.wireExtensibleHandlers();
    ListenerServer server =
        new ListenerServer(
            new SMTPProtocol(chain, new ListenerConfiguration(settings)),
            settings.name(),
            settings.workerThreads(),
            settings.maxConnections());
    server.setListenAddresses(new InetSocketAddress(settings.address(), settings.port()));
    server.setTimeout(settings.idleTimeoutSeconds());
    server.setIoWorkerCount(Math.max(2, Runtime.getRuntime().availableProcessors()));
    server.setBossWorkerCount(Optional.of(1));
    server.setGracefulShutdown(false);
    server.bind();
    return server;
  }

  private static String listenerName(Map<String, Object> properties) {
    Object file = properties.get("felix.fileinstall.filename");
    String source = file != null ? file.toString() : String.valueOf(properties.get("service.pid"));
    String base = source.substring(source.lastIndexOf('/') + 1).replace(".cfg", "");
    int separator = Math.max(base.lastIndexOf('-'), base.lastIndexOf('~'));
    return separator >= 0 ? base.substring(separator + 1) : base;
  }
}
