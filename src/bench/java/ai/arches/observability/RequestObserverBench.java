package ai.arches.observability;

import java.io.FileOutputStream;
import java.io.FileNotFoundException;
import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Clock;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.StreamHandler;

import ai.arches.common.ClientAddress;

import io.helidon.common.context.Context;
import io.helidon.common.socket.PeerInfo;
import io.helidon.http.HttpPrologue;
import io.helidon.http.Method;
import io.helidon.http.RoutedPath;
import io.helidon.http.ServerRequestHeaders;
import io.helidon.http.Status;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * What {@link RequestObserver} costs a request once the handler has run: request id, timer
 * lookup and record, and the access line, with 4 threads sharing one log sink as a node's
 * requests do (JUL configured as Main does, so the level check is the real one). The sink is
 * /dev/null through a real file descriptor, so each write is a real system call but nothing
 * waits on a disk or a reader. The count of dropped access lines is printed at the end. Requests, responses and the chain are
 * proxies answering the few calls the filter makes; their cost is the same before and after.
 *
 * <p>Measured on the shared 2-core box (load average 4-5 from other builds, so errors are wide):
 * JUL on the request thread 21.8 ± 19.0 µs/op (handlerWork 0) and 70.7 ± 114 µs/op (2000);
 * AccessLog 1.42 ± 0.51 µs/op (0, 94% of lines dropped: 4 threads outrun one writer) and
 * 24.9 ± 6.9 µs/op (2000, 46% dropped: the writer gets little CPU on the oversubscribed box).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Threads(4)
public class RequestObserverBench {
    /**
     * Blackhole tokens the "handler" burns per request. 0 measures the filter alone, with the
     * log writer saturated; 2000 (a few µs) paces the threads nearer a real node's request rate.
     */
    @Param({"0", "2000"})
    public long handlerWork;

    private Metrics metrics;
    private FilterChain chain;
    private RequestObserver observer;
    private Handler handler;
    private AccessLog accessLog;

    @Setup
    public void setup() throws FileNotFoundException {
        metrics = new Metrics();
        // As Main configures logging: one console-like handler on the root, flushed per record.
        LogManager.getLogManager().reset();
        handler = new StreamHandler(new FileOutputStream("/dev/null"), new JsonLogFormatter()) {
            @Override
            public synchronized void publish(LogRecord record) {
                super.publish(record);
                flush();
            }
        };
        handler.setLevel(java.util.logging.Level.INFO);
        Logger.getLogger("").addHandler(handler);
        Logger.getLogger("").setLevel(java.util.logging.Level.INFO);
        accessLog = new AccessLog(new FileOutputStream("/dev/null"), 4096, Clock.systemUTC(), metrics.registry());
        observer = new RequestObserver(metrics, accessLog);
        long work = handlerWork;
        chain = () -> Blackhole.consumeCPU(work);
    }

    @TearDown
    public void tearDown() {
        // A queue that overflows makes the run look cheaper than writing every line: say how often.
        long observed = metrics.registry().get("http.request.duration").timer().count();
        accessLog.close();
        System.out.printf("%nobserved %d requests, dropped %d access lines (%.2f%%)%n",
                observed, accessLog.dropped(), 100.0 * accessLog.dropped() / Math.max(1, observed));
        handler.close();
        metrics.close();
    }

    /** One thread's request and response; the filter reads the same values each time. */
    @State(Scope.Thread)
    public static class Exchange {
        RoutingRequest req;
        RoutingResponse res;

        @Setup(Level.Trial)
        public void setup() throws UnknownHostException {
            Context context = Context.create();
            context.register(new ClientAddress(InetAddress.getByName("203.0.113.9")));
            String path = "/api/v1/organizations/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/content/0190a1b2-c3d4-7e5f-8a9b-6c7d8e9fa0b1";
            ServerRequestHeaders headers = fake(ServerRequestHeaders.class, Map.of("first", Optional.empty()));
            PeerInfo peer = fake(PeerInfo.class, Map.of("host", "127.0.0.1"));
            RoutedPath routed = fake(RoutedPath.class, Map.of("rawPath", path));
            HttpPrologue prologue = HttpPrologue.create("HTTP/1.1", "HTTP", "1.1", Method.GET, path, false);
            req = fake(RoutingRequest.class, Map.of(
                    "headers", headers,
                    "context", context,
                    "prologue", prologue,
                    "matchingPattern", Optional.of("/api/v1/organizations/{org}/content/{id}"),
                    "path", routed,
                    "remotePeer", peer));
            res = fake(RoutingResponse.class, Map.of("status", Status.OK_200));
        }
    }

    @Benchmark
    public void observe(Exchange x) {
        observer.filter(chain, x.req, x.res);
    }

    /** A proxy answering the named methods with fixed values; {@code header(..)} returns itself. */
    private static <T> T fake(Class<T> type, Map<String, Object> answers) {
        return type.cast(Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (self, m, args) -> {
            if (answers.containsKey(m.getName())) {
                return answers.get(m.getName());
            }
            if (m.getName().equals("header")) {
                return self;
            }
            throw new UnsupportedOperationException(type.getSimpleName() + "." + m.getName());
        }));
    }
}
