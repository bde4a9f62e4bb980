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
import ai.arches.common.ServiceUnavailableException;
import ai.arches.common.UnauthenticatedException;
import ai.arches.config.ArchesConfig;
import ai.arches.db.Database;
import ai.arches.common.ClientAddress;
import ai.arches.ratelimit.RateLimiter;

import io.helidon.http.HeaderNames;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
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
    private final VerifiedTokens verifiedTokens;
    private final ApiKeys apiKeys;
    private final Sessions sessions;
    private final Duration refreshTtl;
    private final Clock clock;

    private final TieredCache<User> users;
    private final RateLimiter limiter;
    private final ArchesConfig.RateLimit limits;

    public Auth(Database db, ArchesConfig.Auth cfg, Tokens tokens, ApiKeys apiKeys, Clock clock, Caches caches,
                RateLimiter limiter, ArchesConfig.RateLimit limits, MeterRegistry meters) {
        this.db = db;
        this.limiter = limiter;
        this.limits = limits;
        this.users = caches.cache("users", User.class, u -> ChronoUnit.MICROS.between(Instant.EPOCH, u.updatedAt()));
        this.passwords = new Passwords(cfg.password());
        FunctionCounter.builder("auth.password.hashes", passwords, Passwords::hashesComputed)
                .description("Argon2 hashes computed (registrations, logins, the start-up decoy)")
                .register(meters);
        FunctionCounter.builder("auth.password.refused", passwords, Passwords::refusedForLoad)
                .description("Logins and registrations refused (503) because no hash slot freed up within auth.password.max_wait")
                .register(meters);
        this.tokens = tokens;
        this.verifiedTokens = new VerifiedTokens(tokens, cfg.accessTokenCache(), clock, meters);
        this.apiKeys = apiKeys;
        this.sessions = new Sessions(db, caches);
        this.refreshTtl = cfg.refreshTokenTtl();
        this.clock = clock;
    }

    public static String normalizeEmail(String email) {
        return email.strip().toLowerCase(Locale.ROOT);
    }

    /**
     * Creates an account. Registrations are counted per client address (each one costs an Argon2
     * hash), and a taken email is refused before any hashing.
     */
    public User register(String email, String name, String password, ClientAddress from) {
        Optional<RateLimiter.Reservation> slot = Optional.empty();
        if (limits.enabled()) {
            var r = limiter.reserve("register:address:" + from.limitKey(), limits.registerMaxPerAddress(),
                    limits.registerWindow());
            if (!r.granted()) {
                throw new RateLimitedException("too many registrations from this address; try again in "
                        + r.status().retryAfterSeconds() + " s", r.status());
            }
            slot = Optional.of(r);
        }
        String normalized = normalizeEmail(email);
        if (db.withHandle(h -> store.emailTaken(h, normalized))) {
            throw new ConflictException("an account with this email already exists");
        }
        Instant now = now();
        User user = new User(Ids.newId(), normalized, name, now, now);
        String hash;
        try {
            hash = passwords.hash(password);
        } catch (ServiceUnavailableException busy) {
            // Refused for load before any work: not held against the address.
            slot.ifPresent(RateLimiter.Reservation::refund);
            throw busy;
        }
        boolean inserted = db.withHandle(h -> store.insertUser(h, user, hash));
        if (!inserted) {
            throw new ConflictException("an account with this email already exists");
        }
        return user;
    }

    /**
     * Checks a password. An attempt must hold one failure token from the account's budget and one
     * from the client address's before its hash is computed; with none left it is refused (429)
     * without hashing, so concurrent guesses never get more evaluations than the limit. The
     * tokens are taken once a hash slot is held (not while queueing), so in-flight reservations
     * are bounded by {@code auth.password.max_concurrent}, not by how many people log in at once
     * from one address; a spent budget is refused at once, before queueing. The tokens are
     * given back unless the password turns out wrong: only failures use up the budget.
     */
    public TokenPair login(String email, String password, ClientAddress from) {
        String normalized = normalizeEmail(email);
        String account = "login:account:" + normalized;
        String address = "login:address:" + from.limitKey();
        if (limits.enabled()) {
            refuseIfSpent(account, limits.loginMaxFailuresPerAccount(), "account");
            refuseIfSpent(address, limits.loginMaxFailuresPerAddress(), "address");
        }
        List<RateLimiter.Reservation> held = new ArrayList<>(2);
        Runnable reserve = () -> {
            if (limits.enabled()) {
                held.add(reserve(account, limits.loginMaxFailuresPerAccount(), "account"));
                held.add(reserve(address, limits.loginMaxFailuresPerAddress(), "address"));
            }
        };
        boolean wrong = false;
        try {
            var creds = db.withHandle(h -> store.credentials(h, normalized));
            boolean ok;
            if (creds.isEmpty()) {
                passwords.verifyDecoy(password, reserve);
                ok = false;
            } else {
                ok = passwords.verify(password, creds.get().passwordHash(), reserve);
            }
            if (!ok) {
                wrong = true;
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
        } finally {
            if (!wrong) {
                held.forEach(RateLimiter.Reservation::refund);
            }
        }
    }

    private void refuseIfSpent(String key, int limit, String of) {
        var d = limiter.available(key, limit, limits.loginWindow());
        if (!d.allowed()) {
            throw tooManyFailures(of, d.status());
        }
    }

    private RateLimiter.Reservation reserve(String key, int limit, String of) {
        var r = limiter.reserve(key, limit, limits.loginWindow());
        if (!r.granted()) {
            throw tooManyFailures(of, r.status());
        }
        return r;
    }

    private static RateLimitedException tooManyFailures(String of, RateLimitStatus st) {
        return new RateLimitedException("too many failed logins for this " + of + "; try again in "
                + st.retryAfterSeconds() + " s", st);
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
        // The account key of login(): both spend one failure budget, reserved before the hash as
        // there, so a stolen access token cannot guess the password faster than a login could.
        String account = "login:account:" + user.email();
        if (limits.enabled()) {
            refuseIfSpent(account, limits.loginMaxFailuresPerAccount(), "account");
        }
        var creds = db.withHandle(h -> store.credentials(h, user.email()))
                .orElseThrow(() -> new UnauthenticatedException("the account no longer exists"));
        List<RateLimiter.Reservation> held = new ArrayList<>(1);
        boolean wrong = false;
        try {
            wrong = !passwords.verify(currentPassword, creds.passwordHash(), () -> {
                if (limits.enabled()) {
                    held.add(reserve(account, limits.loginMaxFailuresPerAccount(), "account"));
                }
            });
        } finally {
            if (!wrong) {
                held.forEach(RateLimiter.Reservation::refund);
            }
        }
        if (wrong) {
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
    Principal authenticate(ServerRequest req) {
        Principal p = credential(req).map(this::principalFor)
                .orElseThrow(() -> new UnauthenticatedException("missing credentials: send Authorization: Bearer <token>"));
        limit(req, p);
        return p;
    }

    /** The caller if credentials were sent; 401 if they were sent and are bad. */
    Optional<Principal> authenticateOptional(ServerRequest req) {
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

    /** The principal a bearer credential names (no rate limit); 401 when it names none. */
    Principal principalFor(String credential) {
        if (credential.startsWith(ApiKeys.PREFIX)) {
            return apiKeys.authenticate(credential)
                    .orElseThrow(() -> new UnauthenticatedException("API key is not valid"));
        }
        // The signature is verified once per token and node; the session is checked on every use.
        Principal.User user = verifiedTokens.verify(credential)
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
