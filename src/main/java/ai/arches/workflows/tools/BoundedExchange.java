package ai.arches.workflows.tools;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One HTTP exchange bounded as a whole. The body is collected only up to a byte limit: past it
 * (or when Content-Length announces more) the exchange is cancelled rather than buffered, so a
 * hostile server cannot fill the heap. Headers and body together must arrive within the timeout;
 * {@link HttpRequest.Builder#timeout} alone stops its clock at the headers, and a server
 * dripping one byte a second would hold a step for as long as it liked. An interrupt (the
 * executor's cancel or timeout) cancels the exchange and is rethrown.
 *
 * <p>Failures become {@link ToolException}s naming the kind of failure only: JDK messages can
 * carry host names and addresses, which a step's error should not echo back.
 */
final class BoundedExchange {
    private BoundedExchange() {}

    /** Thrown into the body's future when the limit is passed. */
    static final class TooLarge extends IOException {
        TooLarge(long max) {
            super("response larger than " + max + " bytes");
        }
    }

    static HttpResponse<byte[]> send(HttpClient client, HttpRequest request, long maxBytes, Duration timeout)
            throws InterruptedException {
        CompletableFuture<HttpResponse<byte[]>> f = client.sendAsync(request, handler(maxBytes));
        try {
            return f.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            f.cancel(true);
            throw e;
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new ToolException("no complete response within " + timeout.toMillis() + " ms");
        } catch (ExecutionException e) {
            throw failure(e.getCause());
        }
    }

    private static ToolException failure(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof TooLarge) {
                return new ToolException(t.getMessage());
            }
            if (t instanceof HttpConnectTimeoutException) {
                return new ToolException("could not connect in time", cause);
            }
            if (t instanceof HttpTimeoutException) {
                return new ToolException("no response in time", cause);
            }
            if (t instanceof ConnectException) {
                return new ToolException("could not connect", cause);
            }
        }
        return new ToolException("request failed (" + cause.getClass().getSimpleName() + ")", cause);
    }

    static HttpResponse.BodyHandler<byte[]> handler(long maxBytes) {
        return info -> {
            long declared = info.headers().firstValueAsLong("content-length").orElse(-1);
            return new Collector(maxBytes, declared > maxBytes);
        };
    }

    /** Collects the body up to {@code max} bytes; called by the client's threads, one signal at a time. */
    private static final class Collector implements HttpResponse.BodySubscriber<byte[]> {
        private final long max;
        private final boolean refuse;
        private final CompletableFuture<byte[]> result = new CompletableFuture<>();
        private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        private Flow.Subscription subscription;

        Collector(long max, boolean refuse) {
            this.max = max;
            this.refuse = refuse;
        }

        @Override
        public CompletionStage<byte[]> getBody() {
            return result;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            if (refuse) {
                tooLarge();
            } else {
                s.request(Long.MAX_VALUE);
            }
        }

        @Override
        public void onNext(List<ByteBuffer> items) {
            if (result.isDone()) {
                return;
            }
            for (ByteBuffer b : items) {
                if ((long) buffer.size() + b.remaining() > max) {
                    tooLarge();
                    return;
                }
                byte[] chunk = new byte[b.remaining()];
                b.get(chunk);
                buffer.write(chunk, 0, chunk.length);
            }
        }

        @Override
        public void onError(Throwable t) {
            result.completeExceptionally(t);
        }

        @Override
        public void onComplete() {
            result.complete(buffer.toByteArray());
        }

        private void tooLarge() {
            subscription.cancel();
            result.completeExceptionally(new TooLarge(max));
        }
    }
}
