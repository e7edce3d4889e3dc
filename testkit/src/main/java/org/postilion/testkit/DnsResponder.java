package org.postilion.testkit;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/** A small authoritative DNS server on 127.0.0.1 over UDP, answering from what the test put in. */
public final class DnsResponder implements AutoCloseable {
  private final DatagramSocket socket;
  private final Map<String, List<Record>> records = new ConcurrentHashMap<>();
  private final Map<String, Integer> rcodes = new ConcurrentHashMap<>();
  private final AtomicInteger queries = new AtomicInteger();

  /** On a free port. */
  public DnsResponder() throws IOException {
    this(0);
  }

  public DnsResponder(int port) throws IOException {
    socket = new DatagramSocket(port, InetAddress.getByName("127.0.0.1"));
    Thread thread = new Thread(this::serve, "test-dns");
    thread.setDaemon(true);
    thread.start();
  }

  public int port() {
    return socket.getLocalPort();
  }

  public int queries() {
    return queries.get();
  }

  /** Adds a record: {@code add("example.com.", 300, "MX", "10 mx1.example.com.")}. */
  public DnsResponder add(String name, long ttl, String type, String data) throws IOException {
    Record record =
        Record.fromString(Name.fromString(name), Type.value(type), DClass.IN, ttl, data, Name.root);
    records
        .computeIfAbsent(key(record.getName().toString(), record.getType()), k -> new ArrayList<>())
        .add(record);
    return this;
  }

  /** Answers every query for {@code name} with {@code rcode} (NXDOMAIN, SERVFAIL). */
  public DnsResponder rcode(String name, int rcode) {
    rcodes.put(name.toLowerCase(), rcode);
    return this;
  }

  private static String key(String name, int type) {
    return name.toLowerCase() + "/" + type;
  }

  private void serve() {
    byte[] buffer = new byte[4096];
    while (!socket.isClosed()) {
      try {
        DatagramPacket packet = new DatagramPacket(buffer, buffer.length);
        socket.receive(packet);
        queries.incrementAndGet();
        Message query = new Message(Arrays.copyOf(packet.getData(), packet.getLength()));
        Record question = query.getQuestion();
        Message answer = new Message(query.getHeader().getID());
        answer.getHeader().setFlag(Flags.QR);
        answer.getHeader().setFlag(Flags.AA);
        answer.addRecord(question, Section.QUESTION);
        String name = question.getName().toString();
        Integer rcode = rcodes.get(name.toLowerCase());
        if (rcode != null) {
          answer.getHeader().setRcode(rcode);
        } else {
          List<Record> found = records.get(key(name, question.getType()));
          if (found != null) {
            found.forEach(r -> answer.addRecord(r, Section.ANSWER));
          } else if (records.keySet().stream()
              .noneMatch(k -> k.startsWith(name.toLowerCase() + "/"))) {
            answer.getHeader().setRcode(Rcode.NXDOMAIN);
          }
        }
        byte[] wire = answer.toWire();
        socket.send(new DatagramPacket(wire, wire.length, packet.getSocketAddress()));
      } catch (IOException e) {
        if (socket.isClosed()) {
          return;
        }
      }
    }
  }

  @Override
  public void close() {
    socket.close();
  }
}
