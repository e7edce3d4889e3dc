package org.postilion.delivery.smtp;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.MXRecord;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * Finds where mail for a domain goes, as RFC 5321 section 5.1 says: the MX hosts by preference
 * (random among equal preference), else the domain's own address; a null MX (RFC 7505) or a domain
 * that does not exist ends the message, a DNS failure or timeout is retried later. Answers are
 * cached for their TTL. Queries are sent asynchronously: no thread waits for DNS.
 */
final class RouteResolver {
  /** How long a positive answer is kept at most, whatever its TTL. */
  private static final Duration MAX_CACHE = Duration.ofHours(1);

  /** How long "no such record" is kept when the answer carries no SOA to say. */
  private static final long DEFAULT_NEGATIVE_TTL = 60;

  private record Answer(Message message, Instant expires) {}

  private final Resolver resolver;
  private final Clock clock;
  private final Map<String, Answer> cache = new ConcurrentHashMap<>();
  private final DnsMetrics metrics;

  RouteResolver(Resolver resolver, Clock clock, DnsMetrics metrics) {
    this.resolver = resolver;
    this.clock = clock;
    this.metrics = metrics;
  }

  /**
   * The route for {@code domain}; fails with a {@link DeliveryFailure} (wrapped in a
   * CompletionException) for DNS errors and undeliverable domains.
   */
  CompletableFuture<Route> mxRoute(String domain, int port) {
    metrics.inProgress.inc();
    CompletableFuture<Route> route = mxRouteUncounted(domain, port);
    route.whenComplete(
        (done, error) -> {
          metrics.inProgress.dec();
          (error == null ? metrics.ok : metrics.fail).inc();
        });
    return route;
  }

  private CompletableFuture<Route> mxRouteUncounted(String domain, int port) {
    return query(domain, Type.MX)
        .thenCompose(
            mx -> {
              int rcode = mx.getRcode();
              if (rcode == Rcode.NXDOMAIN) {
                throw failure(
                    DeliveryFailure.permanentFailure(
                        550, "5.1.2", "domain " + domain + " does not exist (NXDOMAIN)"));
              }
              if (rcode != Rcode.NOERROR) {
                throw failure(
                    DeliveryFailure.transientFailure(
                        "4.4.3",
                        "DNS error looking up MX of " + domain + ": " + Rcode.string(rcode)));
              }
              List<MXRecord> records = new ArrayList<>();
              for (Record record : mx.getSection(Section.ANSWER)) {
                if (record instanceof MXRecord mxRecord) {
                  records.add(mxRecord);
                }
              }
              if (records.isEmpty()) {
                // No MX: the domain itself is the implicit MX (RFC 5321 5.1).
                return hostRoute(List.of(domain), port, true, domain);
              }
              if (records.size() == 1 && records.get(0).getTarget().equals(Name.root)) {
                throw failure(
                    DeliveryFailure.permanentFailure(
                        556, "5.1.10", "domain " + domain + " accepts no mail (null MX)"));
              }
              return hostRoute(byPreference(records), port, false, domain);
            });
  }

  /** A route over named hosts in the given order: smarthosts. */
  CompletableFuture<Route> hostRoute(List<HostSpec> hosts, int defaultPort) {
    List<CompletableFuture<Lookup>> lookups = new ArrayList<>();
    for (HostSpec spec : hosts) {
      int port = spec.port() == 0 ? defaultPort : spec.port();
      if (spec.literal()) {
        lookups.add(
            CompletableFuture.completedFuture(
                new Lookup(new Route.Host(spec.host(), port, literal(spec.host())), null)));
      } else {
        lookups.add(lookup(spec.host(), port));
      }
    }
    return allOf(lookups)
        .thenApply(
            resolved ->
                routeOrFailure(
                    resolved,
                    DeliveryFailure.transientFailure(
                        "4.4.4", "no address for any host of smtp.mx_list " + hosts)));
  }

  private CompletableFuture<Route> hostRoute(
      List<String> names, int port, boolean implicit, String domain) {
    List<CompletableFuture<Lookup>> lookups = new ArrayList<>();
    for (String name : names) {
      lookups.add(lookup(name, port));
    }
    DeliveryFailure noAddress =
        implicit
            ? DeliveryFailure.permanentFailure(
                550, "5.1.2", "domain " + domain + " has no MX and no address")
            : DeliveryFailure.transientFailure(
                "4.4.4", "no address for any MX host of " + domain + ": " + names);
    return allOf(lookups).thenApply(resolved -> routeOrFailure(resolved, noAddress));
  }

  /** A host's addresses, or the DNS failure that kept them from us. */
  private record Lookup(Route.Host host, DeliveryFailure failure) {}

  private CompletableFuture<Lookup> lookup(String name, int port) {
    return addresses(name)
        .handle(
            (addresses, error) ->
                error == null
                    ? new Lookup(new Route.Host(name, port, addresses), null)
                    : new Lookup(
                        new Route.Host(name, port, List.of()),
                        rootCause(error) instanceof DeliveryFailure failure
                            ? failure
                            : DeliveryFailure.transientFailure("4.4.3", "DNS failure: " + error)));
  }

  /**
   * The hosts that have addresses; with none, a DNS failure (which may pass) wins over the verdict
   * that there is no address.
   */
  private static Route routeOrFailure(List<Lookup> lookups, DeliveryFailure noAddress) {
    List<Route.Host> usable =
        lookups.stream().map(Lookup::host).filter(h -> !h.addresses().isEmpty()).toList();
    if (!usable.isEmpty()) {
      return new Route(usable);
    }
    for (Lookup lookup : lookups) {
      if (lookup.failure() != null) {
        throw failure(lookup.failure());
      }
    }
    throw failure(noAddress);
  }

