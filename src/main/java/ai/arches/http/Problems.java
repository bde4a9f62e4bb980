package ai.arches.http;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Level;
import java.util.logging.Logger;

import ai.arches.common.ArchesException;
import ai.arches.common.ConflictException;
import ai.arches.common.FieldError;
import ai.arches.common.MethodNotAllowedException;
import ai.arches.common.RateLimitStatus;
import ai.arches.common.RateLimitedException;
import ai.arches.common.ServiceUnavailableException;
import ai.arches.observability.RequestId;

import io.helidon.http.HeaderNames;
import io.helidon.http.HttpException;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * The one place that turns failures into RFC 9457 problem+json: the {@link ArchesException}
 * family by its own status, Helidon's HTTP exceptions (unknown route, 405), and anything else as
 * a 500 whose detail never leaks internals (the log has it, under the request id).
 */
public final class Problems {
    /** A database that restarts is back within seconds here (a fast restart took about 1 s). */
    private static final String RETRY_AFTER_SECONDS = "1";

    private static final Logger LOG = Logger.getLogger(Problems.class.getName());
    static final String TYPE_PREFIX = "urn:arches:problem:";

    /** A failure as a client sees it: {@code type} is the problem type's URI. */
    public record Problem(int status, String type, String title, String detail, List<FieldError> errors) {}

    private final JsonIo io;
    private final ApiRouter router;

    private Problems(JsonIo io, ApiRouter router) {
        this.io = io;
        this.router = router;
    }

    public static void register(HttpRouting.Builder routing, JsonIo io, ApiRouter router) {
        Problems p = new Problems(io, router);
        routing.error(ArchesException.class, p::arches);
        routing.error(HttpException.class, p::http);
        routing.error(Throwable.class, p::unexpected);
    }

    private void arches(ServerRequest req, ServerResponse res, ArchesException e) {
        Problem p = describe(e, requestId(req));
        if (e.status() == 401) {
            res.header(HeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"arches\"");
        }
        if (e instanceof RateLimitedException limited) {
            res.header(HeaderNames.RETRY_AFTER, Long.toString(limited.limit().retryAfterSeconds()));
            if (req.context().get(RateLimitStatus.class).isEmpty()) {
                req.context().register(limited.limit());
            }
        }
        if (e instanceof ServiceUnavailableException unavailable && unavailable.retryAfterSeconds() > 0) {
            res.header(HeaderNames.RETRY_AFTER, Long.toString(unavailable.retryAfterSeconds()));
        }
        if (e instanceof ConflictException conflict && conflict.retryAfterSeconds() > 0) {
            res.header(HeaderNames.RETRY_AFTER, Long.toString(conflict.retryAfterSeconds()));
        }
        if (e instanceof MethodNotAllowedException notAllowed) {
            res.header(HeaderNames.ALLOW, String.join(", ", notAllowed.allowed()));
        }
        send(req, res, p);
    }

    private void http(ServerRequest req, ServerResponse res, HttpException e) {
        int code = e.status().code();
        if (code == 404) {
            Set<String> allowed = router.methodsFor(req.path().rawPath());
            if (!allowed.isEmpty()) {
                res.header(HeaderNames.ALLOW, String.join(", ", allowed));
                send(req, res, 405, TYPE_PREFIX + "method-not-allowed", "Method not allowed",
                        req.prologue().method().text() + " is not served here; allowed: " + String.join(", ", allowed),
                        List.of());
                return;
            }
            send(req, res, 404, TYPE_PREFIX + "not-found", "Not found", "no route for " + req.path().rawPath(), List.of());
            return;
        }
        if (code >= 500) {
            unexpected(req, res, e);
            return;
        }
        send(req, res, code, TYPE_PREFIX + "http-" + code, e.status().reasonPhrase(), e.getMessage(), List.of());
    }

