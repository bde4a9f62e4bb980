package ai.arches.auth;

import java.time.Instant;
import java.util.Optional;
import java.util.UUID;

import ai.arches.db.Database;
import ai.arches.db.Rows;

import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.mapper.RowMapper;

/** SQL for accounts and refresh tokens. Emails arrive lower-cased. */
final class AuthStore {
    static final RowMapper<User> USER = (rs, ctx) -> new User(
            rs.getObject("id", UUID.class), rs.getString("email"), rs.getString("name"),
            Rows.instant(rs, "created_at"), Rows.instant(rs, "updated_at"));

    record Credentials(UUID id, String passwordHash) {}

    record RefreshRow(UUID id, UUID userId, UUID familyId, Instant expiresAt, Instant revokedAt) {}

    /** Inserts a user; false when the email is taken (the unique index decides, no race). */
    boolean insertUser(Handle h, User u, String passwordHash) {
        return h.createUpdate("""
                        INSERT INTO users (id, email, name, password_hash, created_at, updated_at)
                        VALUES (:id, :email, :name, :hash, :at, :at)
                        ON CONFLICT (email) DO NOTHING""")
                .define(Database.QUERY_TYPE, "users.insert")
                .bind("id", u.id()).bind("email", u.email()).bind("name", u.name())
                .bind("hash", passwordHash).bind("at", u.createdAt())
                .execute() == 1;
    }

    /** A cheap look before the expensive hash; the unique index still decides races. */
    boolean emailTaken(Handle h, String email) {
        return h.createQuery("SELECT EXISTS (SELECT 1 FROM users WHERE email = :email)")
                .define(Database.QUERY_TYPE, "users.email_taken")
                .bind("email", email).mapTo(Boolean.class).one();
    }

    Optional<Credentials> credentials(Handle h, String email) {
        return h.createQuery("SELECT id, password_hash FROM users WHERE email = :email")
                .define(Database.QUERY_TYPE, "users.by_email")
                .bind("email", email)
                .map((rs, ctx) -> new Credentials(rs.getObject("id", UUID.class), rs.getString("password_hash")))
                .findOne();
    }

    Optional<User> user(Handle h, UUID id) {
        return h.createQuery("SELECT id, email, name, created_at, updated_at FROM users WHERE id = :id")
                .define(Database.QUERY_TYPE, "users.get")
                .bind("id", id).map(USER).findOne();
    }

    Optional<User> userByEmail(Handle h, String email) {
        return h.createQuery("SELECT id, email, name, created_at, updated_at FROM users WHERE email = :email")
                .define(Database.QUERY_TYPE, "users.by_email")
                .bind("email", email).map(USER).findOne();
    }

    void setPassword(Handle h, UUID id, String passwordHash, Instant at) {
        h.createUpdate("UPDATE users SET password_hash = :hash, updated_at = :at WHERE id = :id")
                .define(Database.QUERY_TYPE, "users.set_password")
                .bind("id", id).bind("hash", passwordHash).bind("at", at).execute();
    }

    Optional<User> rename(Handle h, UUID id, String name, Instant at) {
        return h.createQuery("""
                        UPDATE users SET name = :name, updated_at = :at WHERE id = :id
                        RETURNING id, email, name, created_at, updated_at""")
                .define(Database.QUERY_TYPE, "users.update")
                .bind("id", id).bind("name", name).bind("at", at).map(USER).findOne();
    }

    void insertRefresh(Handle h, UUID userId, UUID familyId, byte[] hash, Instant at, Instant expires) {
        h.createUpdate("""
                        INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, created_at, expires_at)
                        VALUES (:id, :user, :family, :hash, :at, :expires)""")
                .define(Database.QUERY_TYPE, "refresh.insert")
                .bind("id", ai.arches.common.Ids.newId()).bind("user", userId).bind("family", familyId)
                .bind("hash", hash).bind("at", at).bind("expires", expires)
                .execute();
    }

    /** Locks the row so two concurrent refreshes of one token cannot both succeed. */
    Optional<RefreshRow> lockRefresh(Handle h, byte[] hash) {
        return h.createQuery("""
                        SELECT id, user_id, family_id, expires_at, revoked_at FROM refresh_tokens
                        WHERE token_hash = :hash FOR UPDATE""")
                .define(Database.QUERY_TYPE, "refresh.lock")
                .bind("hash", hash)
                .map((rs, ctx) -> new RefreshRow(rs.getObject("id", UUID.class), rs.getObject("user_id", UUID.class),
                        rs.getObject("family_id", UUID.class),
                        Rows.instant(rs, "expires_at"), Rows.instant(rs, "revoked_at")))
                .findOne();
    }

    void revoke(Handle h, UUID tokenId, Instant at) {
        h.createUpdate("UPDATE refresh_tokens SET revoked_at = :at WHERE id = :id AND revoked_at IS NULL")
                .define(Database.QUERY_TYPE, "refresh.revoke")
                .bind("id", tokenId).bind("at", at).execute();
    }

    Optional<UUID> familyOf(Handle h, byte[] hash) {
        return h.createQuery("SELECT family_id FROM refresh_tokens WHERE token_hash = :hash")
                .define(Database.QUERY_TYPE, "refresh.family")
                .bind("hash", hash).mapTo(UUID.class).findOne();
    }
}
