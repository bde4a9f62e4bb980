package ai.arches.observability;

import java.util.Optional;

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
 * and hands one access-log line to the {@link AccessLog}, which writes it on its own thread.
 * Errors are turned into responses inside the chain, so the status read after {@code proceed()}
 * is the one the client got.
 */
public final class RequestObserver implements Filter {
    private static final HeaderName X_REQUEST_ID = HeaderNames.create("X-Request-Id");

    private final Metrics metrics;
    private final AccessLog accessLog;

    /** {@code accessLog} null: no access lines. */
    public RequestObserver(Metrics metrics, AccessLog accessLog) {
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
            if (accessLog != null && accessLog.wanted()) {
                accessLog.log(id.value(), method, req.path().rawPath(), endpoint, status, nanos, remote(req));
            }
        }
    }

    /** The client the ClientAddresses filter resolved (through trusted proxies), else the peer. */
    private static String remote(RoutingRequest req) {
        Optional<ClientAddress> client = req.context().get(ClientAddress.class);
        return client.isPresent() ? client.get().address().getHostAddress() : req.remotePeer().host();
    }
}
