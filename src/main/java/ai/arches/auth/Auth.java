package ai.arches.auth;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

import ai.arches.common.ConflictException;
import ai.arches.common.Ids;
import ai.arches.common.NotFoundException;
import ai.arches.common.UnauthenticatedException;
import ai.arches.config.ArchesConfig;
import ai.arches.db.Database;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;

/**
 * Accounts and sessions: registration, login, refresh-token rotation, logout, and turning a
 * request's bearer credential into a {@link Principal}. The public entry type of the feature.
 *
 * <p>A login starts a session: a refresh-token family. Refreshing rotates the token within the
 * family; presenting an already-rotated token means it leaked, so the whole family is revoked.
 * Access tokens are stateless and expire after {@code auth.access_token_ttl}.
 */
public final class Auth {
    public static final Pattern EMAIL = Pattern.compile("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$");
    private static final String BEARER = "bearer ";

    private final Database db;
    private final AuthStore store = new AuthStore();
    private final Passwords passwords;
    private final Tokens tokens;
    private final ApiKeys apiKeys;
    private final Duration refreshTtl;
    private final Clock clock;

    public Auth(Database db, ArchesConfig.Auth cfg, Tokens tokens, ApiKeys apiKeys, Clock clock) {
        this.db = db;
        this.passwords = new Passwords(cfg.password());
        this.tokens = tokens;
        this.apiKeys = apiKeys;
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

    public TokenPair login(String email, String password) {
        var creds = db.withHandle(h -> store.credentials(h, normalizeEmail(email)));
        if (creds.isEmpty()) {
            passwords.verifyDecoy(password);
            throw new UnauthenticatedException("email or password is wrong");
        }
        if (!passwords.verify(password, creds.get().passwordHash())) {
            throw new UnauthenticatedException("email or password is wrong");
        }
        UUID family = Ids.newId();
        String refresh = tokens.randomSecret("rt_");
        Instant now = now();
        db.withHandle(h -> {
            store.insertRefresh(h, creds.get().id(), family, Tokens.sha256(refresh), now, now.plus(refreshTtl));
            return null;
        });
        return pair(creds.get().id(), family, refresh);
    }

    private enum RefreshOutcome { OK, UNKNOWN, EXPIRED, REUSED }

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
                store.revokeFamily(h, t.familyId(), now);
                return new Rotation(RefreshOutcome.REUSED, null, null, null);
            }
            if (!t.expiresAt().isAfter(now)) {
                return new Rotation(RefreshOutcome.EXPIRED, null, null, null);
            }
            store.revoke(h, t.id(), now);
            String next = tokens.randomSecret("rt_");
            store.insertRefresh(h, t.userId(), t.familyId(), Tokens.sha256(next), now, now.plus(refreshTtl));
            return new Rotation(RefreshOutcome.OK, t.userId(), t.familyId(), next);
        });
        return switch (r.outcome()) {
            case OK -> pair(r.userId(), r.familyId(), r.refresh());
            case UNKNOWN -> throw new UnauthenticatedException("refresh token is not valid");
            case EXPIRED -> throw new UnauthenticatedException("refresh token has expired; log in again");
            case REUSED -> throw new UnauthenticatedException(
                    "refresh token was already used; the session is revoked, log in again");
        };
    }

    /** Ends the session of the access token and, if given, of a refresh token. */
    public void logout(Optional<Principal.User> user, Optional<String> refreshToken) {
        Instant now = now();
        db.withHandle(h -> {
            user.ifPresent(u -> store.revokeFamily(h, u.sessionId(), now));
            refreshToken.flatMap(t -> store.familyOf(h, Tokens.sha256(t)))
                    .ifPresent(f -> store.revokeFamily(h, f, now));
            return null;
        });
    }

    public User user(UUID id) {
        return db.withHandle(h -> store.user(h, id))
                .orElseThrow(() -> new UnauthenticatedException("the account no longer exists"));
    }

    public Optional<User> userByEmail(String email) {
        return db.withHandle(h -> store.userByEmail(h, normalizeEmail(email)));
    }

    public User rename(UUID id, String name) {
        return db.withHandle(h -> store.rename(h, id, name, now()))
                .orElseThrow(() -> new NotFoundException("the account no longer exists"));
    }

    /** The caller, from {@code Authorization: Bearer <access token | API key>}; 401 otherwise. */
    public Principal authenticate(ServerRequest req) {
        return credential(req).map(this::principalFor)
                .orElseThrow(() -> new UnauthenticatedException("missing credentials: send Authorization: Bearer <token>"));
    }

    /** The caller if credentials were sent; 401 if they were sent and are bad. */
    public Optional<Principal> authenticateOptional(ServerRequest req) {
        return credential(req).map(this::principalFor);
    }

    private Principal principalFor(String credential) {
        if (credential.startsWith(ApiKeys.PREFIX)) {
            return apiKeys.authenticate(credential)
                    .orElseThrow(() -> new UnauthenticatedException("API key is not valid"));
        }
        return tokens.verifyAccess(credential)
                .orElseThrow(() -> new UnauthenticatedException("access token is invalid or expired"));
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
