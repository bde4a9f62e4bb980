package ai.arches.auth;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

import ai.arches.cache.Caches;
import ai.arches.cache.TieredCache;
import ai.arches.common.ConflictException;
import ai.arches.common.ForbiddenException;
import ai.arches.common.RateLimitStatus;
import ai.arches.common.RateLimitedException;
import ai.arches.common.Ids;
import ai.arches.common.NotFoundException;
import ai.arches.common.UnauthenticatedException;
import ai.arches.config.ArchesConfig;
import ai.arches.db.Database;
import ai.arches.ratelimit.RateLimiter;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;

/**
 * Accounts and sessions: registration, login, refresh-token rotation, logout, and turning a
 * request's bearer credential into a {@link Principal}. The public entry type of the feature.
 *
 * <p>A login starts a session: a refresh-token family. Refreshing rotates the token within the
 * family; presenting an already-rotated token means it leaked, so the whole family is revoked.
 * Access tokens expire after {@code auth.access_token_ttl}, and each use also checks that their
 * session is live ({@link Sessions}), so logout, refresh-token reuse, a password change and
 * sign-out-everywhere end them within a second on every node.
 */
public final class Auth {
    public static final Pattern EMAIL = Pattern.compile("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$");
    private static final String BEARER = "bearer ";

    private final Database db;
    private final AuthStore store = new AuthStore();
    private final Passwords passwords;
    private final Tokens tokens;
    private final ApiKeys apiKeys;
    private final Sessions sessions;
    private final Duration refreshTtl;
    private final Clock clock;

    private final TieredCache<User> users;
    private final RateLimiter limiter;
    private final ArchesConfig.RateLimit limits;

    public Auth(Database db, ArchesConfig.Auth cfg, Tokens tokens, ApiKeys apiKeys, Clock clock, Caches caches,
                RateLimiter limiter, ArchesConfig.RateLimit limits) {
        this.db = db;
        this.limiter = limiter;
        this.limits = limits;
        this.users = caches.cache("users", User.class, u -> ChronoUnit.MICROS.between(Instant.EPOCH, u.updatedAt()));
        this.passwords = new Passwords(cfg.password());
        this.tokens = tokens;
        this.apiKeys = apiKeys;
        this.sessions = new Sessions(db, caches);
        this.refreshTtl = cfg.refreshTokenTtl();
        this.clock = clock;
    }

    public static String normalizeEmail(String email) {
        return email.strip().toLowerCase(Locale.ROOT);
    }

    public User register(String email, String name, String password) {
        Instant now = now();
        User user = new User(Ids.newId(), normalizeEmail(email), name, now, now);
        String hash = passwords.hash(password);
        boolean inserted = db.withHandle(h -> store.insertUser(h, user, hash));
        if (!inserted) {
            throw new ConflictException("an account with this email already exists");
        }
        return user;
    }

    /**
     * Checks a password. Failed attempts are counted per account and per client address, each
     * with its own limit; once either is spent, attempts are refused (429) before any password is
     * hashed, until the window passes.
     */
    public TokenPair login(String email, String password, String address) {
        String account = "login:account:" + normalizeEmail(email);
        String from = "login:address:" + address;
        if (limits.enabled()) {
            var a = limiter.peek(account, limits.loginMaxFailuresPerAccount(), limits.loginWindow());
            var b = limiter.peek(from, limits.loginMaxFailuresPerAddress(), limits.loginWindow());
            if (!a.allowed() || !b.allowed()) {
                var st = !a.allowed() ? a.status() : b.status();
                throw new RateLimitedException("too many failed logins for this " + (!a.allowed() ? "account" : "address")
                        + "; try again in " + st.retryAfterSeconds() + " s", st);
            }
        }
        var creds = db.withHandle(h -> store.credentials(h, normalizeEmail(email)));
        boolean ok;
        if (creds.isEmpty()) {
            passwords.verifyDecoy(password);
            ok = false;
        } else {
            ok = passwords.verify(password, creds.get().passwordHash());
        }
        if (!ok) {
            if (limits.enabled()) {
                limiter.take(account, limits.loginMaxFailuresPerAccount(), limits.loginWindow());
                limiter.take(from, limits.loginMaxFailuresPerAddress(), limits.loginWindow());
            }
            throw new UnauthenticatedException("email or password is wrong");
        }
        UUID family = Ids.newId();
        String refresh = tokens.randomSecret("rt_");
        Instant now = now();
        db.withHandle(h -> {
            sessions.start(h, family, creds.get().id(), now);
            store.insertRefresh(h, creds.get().id(), family, Tokens.sha256(refresh), now, now.plus(refreshTtl));
            return null;
        });
        return pair(creds.get().id(), family, refresh);
    }

