package ai.arches.observability;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

import ai.arches.http.BearerToken;

import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * Handlers for /health (liveness: answers without touching any dependency, for load balancers),
 * /ready (200 while every dependency the node needs answers, reporting "degraded" ones it can do
 * without, else 503 naming which) and /metrics (Prometheus text, behind {@code metrics.token}
 * when one is set).
 */
public final class OpsRoutes {
    /** UP; DEGRADED: the node serves, slower or with less (e.g. no shared cache); DOWN: it cannot. */
    public enum Health { UP, DEGRADED, DOWN }

    private final Metrics metrics;
    private final Map<String, Supplier<Health>> checks;
    private final BearerToken token;
    private volatile boolean draining;

    public OpsRoutes(Metrics metrics, Map<String, Supplier<Health>> checks) {
        this(metrics, checks, "");
    }

    /** {@code metricsToken} empty: /metrics is open; else it needs that bearer token. */
    public OpsRoutes(Metrics metrics, Map<String, Supplier<Health>> checks, String metricsToken) {
        this.metrics = metrics;
        this.checks = Map.copyOf(checks);
        this.token = new BearerToken(metricsToken, "metrics.token");
    }

    public void health(ServerRequest req, ServerResponse res) {
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send("{\"status\":\"ok\"}".getBytes(StandardCharsets.UTF_8));
    }

    /** The node is stopping: /ready answers 503 from now on, so balancers send it nothing new. */
    public void drain() {
        draining = true;
    }

    public void ready(ServerRequest req, ServerResponse res) {
        if (draining) {
            res.status(Status.SERVICE_UNAVAILABLE_503);
            res.header(HeaderNames.CONTENT_TYPE, "application/json");
            res.send("{\"status\":\"draining\",\"checks\":{}}".getBytes(StandardCharsets.UTF_8));
            return;
        }
        Map<String, String> results = new LinkedHashMap<>();
        boolean ok = true;
        boolean degraded = false;
        for (var e : new java.util.TreeMap<>(checks).entrySet()) {
            Health h = e.getValue().get();
            ok &= h != Health.DOWN;
            degraded |= h == Health.DEGRADED;
            results.put(e.getKey(), h.name().toLowerCase(java.util.Locale.ROOT));
        }
        String status = !ok ? "unavailable" : degraded ? "degraded" : "ready";
        StringBuilder body = new StringBuilder("{\"status\":\"").append(status)
                .append("\",\"checks\":{");
        String sep = "";
        for (var e : results.entrySet()) {
            body.append(sep).append('"').append(e.getKey()).append("\":\"").append(e.getValue()).append('"');
            sep = ",";
        }
        body.append("}}");
        res.status(ok ? Status.OK_200 : Status.SERVICE_UNAVAILABLE_503);
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send(body.toString().getBytes(StandardCharsets.UTF_8));
    }

    public void metrics(ServerRequest req, ServerResponse res) {
        token.check(req);
        res.header(HeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
        res.send(metrics.scrape().getBytes(StandardCharsets.UTF_8));
    }
}
