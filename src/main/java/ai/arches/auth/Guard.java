package ai.arches.auth;

import java.util.Optional;

import ai.arches.common.ForbiddenException;
import ai.arches.db.ReadYourWrites;
import ai.arches.graphql.Graphql;

import graphql.schema.DataFetchingEnvironment;

import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * Route wrappers that resolve the caller once per request (credential check, session check and
 * rate limit, all in {@link Auth#authenticate}) and hand the handler a ready {@link Principal}.
 * Handlers never read the Authorization header themselves; organization-scoped routes build on
 * {@link #caller} (see {@code organizations.OrgGuard}).
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

    public Guard(Auth auth) {
        this.auth = auth;
    }

    public Handler caller(CallerHandler h) {
        return (req, res) -> {
            Principal p = auth.authenticate(req);
            ReadYourWrites.as(key(p), () -> h.handle(p, req, res));
        };
    }

    public Handler user(UserHandler h) {
        return (req, res) -> {
            if (auth.authenticate(req) instanceof Principal.User u) {
                ReadYourWrites.as(key(u), () -> h.handle(u, req, res));
                return;
            }
            throw new ForbiddenException("this endpoint needs a user's access token, not an API key");
        };
    }

    public Handler optionalCaller(OptionalCallerHandler h) {
        return (req, res) -> {
            Optional<Principal> p = auth.authenticateOptional(req);
            if (p.isPresent()) {
                ReadYourWrites.as(key(p.get()), () -> h.handle(p, req, res));
            } else {
                h.handle(p, req, res);
            }
        };
    }

    /**
     * The caller of a GraphQL request: the /graphql routes are wrapped by {@link #caller}, so it
     * was resolved (and rate-limited) once, as for any route, before any resolver runs.
     */
    public static Principal caller(DataFetchingEnvironment env) {
        return Graphql.caller(env, Principal.class);
    }

    /** Whose writes a read must show: a user's (from any of their sessions) or an API key's. */
    private static String key(Principal p) {
        return switch (p) {
            case Principal.User u -> "u:" + u.userId();
            case Principal.ApiKey k -> "k:" + k.keyId();
        };
    }
}
