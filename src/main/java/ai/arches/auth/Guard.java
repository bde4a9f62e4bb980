package ai.arches.auth;

import java.util.Optional;
import java.util.UUID;

import ai.arches.common.ForbiddenException;
import ai.arches.db.ReadYourWrites;
import ai.arches.graphql.Graphql;
import ai.arches.idempotency.Idempotency;

import graphql.schema.DataFetchingEnvironment;

import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * Route wrappers that resolve the caller once per request (credential check, session check and
 * rate limit, all in {@link Auth#authenticate}) and hand the handler a ready {@link Principal}.
 * Handlers never read the Authorization header themselves; organization-scoped routes build on
 * {@link #caller} (see {@code organizations.OrgGuard}). A POST that carries Idempotency-Key
 * runs through {@link Idempotency} here, keyed by the caller, so that every authenticated POST
 * honours the header and no handler reads it.
 */
public final class Guard {
    /** A handler that needs an authenticated caller: a user or an API key. */
    @FunctionalInterface
    public interface CallerHandler {
        void handle(Principal caller, ServerRequest req, ServerResponse res);
    }

    /** A handler that needs a signed-in user (API keys get 403). */
    @FunctionalInterface
    public interface UserHandler {
        void handle(Principal.User user, ServerRequest req, ServerResponse res);
    }

    /** A handler for which credentials are optional (bad ones are still 401). */
    @FunctionalInterface
    public interface OptionalCallerHandler {
        void handle(Optional<Principal> caller, ServerRequest req, ServerResponse res);
    }

    private final Auth auth;
    private final Idempotency idempotency;

    public Guard(Auth auth, Idempotency idempotency) {
        this.auth = auth;
        this.idempotency = idempotency;
    }

    public Handler caller(CallerHandler h) {
        return (req, res) -> {
            Principal p = auth.authenticate(req);
            serve(p, req, res, () -> h.handle(p, req, res));
        };
    }

    public Handler user(UserHandler h) {
        return (req, res) -> {
            if (auth.authenticate(req) instanceof Principal.User u) {
                serve(u, req, res, () -> h.handle(u, req, res));
                return;
            }
            throw new ForbiddenException("this endpoint needs a user's access token, not an API key");
        };
    }

    /** Idempotency-Key applies only when credentials were sent: keys belong to a caller. */
    public Handler optionalCaller(OptionalCallerHandler h) {
        return (req, res) -> {
            Optional<Principal> p = auth.authenticateOptional(req);
            if (p.isPresent()) {
                serve(p.get(), req, res, () -> h.handle(p, req, res));
            } else {
                h.handle(p, req, res);
            }
        };
    }

    /**
     * Runs the handler as the caller: its reads see its own writes (replicas), and a POST with
     * Idempotency-Key is answered once per key.
     */
    private void serve(Principal p, ServerRequest req, ServerResponse res, Runnable handler) {
        Runnable run = Idempotency.applies(req) ? () -> idempotency.handle(owner(p), req, res, handler) : handler;
        ReadYourWrites.as((p instanceof Principal.User ? "u:" : "k:") + owner(p), run);
    }

    /**
     * The caller of a GraphQL request: the /graphql routes are wrapped by {@link #caller}, so it
     * was resolved (and rate-limited) once, as for any route, before any resolver runs.
     */
    public static Principal caller(DataFetchingEnvironment env) {
        return Graphql.caller(env, Principal.class);
    }

    /** Whose keys and writes: a user's across their sessions, an API key's own. */
    private static UUID owner(Principal p) {
        return switch (p) {
            case Principal.User u -> u.userId();
            case Principal.ApiKey k -> k.keyId();
        };
    }
}
