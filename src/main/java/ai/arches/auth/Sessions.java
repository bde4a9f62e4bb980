package ai.arches.auth;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import ai.arches.cache.Caches;
import ai.arches.cache.TieredCache;
import ai.arches.db.Database;
import ai.arches.db.Rows;

import org.jdbi.v3.core.Handle;

/**
 * Login sessions (one per refresh-token family), which every access token is checked against.
 *
 * <p>The check runs on every authenticated request, so it reads through the two-level cache: a
 * warm check is an in-process lookup. Revocation writes PostgreSQL first, then {@link #forget}
 * invalidates the entries on every node through the cache's Redis channel (1-2 ms). The L1 copy
 * lives at most {@link #L1_TTL}, so even an invalidation that is never heard (Redis stalled
 * without dropping the connection) is outlived by at most a second. While a node is not
 * subscribed to the channel it does not use its L1 at all and asks Redis or PostgreSQL, so a
 * Redis outage makes the check slower, never lenient. A load that began before a revocation
 * cannot put the live row back (the cache's lease and invalidation stamps see to that).
 */
final class Sessions {
    /** Bounds how long a node may act on a revocation it did not hear about. */
    static final Duration L1_TTL = Duration.ofSeconds(1);
    private static final Duration L2_TTL = Duration.ofMinutes(1);

    /** A session as cached: live while {@code revokedAt} is null. */
    record Session(UUID id, UUID userId, Instant revokedAt) {}

    private final Database db;
    private final TieredCache<Session> byId;

    Sessions(Database db, Caches caches) {
        this.db = db;
        // Sessions change only by being revoked, and revocation invalidates; no version needed.
        this.byId = caches.cache("sessions", Session.class, s -> 0L, L1_TTL, L2_TTL);
    }

    /** True when the session exists, belongs to the user, and is not revoked. */
    boolean live(UUID sessionId, UUID userId) {
        return byId.get(sessionId.toString(), () -> db.withHandle(h -> find(h, sessionId)))
                .filter(s -> s.revokedAt() == null && s.userId().equals(userId))
                .isPresent();
    }

    void start(Handle h, UUID sessionId, UUID userId, Instant at) {
        h.createUpdate("INSERT INTO sessions (id, user_id, created_at) VALUES (:id, :user, :at)")
                .define(Database.QUERY_TYPE, "sessions.insert")
                .bind("id", sessionId).bind("user", userId).bind("at", at).execute();
    }

    /** Revokes one session and its refresh tokens; answers the sessions to {@link #forget}. */
    List<UUID> revoke(Handle h, UUID sessionId, Instant at) {
        List<UUID> ids = h.createQuery(
                        "UPDATE sessions SET revoked_at = :at WHERE id = :id AND revoked_at IS NULL RETURNING id")
                .define(Database.QUERY_TYPE, "sessions.revoke")
                .bind("id", sessionId).bind("at", at).mapTo(UUID.class).list();
        h.createUpdate("UPDATE refresh_tokens SET revoked_at = :at WHERE family_id = :id AND revoked_at IS NULL")
                .define(Database.QUERY_TYPE, "refresh.revoke_family")
                .bind("id", sessionId).bind("at", at).execute();
        return ids;
    }

    /**
     * Revokes every live session of the user but {@code keep} (if any), with their refresh tokens.
     * Sessions go first: a concurrent refresh holds its session row (see {@link #lockLive}) until
     * it commits, so the token it rotates in is there for the second statement to revoke.
     */
    List<UUID> revokeAllOf(Handle h, UUID userId, Optional<UUID> keep, Instant at) {
        UUID except = keep.orElse(null);
        List<UUID> ids = h.createQuery("""
                        UPDATE sessions SET revoked_at = :at
                        WHERE user_id = :user AND revoked_at IS NULL
                          AND (CAST(:keep AS uuid) IS NULL OR id <> :keep)
                        RETURNING id""")
                .define(Database.QUERY_TYPE, "sessions.revoke_user")
                .bind("user", userId).bind("keep", except).bind("at", at).mapTo(UUID.class).list();
        h.createUpdate("""
                        UPDATE refresh_tokens SET revoked_at = :at
                        WHERE user_id = :user AND revoked_at IS NULL
                          AND (CAST(:keep AS uuid) IS NULL OR family_id <> :keep)""")
                .define(Database.QUERY_TYPE, "refresh.revoke_user")
                .bind("user", userId).bind("keep", except).bind("at", at).execute();
        return ids;
    }

    /** Whether the session is live, holding its row until the transaction ends (refresh rotation). */
    boolean lockLive(Handle h, UUID sessionId) {
        return h.createQuery("SELECT revoked_at IS NULL FROM sessions WHERE id = :id FOR SHARE")
                .define(Database.QUERY_TYPE, "sessions.lock")
                .bind("id", sessionId).mapTo(Boolean.class).findOne().orElse(false);
    }

    /** After the commit: every node drops its cached copy of the sessions. */
    void forget(List<UUID> sessionIds) {
        sessionIds.forEach(id -> byId.invalidate(id.toString()));
    }

    private static Optional<Session> find(Handle h, UUID id) {
        return h.createQuery("SELECT id, user_id, revoked_at FROM sessions WHERE id = :id")
                .define(Database.QUERY_TYPE, "sessions.get")
                .bind("id", id)
                .map((rs, ctx) -> new Session(Rows.uuid(rs, "id"), Rows.uuid(rs, "user_id"),
                        Rows.instant(rs, "revoked_at")))
                .findOne();
    }
}