    private void unexpected(ServerRequest req, ServerResponse res, Throwable e) {
        Problem p = describe(e, requestId(req));
        if (p.status() == 503) {
            res.header(HeaderNames.RETRY_AFTER, RETRY_AFTER_SECONDS);
        }
        send(req, res, p);
    }

    /**
     * What a client is told about a failure, for the problem+json here and for the errors of a
     * GraphQL response, which report the same types. Server-side failures are logged here, under
     * the request id; an unexpected one tells the client nothing of its cause.
     */
    public static Problem describe(Throwable e, String requestId) {
        if (e instanceof ArchesException a) {
            if (a.status() >= 500) {
                // A refusal for load is counted by its own metric; a flood of them would drown the log.
                // The cause carries diagnostics kept out of the response (pool state, provider reply).
                boolean shed = a instanceof ServiceUnavailableException s && s.retryAfterSeconds() > 0;
                LOG.log(shed ? Level.FINE : Level.WARNING, "request " + requestId + " failed: " + a.getMessage()
                        + (a.getCause() == null ? "" : " (" + a.getCause().getMessage() + ")"));
            }
            return new Problem(a.status(), TYPE_PREFIX + a.type(), a.title(), a.getMessage(), a.errors());
        }
        if (hasCause(e, SQLTransientConnectionException.class)) {
            LOG.log(Level.WARNING, "request " + requestId + ": database unavailable", e);
            return new Problem(503, TYPE_PREFIX + "unavailable", "Service unavailable",
                    "the database did not answer in time", List.of());
        }
        if (connectionLost(e)) {
            // The database restarted or dropped this connection (the pool replaces it): a retry
            // shortly after will find a new one. A write caught here may or may not have committed.
            LOG.log(Level.WARNING, "request " + requestId + ": database connection lost", e);
            return new Problem(503, TYPE_PREFIX + "unavailable", "Service unavailable",
                    "the connection to the database was lost (is it restarting?); retry shortly", List.of());
        }
        LOG.log(Level.SEVERE, "request " + requestId + " failed unexpectedly", e);
        return new Problem(500, TYPE_PREFIX + "internal", "Internal server error",
                "an unexpected error occurred; quote request id " + requestId + " when reporting it", List.of());
    }

    /**
     * PostgreSQL went away under the statement: SQLSTATE class 08 (connection exception),
     * 57P01-57P03 (shut down by an administrator or a crash, or not yet accepting connections),
     * 53300 (no connection slot left).
     */
    static boolean connectionLost(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && sql.getSQLState() != null) {
                String state = sql.getSQLState();
                if (state.startsWith("08") || state.equals("57P01") || state.equals("57P02") || state.equals("57P03")
                        || state.equals("53300")) {
                    return true;
                }
            }
        }
        return false;
    }

    private void send(ServerRequest req, ServerResponse res, Problem p) {
        send(req, res, p.status(), p.type(), p.title(), p.detail(), p.errors());
    }

    private void send(ServerRequest req, ServerResponse res, int status, String type, String title,
                      String detail, List<FieldError> errors) {
        if (res.isSent()) {
            return;
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("type", type);
        body.put("title", title);
        body.put("status", status);
        body.put("detail", detail);
        body.put("instance", req.path().rawPath());
        body.put("requestId", requestId(req));
        if (!errors.isEmpty()) {
            body.put("errors", errors);
        }
        try {
            io.write(req, res, Status.create(status), JsonIo.PROBLEM_JSON, Json.MAPPER.writeValueAsBytes(body));
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }

    /** The URI of a problem type, from its slug ({@code not-found}). */
    public static String type(String slug) {
        return TYPE_PREFIX + slug;
    }

    /** The request's id, as problems and logs quote it. */
    public static String requestId(ServerRequest req) {
        return req.context().get(RequestId.class).map(RequestId::value).orElse("none");
    }

    private static boolean hasCause(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return true;
            }
        }
        return false;
    }
}
