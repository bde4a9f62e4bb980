package ai.arches.observability;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;

import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * Handlers for /health (liveness: answers without touching any dependency, for load balancers),
 * /ready (every named dependency answers, else 503 naming which) and /metrics (Prometheus text).
 */
public final class OpsRoutes {
    private final Metrics metrics;
    private final Map<String, BooleanSupplier> checks;

    public OpsRoutes(Metrics metrics, Map<String, BooleanSupplier> checks) {
        this.metrics = metrics;
        this.checks = Map.copyOf(checks);
    }

    public void health(ServerRequest req, ServerResponse res) {
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send("{\"status\":\"ok\"}".getBytes(StandardCharsets.UTF_8));
    }

    public void ready(ServerRequest req, ServerResponse res) {
        Map<String, String> results = new LinkedHashMap<>();
        boolean ok = true;
        for (var e : new java.util.TreeMap<>(checks).entrySet()) {
            boolean up = e.getValue().getAsBoolean();
            ok &= up;
            results.put(e.getKey(), up ? "up" : "down");
        }
        StringBuilder body = new StringBuilder("{\"status\":\"").append(ok ? "ready" : "unavailable")
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
        res.header(HeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
        res.send(metrics.scrape().getBytes(StandardCharsets.UTF_8));
    }
}
