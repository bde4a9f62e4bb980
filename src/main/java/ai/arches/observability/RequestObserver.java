package ai.arches.observability;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

import ai.arches.common.ClientAddress;

import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;

/**
 * The first filter on every request: assigns the request id (kept from X-Request-Id when plain,
 * echoed back), times the request into {@code http_request_duration_seconds} by route template,
 * and writes one structured access-log line. Errors are turned into responses inside the chain,
 * so the status read after {@code proceed()} is the one the client got.
 */
public final class RequestObserver implements Filter {
    private static final Logger ACCESS = Logger.getLogger("arches.access");
    private static final HeaderName X_REQUEST_ID = HeaderNames.create("X-Request-Id");

    /** Paths are logged (JSON-escaped) up to this length, so one request cannot write kilobytes. */
    private static final int MAX_LOGGED_PATH = 512;

    private final Metrics metrics;
    private final boolean accessLog;

    public RequestObserver(Metrics metrics, boolean accessLog) {
        this.metrics = metrics;
        this.accessLog = accessLog;
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        long start = System.nanoTime();
        RequestId id = RequestId.fromHeader(req.headers().first(X_REQUEST_ID).orElse(null));
        req.context().register(id);
        res.header(X_REQUEST_ID, id.value());
        try {
            chain.proceed();
        } finally {
            long nanos = System.nanoTime() - start;
            String method = Metrics.method(req.prologue().method().text());
            String endpoint = req.matchingPattern().filter(p -> !p.isEmpty()).orElse("unmatched");
            int status = res.status().code();
            metrics.recordRequest(method, endpoint, status, nanos);
            if (accessLog && ACCESS.isLoggable(Level.INFO)) {
                Map<String, Object> fields = new LinkedHashMap<>();
                fields.put("requestId", id.value());
                fields.put("method", method);
                fields.put("path", truncate(req.path().rawPath()));
                fields.put("route", endpoint);
                fields.put("status", status);
                fields.put("durationMs", Math.round(nanos / 10_000.0) / 100.0);
                // The client the ClientAddresses filter resolved (through trusted proxies), else the peer.
                fields.put("remote", req.context().get(ClientAddress.class)
                        .map(c -> c.address().getHostAddress()).orElse(req.remotePeer().host()));
                ACCESS.log(Level.INFO, "request", new Object[] {fields});
            }
        }
    }

    private static String truncate(String path) {
        return path.length() <= MAX_LOGGED_PATH ? path : path.substring(0, MAX_LOGGED_PATH) + "…";
    }
}
