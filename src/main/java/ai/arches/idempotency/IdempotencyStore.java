package ai.arches.idempotency;

import java.time.Instant;
import java.util.Optional;
import java.util.UUID;

import ai.arches.db.Database;
import ai.arches.db.Rows;

import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.mapper.RowMapper;

/** SQL for idempotency_keys (V9). Every statement names one row by its primary key, but the sweep. */
final class IdempotencyStore {
    /**
     * A key's row. In flight: {@code status} null. Completed: {@code status}, the kept headers as
     * a JSON object and the sealed body (null for a response without one).
     */
    record Row(byte[] fingerprint, Instant createdAt, Instant lockedUntil, Integer status, String headers,
               byte[] body) {
        boolean completed() {
            return status != null;
        }
    }

    private static final RowMapper<Row> ROW = (rs, ctx) -> new Row(rs.getBytes("fingerprint"),
            Rows.instant(rs, "created_at"), Rows.instant(rs, "locked_until"),
            rs.getObject("status") == null ? null : rs.getInt("status"), rs.getString("headers"), rs.getBytes("body"));

    /**
     * Takes the key for a request: inserts it in flight, or takes over a row past the retention or
     * one whose holder's lock ran out with the same fingerprint (its node died). True when this
     * request now holds the key with {@code token}; false when another row stands (look at it).
     * The primary key decides between racing requests on any nodes.
     */
    boolean claim(Handle h, UUID owner, String key, byte[] fingerprint, Instant now, Instant lockedUntil,
                  UUID token, Instant expiredBefore) {
        return h.createQuery("""
                        INSERT INTO idempotency_keys AS k (owner_id, key, fingerprint, created_at, locked_until, lock_token)
                        VALUES (:owner, :key, :fingerprint, :now, :lockedUntil, :token)
                        ON CONFLICT (owner_id, key) DO UPDATE
                        SET fingerprint = EXCLUDED.fingerprint, created_at = EXCLUDED.created_at,
                            locked_until = EXCLUDED.locked_until, lock_token = EXCLUDED.lock_token,
                            status = NULL, headers = NULL, body = NULL
                        WHERE k.created_at <= :expiredBefore
                           OR (k.status IS NULL AND k.locked_until <= :now AND k.fingerprint = EXCLUDED.fingerprint)
                        RETURNING k.lock_token""")
                .define(Database.QUERY_TYPE, "idempotency.claim")
                .bind("owner", owner).bind("key", key).bind("fingerprint", fingerprint).bind("now", now)
                .bind("lockedUntil", lockedUntil).bind("token", token).bind("expiredBefore", expiredBefore)
                .mapTo(UUID.class).findOne().isPresent();
    }

    Optional<Row> find(Handle h, UUID owner, String key) {
        return h.createQuery("""
                        SELECT fingerprint, created_at, locked_until, status, headers, body
                        FROM idempotency_keys WHERE owner_id = :owner AND key = :key""")
                .define(Database.QUERY_TYPE, "idempotency.find")
                .bind("owner", owner).bind("key", key).map(ROW).findOne();
    }

    /** Stores the response of the request holding {@code token}; false if it no longer holds the key. */
    boolean complete(Handle h, UUID owner, String key, UUID token, int status, String headers, byte[] body) {
        return h.createUpdate("""
                        UPDATE idempotency_keys
                        SET status = :status, headers = CAST(:headers AS jsonb), body = :body,
                            locked_until = NULL, lock_token = NULL
                        WHERE owner_id = :owner AND key = :key AND lock_token = :token""")
                .define(Database.QUERY_TYPE, "idempotency.complete")
                .bind("owner", owner).bind("key", key).bind("token", token).bind("status", status)
                .bind("headers", headers).bind("body", body)
                .execute() == 1;
    }

    /** Gives the key up (its response is not kept), if {@code token} still holds it. */
    boolean release(Handle h, UUID owner, String key, UUID token) {
        return h.createUpdate("DELETE FROM idempotency_keys WHERE owner_id = :owner AND key = :key AND lock_token = :token")
                .define(Database.QUERY_TYPE, "idempotency.release")
                .bind("owner", owner).bind("key", key).bind("token", token)
                .execute() == 1;
    }

    /**
     * Deletes at most {@code limit} rows created at or before {@code before}, oldest first. Rows
     * another sweep holds are skipped; the outer condition is checked again on a row a claim took
     * over meanwhile (it has a new created_at), so a live key is never deleted.
     */
    int sweep(Handle h, Instant before, int limit) {
        return h.createUpdate("""
                        DELETE FROM idempotency_keys
                        WHERE (owner_id, key) IN (
                                SELECT owner_id, key FROM idempotency_keys WHERE created_at <= :before
                                ORDER BY created_at LIMIT :limit FOR UPDATE SKIP LOCKED)
                          AND created_at <= :before""")
                .define(Database.QUERY_TYPE, "idempotency.sweep")
                .bind("before", before).bind("limit", limit)
                .execute();
    }
}
