package org.postilion.http.inject;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.servlet.AsyncContext;
import javax.servlet.AsyncEvent;
import javax.servlet.AsyncListener;
import javax.servlet.ReadListener;
import javax.servlet.ServletInputStream;
import javax.servlet.ServletOutputStream;
import javax.servlet.WriteListener;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

/**
 * One HTTP exchange without a container: a POST with a body, the response it gets, and an
 * AsyncContext whose timeout the test fires itself.
 */
final class FakeHttp {
  final String path;
  final byte[] body;
  final Map<String, String> headers = new HashMap<>();
  final ByteArrayOutputStream written = new ByteArrayOutputStream();
  final List<AsyncListener> listeners = new ArrayList<>();
  final CountDownLatch completed = new CountDownLatch(1);
  volatile int status;
  volatile boolean async;
  volatile long asyncTimeout;

  final HttpServletRequest request;
  final HttpServletResponse response;
  private final AsyncContext context;

  FakeHttp(String path, String body) {
    this.path = path;
    this.body = body.getBytes(StandardCharsets.UTF_8);
    request = proxy(HttpServletRequest.class, this::onRequest);
    response = proxy(HttpServletResponse.class, this::onResponse);
    context = proxy(AsyncContext.class, this::onAsync);
  }

  /** Waits for the answer, sync or async; its status, or -1 if none came in time. */
  int await(long millis) throws InterruptedException {
    if (!async) {
      return status;
    }
    return completed.await(millis, TimeUnit.MILLISECONDS) ? status : -1;
  }

  String body() {
    return written.toString(StandardCharsets.UTF_8);
  }

  /** What the container does when the async timeout passes. */
  void fireTimeout() throws Exception {
    for (AsyncListener listener : List.copyOf(listeners)) {
      listener.onTimeout(new AsyncEvent(context, request, response));
    }
  }

  private Object onRequest(String method, Object[] args) {
    return switch (method) {
      case "getPathInfo" -> path;
      case "getServletPath" -> "/api/inject";
      case "getContentLengthLong" -> (long) body.length;
      case "getInputStream" -> input();
      case "getRemoteAddr" -> "192.0.2.7";
      case "isSecure" -> false;
      case "getAttribute", "getQueryString", "getHeader" -> null;
      case "getHeaders" -> Collections.emptyEnumeration();
      case "startAsync" -> {
        async = true;
        yield context;
      }
      case "isAsyncStarted" -> async;
      default -> throw new UnsupportedOperationException("request." + method);
    };
  }

  private Object onResponse(String method, Object[] args) {
    switch (method) {
      case "setStatus" -> status = (Integer) args[0];
      case "setHeader" -> headers.put((String) args[0], (String) args[1]);
      case "setContentType", "setCharacterEncoding", "setContentLength" -> {}
      case "getOutputStream" -> {
        return output();
      }
      default -> throw new UnsupportedOperationException("response." + method);
    }
    return null;
  }

  private Object onAsync(String method, Object[] args) {
    switch (method) {
      case "setTimeout" -> asyncTimeout = (Long) args[0];
      case "addListener" -> listeners.add((AsyncListener) args[0]);
      case "getResponse" -> {
        return response;
      }
      case "getRequest" -> {
        return request;
      }
      case "complete" -> completed.countDown();
      default -> throw new UnsupportedOperationException("async." + method);
    }
    return null;
  }

  private ServletInputStream input() {
    ByteArrayInputStream in = new ByteArrayInputStream(body);
    return new ServletInputStream() {
      @Override
      public int read() {
        return in.read();
      }

      @Override
      public int read(byte[] b, int off, int len) {
        return in.read(b, off, len);
      }

      @Override
      public boolean isFinished() {
        return in.available() == 0;
      }

      @Override
      public boolean isReady() {
        return true;
      }

      @Override
      public void setReadListener(ReadListener listener) {}
    };
  }

  private ServletOutputStream output() {
    return new ServletOutputStream() {
      @Override
      public void write(int b) {
        written.write(b);
      }

      @Override
      public boolean isReady() {
        return true;
      }

      @Override
      public void setWriteListener(WriteListener listener) {}
    };
  }

  @FunctionalInterface
  private interface Handler {
    Object handle(String method, Object[] args);
  }

  private static <T> T proxy(Class<T> type, Handler handler) {
    return type.cast(
        Proxy.newProxyInstance(
            FakeHttp.class.getClassLoader(),
            new Class<?>[] {type},
            (self, method, args) ->
                switch (method.getName()) {
                  case "hashCode" -> System.identityHashCode(self);
                  case "equals" -> self == args[0];
                  case "toString" -> type.getSimpleName();
                  default -> handler.handle(method.getName(), args);
                }));
  }
}
