package ai.arches.observability;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.core.instrument.Meter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * The process's meter registry (Prometheus format) with JVM meters bound, and the HTTP request
 * timer. Latency histograms use fixed buckets around the guide's targets (50 ms p50, 200 ms p95,
 * 500 ms p99) rather than Micrometer's ~70 default buckets per series, which keeps /metrics small.
 * Timers are built once per (method, endpoint, status) and found again without allocating
 * ({@link HttpTimers}); endpoint is a route template.
 */
public final class Metrics implements AutoCloseable {
    private static final Duration[] BUCKETS = {
        Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10),
        Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(200),
        Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5),
        Duration.ofSeconds(10)
    };

    /** RFC 9110's methods plus PATCH; any other token shares {@link #OTHER}. */
    public static final List<String> METHODS =
            List.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT");
    public static final String OTHER = "other";

    private final PrometheusMeterRegistry registry;
    private final JvmGcMetrics gc;
    private final HttpTimers httpTimers;

    public Metrics() {
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        // promtool's lint rejects two of Micrometer's JVM meter names: a "_count" suffix on a
        // gauge and an abbreviated unit ("_ns"); rename the first, drop the second (process CPU
        // usage is still exported as process_cpu_usage).
        registry.config().meterFilter(MeterFilter.deny(id -> id.getName().equals("process.cpu.time")));
        registry.config().meterFilter(new MeterFilter() {
            @Override
            public Meter.Id map(Meter.Id id) {
                return id.getName().equals("system.cpu.count") ? id.withName("system.cpus") : id;
            }

            @Override
            public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
                if (id.getType() == Meter.Type.TIMER && (id.getName().equals("http.request.duration")
                        || id.getName().equals("db.query.duration"))) {
                    return DistributionStatisticConfig.builder()
                            .percentilesHistogram(false)
                            .serviceLevelObjectives(slo())
                            .build()
                            .merge(config);
                }
                return config;
            }
        });
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        gc = new JvmGcMetrics();
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        httpTimers = new HttpTimers(registry);
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /**
     * Every label comes from a closed set, so no client can grow /metrics: the method is a
     * standard one or {@code other}, the endpoint a registered route template or
     * {@code unmatched} (the caller's job), the status a three-digit code or {@code other}.
     */
    public void recordRequest(String method, String endpoint, int status, long nanos) {
        httpTimers.timer(method, endpoint, status).record(nanos, TimeUnit.NANOSECONDS);
    }

    /** The method as a metric label or log field: one of {@link #METHODS}, else {@code other}. */
    public static String method(String raw) {
        return raw != null && METHODS.contains(raw) ? raw : OTHER;
    }

    /** Prometheus text exposition format 0.0.4. */
    public String scrape() {
        return registry.scrape();
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }

    private static double[] slo() {
        double[] out = new double[BUCKETS.length];
        for (int i = 0; i < BUCKETS.length; i++) {
            out[i] = BUCKETS[i].toNanos();
        }
        return out;
    }
}