  /** MX targets by preference; hosts of equal preference in random order (load spreading). */
  private static List<String> byPreference(List<MXRecord> records) {
    List<MXRecord> shuffled = new ArrayList<>(records);
    Collections.shuffle(shuffled, ThreadLocalRandom.current());
    shuffled.sort((a, b) -> Integer.compare(a.getPriority(), b.getPriority()));
    List<String> names = new ArrayList<>();
    for (MXRecord record : shuffled) {
      String name = withoutDot(record.getTarget());
      if (!names.contains(name)) {
        names.add(name);
      }
    }
    return names;
  }

  /** A and AAAA addresses of a host, IPv4 first; empty when it has none or DNS failed for it. */
  private CompletableFuture<List<InetAddress>> addresses(String host) {
    CompletableFuture<Message> a = query(host, Type.A);
    CompletableFuture<Message> aaaa = query(host, Type.AAAA);
    return a.thenCombine(
        aaaa,
        (v4, v6) -> {
          List<InetAddress> addresses = new ArrayList<>();
          for (Record record : v4.getSection(Section.ANSWER)) {
            if (record instanceof ARecord address) {
              addresses.add(address.getAddress());
            }
          }
          for (Record record : v6.getSection(Section.ANSWER)) {
            if (record instanceof AAAARecord address) {
              addresses.add(address.getAddress());
            }
          }
          if (addresses.isEmpty() && (isServerFailure(v4) || isServerFailure(v6))) {
            throw failure(
                DeliveryFailure.transientFailure(
                    "4.4.3", "DNS error looking up the address of " + host));
          }
          return addresses;
        });
  }

  private static boolean isServerFailure(Message message) {
    int rcode = message.getRcode();
    return rcode != Rcode.NOERROR && rcode != Rcode.NXDOMAIN;
  }

  private CompletableFuture<Message> query(String name, int type) {
    String key = name.toLowerCase(Locale.ROOT) + "/" + Type.string(type);
    Answer cached = cache.get(key);
    Instant now = Instant.now(clock);
    if (cached != null && cached.expires().isAfter(now)) {
      if (type == Type.MX) {
        metrics.cacheHit.inc();
      }
      return CompletableFuture.completedFuture(cached.message());
    }
    if (type == Type.MX) {
      metrics.cacheMiss.inc();
    }
    Name qname;
    try {
      qname = Name.fromString(name.endsWith(".") ? name : name + ".");
    } catch (TextParseException e) {
      return CompletableFuture.failedFuture(
          failure(DeliveryFailure.permanentFailure(550, "5.1.2", "not a domain name: " + name)));
    }
    Message query = Message.newQuery(Record.newRecord(qname, type, DClass.IN));
    return resolver
        .sendAsync(query)
        .toCompletableFuture()
        .handle(
            (answer, error) -> {
              if (error != null) {
                throw failure(
                    DeliveryFailure.transientFailure(
                        "4.4.3",
                        "DNS lookup of "
                            + Type.string(type)
                            + " "
                            + name
                            + " failed: "
                            + rootCause(error)));
              }
              if (answer.getRcode() == Rcode.NOERROR) {
                long ttl = minimumTtl(answer);
                if (ttl > 0) {
                  Duration keep = Duration.ofSeconds(Math.min(ttl, MAX_CACHE.toSeconds()));
                  cache.put(key, new Answer(answer, Instant.now(clock).plus(keep)));
                }
              }
              return answer;
            });
  }

  /**
   * How long an answer may be kept: its records' smallest TTL, or for an empty answer (the host has
   * no record of that type, very common for AAAA) the negative TTL of RFC 2308.
   */
  private static long minimumTtl(Message answer) {
    List<Record> records = answer.getSection(Section.ANSWER);
    if (records.isEmpty()) {
      for (Record record : answer.getSection(Section.AUTHORITY)) {
        if (record instanceof SOARecord soa) {
          return Math.min(soa.getTTL(), soa.getMinimum());
        }
      }
      return DEFAULT_NEGATIVE_TTL;
    }
    long ttl = Long.MAX_VALUE;
    for (Record record : records) {
      ttl = Math.min(ttl, record.getTTL());
    }
    return ttl;
  }

  private static List<InetAddress> literal(String address) {
    if (!address.matches("[0-9a-fA-F.:]+")) {
      throw failure(
          DeliveryFailure.transientFailure(
              "4.4.4", "smtp.mx_list: [" + address + "] is not an IP address"));
    }
    try {
      // A literal from configuration: parsed, never looked up.
      return List.of(InetAddress.getByName(address));
    } catch (UnknownHostException e) {
      throw failure(
          DeliveryFailure.transientFailure("4.4.4", "not an IP address: [" + address + "]"));
    }
  }

  private static <T> CompletableFuture<List<T>> allOf(List<CompletableFuture<T>> futures) {
    return CompletableFuture.allOf(futures.toArray(new CompletableFuture<?>[0]))
        .thenApply(done -> futures.stream().map(CompletableFuture::join).toList());
  }

  private static String withoutDot(Name name) {
    String text = name.toString();
    return text.endsWith(".") ? text.substring(0, text.length() - 1) : text;
  }

  private static CompletionException failure(DeliveryFailure failure) {
    return new CompletionException(failure);
  }

  static Throwable rootCause(Throwable error) {
    Throwable cause = error;
    while ((cause instanceof CompletionException || cause instanceof ExecutionException)
        && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause;
  }
}