    private enum RefreshOutcome { OK, UNKNOWN, EXPIRED, REUSED, ENDED }

    private record Rotation(RefreshOutcome outcome, UUID userId, UUID familyId, String refresh) {}

    public TokenPair refresh(String refreshToken) {
        Instant now = now();
        // The family revocation on reuse must commit, so the outcome is returned, not thrown.
        Rotation r = db.inTransaction(h -> {
            var row = store.lockRefresh(h, Tokens.sha256(refreshToken));
            if (row.isEmpty()) {
                return new Rotation(RefreshOutcome.UNKNOWN, null, null, null);
            }
            var t = row.get();
            if (t.revokedAt() != null) {
                sessions.revoke(h, t.familyId(), now);
                return new Rotation(RefreshOutcome.REUSED, null, t.familyId(), null);
            }
            if (!t.expiresAt().isAfter(now)) {
                return new Rotation(RefreshOutcome.EXPIRED, null, null, null);
            }
            // Holds the session row, so a concurrent revocation waits and then sees the new token.
            if (!sessions.lockLive(h, t.familyId())) {
                return new Rotation(RefreshOutcome.ENDED, null, null, null);
            }
            store.revoke(h, t.id(), now);
            String next = tokens.randomSecret("rt_");
            store.insertRefresh(h, t.userId(), t.familyId(), Tokens.sha256(next), now, now.plus(refreshTtl));
            return new Rotation(RefreshOutcome.OK, t.userId(), t.familyId(), next);
        });
        if (r.outcome() == RefreshOutcome.REUSED) {
            sessions.forget(List.of(r.familyId()));
        }
        return switch (r.outcome()) {
            case OK -> pair(r.userId(), r.familyId(), r.refresh());
            case ENDED -> throw new UnauthenticatedException("the session has ended; log in again");
            case UNKNOWN -> throw new UnauthenticatedException("refresh token is not valid");
            case EXPIRED -> throw new UnauthenticatedException("refresh token has expired; log in again");
            case REUSED -> throw new UnauthenticatedException(
                    "refresh token was already used; the session is revoked, log in again");
        };
    }

    /** Ends the session of the access token and, if given, of a refresh token. */
    public void logout(Optional<Principal.User> user, Optional<String> refreshToken) {
        Instant now = now();
        List<UUID> ended = db.inTransaction(h -> {
            List<UUID> ids = new ArrayList<>();
            user.ifPresent(u -> ids.addAll(sessions.revoke(h, u.sessionId(), now)));
            refreshToken.flatMap(t -> store.familyOf(h, Tokens.sha256(t)))
                    .ifPresent(f -> ids.addAll(sessions.revoke(h, f, now)));
            return ids;
        });
        sessions.forget(ended);
    }

    /**
     * Changes the caller's password and ends every other session of theirs; the caller's own
     * session stays. A wrong current password is 403 and counts as a failed login for the account
     * (the same bucket {@link #login} spends), so a stolen access token cannot guess it freely.
     */
    public void changePassword(Principal.User caller, String currentPassword, String newPassword) {
        User user = user(caller.userId());
        // Keep in step with the account key in login(): both spend one failure budget.
        String account = "login:account:" + user.email();
        if (limits.enabled()) {
            var a = limiter.peek(account, limits.loginMaxFailuresPerAccount(), limits.loginWindow());
            if (!a.allowed()) {
                throw new RateLimitedException("too many failed password checks for this account; try again in "
                        + a.status().retryAfterSeconds() + " s", a.status());
            }
        }
        var creds = db.withHandle(h -> store.credentials(h, user.email()))
                .orElseThrow(() -> new UnauthenticatedException("the account no longer exists"));
        if (!passwords.verify(currentPassword, creds.passwordHash())) {
            if (limits.enabled()) {
                limiter.take(account, limits.loginMaxFailuresPerAccount(), limits.loginWindow());
            }
            throw new ForbiddenException("the current password is wrong");
        }
        String hash = passwords.hash(newPassword);
        Instant now = now();
        List<UUID> ended = db.inTransaction(h -> {
            store.setPassword(h, caller.userId(), hash, now);
            return sessions.revokeAllOf(h, caller.userId(), Optional.of(caller.sessionId()), now);
        });
        sessions.forget(ended);
        users.invalidate(caller.userId().toString());
    }

