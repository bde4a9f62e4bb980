package ai.arches.observability;

import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * The {@code http.request.duration} timers by (endpoint, method, status), found without
 * allocating once built: the endpoint (a route template, whose hash the String caches) selects a
 * table, the method an index in it, and the status a short array scanned linearly (an endpoint
 * answers a handful of statuses). Labels stay in closed sets: the method is one of
 * {@link Metrics#METHODS} or {@code other}, the status 100..599 or {@code other}.
 *
 * <p>Concurrency: readers see immutable {@link Statuses} snapshots through the
 * {@code AtomicReferenceArray}; a miss builds the timer under the endpoint's lock and publishes
 * a copy with it appended, so each series is registered once.
 */
final class HttpTimers {
    /** Index {@code i < METHODS.size()} is {@code Metrics.METHODS.get(i)}; the last is other. */
    private static final int OTHER_METHOD = Metrics.METHODS.size();
    private static final int OTHER_STATUS = -1;

    private final MeterRegistry registry;
    private final ConcurrentHashMap<String, Endpoint> endpoints = new ConcurrentHashMap<>();

    HttpTimers(MeterRegistry registry) {
        this.registry = registry;
    }

    /** The timer for one request's labels; the endpoint must come from a closed set (the caller's job). */
    Timer timer(String method, String endpoint, int status) {
        Endpoint e = endpoints.get(endpoint);
        if (e == null) {
            e = endpoints.computeIfAbsent(endpoint, Endpoint::new);
        }
        return e.timer(methodIndex(method), status >= 100 && status <= 599 ? status : OTHER_STATUS);
    }

    /** List.indexOf compares with equals along the list: no allocation. */
    private static int methodIndex(String method) {
        int i = method == null ? -1 : Metrics.METHODS.indexOf(method);
        return i < 0 ? OTHER_METHOD : i;
    }

    /** Statuses seen for one (endpoint, method), with their timers at the same index. */
    private record Statuses(int[] codes, Timer[] timers) {
        static final Statuses NONE = new Statuses(new int[0], new Timer[0]);

        Timer find(int status) {
            for (int i = 0; i < codes.length; i++) {
                if (codes[i] == status) {
                    return timers[i];
                }
            }
            return null;
        }

        Statuses with(int status, Timer timer) {
            int[] c = Arrays.copyOf(codes, codes.length + 1);
            Timer[] t = Arrays.copyOf(timers, timers.length + 1);
            c[codes.length] = status;
            t[timers.length] = timer;
            return new Statuses(c, t);
        }
    }

    private final class Endpoint {
        private final String endpoint;
        private final AtomicReferenceArray<Statuses> byMethod = new AtomicReferenceArray<>(OTHER_METHOD + 1);

        Endpoint(String endpoint) {
            this.endpoint = endpoint;
            for (int i = 0; i <= OTHER_METHOD; i++) {
                byMethod.setPlain(i, Statuses.NONE);
            }
        }

        Timer timer(int method, int status) {
            Timer t = byMethod.get(method).find(status);
            return t != null ? t : build(method, status);
        }

        private synchronized Timer build(int method, int status) {
            Statuses seen = byMethod.get(method);
            Timer t = seen.find(status);
            if (t == null) {
                t = Timer.builder("http.request.duration")
                        .description("HTTP request latency by route template")
                        .tag("method", method == OTHER_METHOD ? Metrics.OTHER : Metrics.METHODS.get(method))
                        .tag("endpoint", endpoint)
                        .tag("status", status == OTHER_STATUS ? Metrics.OTHER : Integer.toString(status))
                        .register(registry);
                byMethod.set(method, seen.with(status, t));
            }
            return t;
        }
    }
}
