package ai.arches.auth;

import java.util.List;
import java.util.Optional;

import ai.arches.common.ForbiddenException;
import ai.arches.common.UnauthenticatedException;
import ai.arches.http.ApiRouter;
import ai.arches.http.ClientAddresses;
import ai.arches.http.Input;
import ai.arches.http.JsonIo;

import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/** /auth/* and /users/me. */
public final class AuthRoutes {
    static final List<String> USER_FIELDS = List.of("id", "email", "name", "createdAt", "updatedAt");
    private static final int PASSWORD_MIN = 8;
    private static final int PASSWORD_MAX = 256;

    private final Auth auth;
    private final Guard guard;
    private final JsonIo io;

    public AuthRoutes(Auth auth, Guard guard, JsonIo io) {
        this.auth = auth;
        this.guard = guard;
        this.io = io;
    }

    public void register(ApiRouter r, String base) {
        r.post(base + "/auth/register", this::registerUser);
        r.post(base + "/auth/login", this::login);
        r.post(base + "/auth/refresh", this::refresh);
        r.post(base + "/auth/logout", guard.optionalCaller(this::logout));
        r.get(base + "/users/me", guard.user(this::me));
        r.patch(base + "/users/me", guard.user(this::updateMe));
        r.post(base + "/users/me/password", guard.user(this::changePassword));
        r.delete(base + "/users/me/sessions", guard.user(this::signOutEverywhere));
    }

    private void registerUser(ServerRequest req, ServerResponse res) {
        Input in = io.readInput(req);
        String email = in.requiredString("email", 3, 254, Auth.EMAIL);
        String name = in.requiredString("name", 1, 200);
        String password = rawPassword(in, PASSWORD_MIN);
        in.validate();
        User user = auth.register(email, name, password, ClientAddresses.of(req));
        res.header(HeaderNames.LOCATION, "/api/v1/users/me");
        io.send(req, res, Status.CREATED_201, user);
    }

    private void login(ServerRequest req, ServerResponse res) {
        Input in = io.readInput(req);
        String email = in.requiredString("email", 1, 254);
        // Any non-empty password may be tried: a wrong one is 401, never a hint about the rules.
        String password = rawPassword(in, 1);
        in.validate();
        noStore(res);
        io.send(req, res, Status.OK_200, auth.login(email, password, ClientAddresses.of(req)));
    }

    private void refresh(ServerRequest req, ServerResponse res) {
        Input in = io.readInput(req);
        String token = in.requiredString("refreshToken", 1, 200);
        in.validate();
        TokenPair pair = auth.refresh(token);
        noStore(res);
        io.send(req, res, Status.OK_200, pair);
    }

    /** Ends the caller's session; a refresh token in the body is revoked too (or alone). */
    private void logout(Optional<Principal> principal, ServerRequest req, ServerResponse res) {
        Optional<String> refresh = Optional.empty();
        if (req.content().hasEntity() && req.headers().contentLength().orElse(1) > 0) {
            Input in = io.readInput(req);
            refresh = in.optionalString("refreshToken", 1, 200);
            in.validate();
        }
        if (principal.isEmpty() && refresh.isEmpty()) {
            throw new UnauthenticatedException("send an access token, or a refreshToken in the body");
        }
        if (principal.isPresent() && principal.get() instanceof Principal.ApiKey) {
            throw new ForbiddenException("API keys have no session to end; delete the key instead");
        }
        auth.logout(principal.map(p -> (Principal.User) p), refresh);
        res.status(Status.NO_CONTENT_204).send();
    }

    /** Needs the current password; ends the caller's other sessions, keeps theirs. */
    private void changePassword(Principal.User caller, ServerRequest req, ServerResponse res) {
        Input in = io.readInput(req);
        // Any non-empty current password may be tried; the new one follows the registration rules.
        String current = rawPassword(in, "currentPassword", 1);
        String next = rawPassword(in, "newPassword", PASSWORD_MIN);
        in.validate();
        auth.changePassword(caller, current, next);
        res.status(Status.NO_CONTENT_204).send();
    }

    /** Sign out everywhere: every session of the caller ends, this one too. */
    private void signOutEverywhere(Principal.User caller, ServerRequest req, ServerResponse res) {
        auth.signOutEverywhere(caller);
        res.status(Status.NO_CONTENT_204).send();
    }

    private void me(Principal.User caller, ServerRequest req, ServerResponse res) {
        io.send(req, res, Status.OK_200, auth.user(caller.userId()), USER_FIELDS);
    }

    private void updateMe(Principal.User session, ServerRequest req, ServerResponse res) {
        var caller = session.userId();
        Input in = io.readInput(req);
        in.requireAnyOf("name");
        Optional<String> name = in.optionalString("name", 1, 200);
        in.validate();
        User user = name.map(n -> auth.rename(caller, n)).orElseGet(() -> auth.user(caller));
        io.send(req, res, Status.OK_200, user, USER_FIELDS);
    }

    /** Token pairs must not be kept by any cache between the server and the client. */
    private static void noStore(ServerResponse res) {
        res.header(HeaderNames.CACHE_CONTROL, "no-store");
        res.header(HeaderNames.PRAGMA, "no-cache");
    }

    private static String rawPassword(Input in, int min) {
        return rawPassword(in, "password", min);
    }

    /** Passwords are taken as typed: no trimming, length in characters. */
    private static String rawPassword(Input in, String field, int min) {
        var node = in.raw().get(field);
        in.has(field);
        if (node == null || node.isNull()) {
            in.error(field, "is required");
            return null;
        }
        if (!node.isTextual()) {
            in.error(field, "must be a string");
            return null;
        }
        String p = node.textValue();
        int len = p.codePointCount(0, p.length());
        if (len < min || len > PASSWORD_MAX) {
            in.error(field, "must be " + min + " to " + PASSWORD_MAX + " characters");
            return null;
        }
        return p;
    }
}