    /** Ends every session of the user, the caller's included. */
    public void signOutEverywhere(Principal.User caller) {
        List<UUID> ended = db.inTransaction(h -> sessions.revokeAllOf(h, caller.userId(), Optional.empty(), now()));
        sessions.forget(ended);
    }

    public User user(UUID id) {
        return users.get(id.toString(), () -> db.withHandle(h -> store.user(h, id)))
                .orElseThrow(() -> new UnauthenticatedException("the account no longer exists"));
    }

    public Optional<User> userByEmail(String email) {
        return db.withHandle(h -> store.userByEmail(h, normalizeEmail(email)));
    }

    public User rename(UUID id, String name) {
        User u = db.withHandle(h -> store.rename(h, id, name, now()))
                .orElseThrow(() -> new NotFoundException("the account no longer exists"));
        users.put(id.toString(), u);
        return u;
    }

    /**
     * The caller, from {@code Authorization: Bearer <access token | API key>}; 401 otherwise.
     * Each call takes one token from the caller's rate limit (per user, per API key): 429 when
     * none is left; the standing goes into the request context for the RateLimit-* headers.
     */
    public Principal authenticate(ServerRequest req) {
        Principal p = credential(req).map(this::principalFor)
                .orElseThrow(() -> new UnauthenticatedException("missing credentials: send Authorization: Bearer <token>"));
        limit(req, p);
        return p;
    }

    /** The caller if credentials were sent; 401 if they were sent and are bad. */
    public Optional<Principal> authenticateOptional(ServerRequest req) {
        Optional<Principal> p = credential(req).map(this::principalFor);
        p.ifPresent(principal -> limit(req, principal));
        return p;
    }

    private void limit(ServerRequest req, Principal p) {
        if (!limits.enabled() || req.context().get(RateLimitStatus.class).isPresent()) {
            return;
        }
        String key = switch (p) {
            case Principal.User u -> "user:" + u.userId();
            case Principal.ApiKey k -> "key:" + k.keyId();
        };
        RateLimiter.Decision d = limiter.consume(key, limits.maxRequests(), limits.window());
        req.context().register(d.status());
        if (!d.allowed()) {
            throw new RateLimitedException("rate limit of " + limits.maxRequests() + " requests per "
                    + limits.window().toSeconds() + " s reached; retry in " + d.status().retryAfterSeconds() + " s",
                    d.status());
        }
    }

    private Principal principalFor(String credential) {
        if (credential.startsWith(ApiKeys.PREFIX)) {
            return apiKeys.authenticate(credential)
                    .orElseThrow(() -> new UnauthenticatedException("API key is not valid"));
        }
        Principal.User user = tokens.verifyAccess(credential)
                .orElseThrow(() -> new UnauthenticatedException("access token is invalid or expired"));
        if (!sessions.live(user.sessionId(), user.userId())) {
            throw new UnauthenticatedException("the session of this access token has ended; log in again");
        }
        return user;
    }

    private static Optional<String> credential(ServerRequest req) {
        Optional<String> header = req.headers().first(HeaderNames.AUTHORIZATION);
        if (header.isEmpty()) {
            return Optional.empty();
        }
        String v = header.get().strip();
        if (v.length() <= BEARER.length() || !v.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            throw new UnauthenticatedException("Authorization must be 'Bearer <token>'");
        }
        return Optional.of(v.substring(BEARER.length()).strip());
    }

    private TokenPair pair(UUID userId, UUID family, String refresh) {
        return new TokenPair(tokens.issueAccess(userId, family), refresh, "Bearer", tokens.accessTtlSeconds());
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }
}
