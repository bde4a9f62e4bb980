package ai.arches.auth;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import ai.arches.cache.Caches;
import ai.arches.cache.TieredCache;
import ai.arches.common.Cursors;
import ai.arches.common.Ids;
import ai.arches.db.Database;
import ai.arches.db.Keyset;
import ai.arches.db.Rows;

import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.mapper.RowMapper;

/**
 * Organization API keys: {@code ak_<random>}, stored as SHA-256, shown once at creation. The
 * caller (organizations) checks that the creator may grant the role; this class only stores,
 * lists, deletes and authenticates.
 *
 * <p>A key never has more power than its creator has now. Organizations calls
 * {@link #limitCreator} when it demotes a member and {@link #revokeCreator} when it removes one,
 * inside the same transaction as the membership change (whose row lock also serializes key
 * creation, see {@code Organizations.createKey}), then {@link #forget} after the commit, which
 * drops the cached keys on every node through the cache's invalidation channel. Until that
 * message lands (1-2 ms, documented bound 100 ms; immediately while Redis is down, when no node
 * trusts its in-process cache) a node may still act on the old row.
 *
 * <p>Authenticating writes nothing: last use is recorded in memory and written in the background
 * ({@link KeyUses}), so {@code last_used_at} lags real use by up to
 * {@code auth.api_key_last_used_interval}. Close it after the server stops and before the database.
 */
public final class ApiKeys implements AutoCloseable {
    public static final String PREFIX = "ak_";
    private static final int SHOWN_PREFIX = 10;

    private static final RowMapper<ApiKey> KEY = (rs, ctx) -> new ApiKey(
            Rows.uuid(rs, "id"), Rows.uuid(rs, "organization_id"), rs.getString("name"),
            Role.parse(rs.getString("role")).orElseThrow(), rs.getString("prefix"),
            Rows.uuid(rs, "created_by"), Rows.instant(rs, "created_at"), Rows.instant(rs, "last_used_at"),
            Rows.instant(rs, "expires_at"));
    private static final String COLUMNS =
            "id, organization_id, name, role, prefix, created_by, created_at, last_used_at, expires_at";
    /** Roles in rank order, so SQL can compare them; keys never hold owner. */
    private static final String RANK = "array_position(ARRAY['viewer','member','admin','owner'], %s)";

    /** A new key and its secret, which is never retrievable again. */
    public record Created(ApiKey key, String secret) {}

    private final Database db;
    private final Tokens tokens;
    private final Clock clock;
    /** Keys by the hex SHA-256 of their secret; unknown secrets are cached as absent, briefly. */
    private final TieredCache<ApiKey> byHash;
    private final KeyUses uses;

    /** Starts the background writer of last use, every {@code lastUsedInterval}. */
    public ApiKeys(Database db, Tokens tokens, Clock clock, Caches caches, Duration lastUsedInterval) {
        this.db = db;
        this.tokens = tokens;
        this.clock = clock;
        this.byHash = caches.cache("api-keys", ApiKey.class, k -> 0L);
        this.uses = new KeyUses(db, lastUsedInterval);
    }

    /**
     * Stores a key in the caller's transaction, which has checked (under a lock on the creator's
     * membership) that {@code createdBy} may grant {@code role} now.
     */
    public Created create(Handle h, UUID organizationId, String name, Role role, UUID createdBy, Instant expiresAt) {
        String secret = tokens.randomSecret(PREFIX);
        Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
        ApiKey key = new ApiKey(Ids.newId(), organizationId, name, role, secret.substring(0, SHOWN_PREFIX),
                createdBy, now, null, expiresAt == null ? null : expiresAt.truncatedTo(ChronoUnit.MICROS));
        h.createUpdate("""
                        INSERT INTO api_keys (id, organization_id, name, role, prefix, key_hash, created_by, created_at,
                                              expires_at)
                        VALUES (:id, :org, :name, :role, :prefix, :hash, :by, :at, :expires)""")
                .define(Database.QUERY_TYPE, "api_keys.insert")
                .bind("id", key.id()).bind("org", organizationId).bind("name", name).bind("role", role.wire())
                .bind("prefix", key.prefix()).bind("hash", Tokens.sha256(secret)).bind("by", createdBy)
                .bind("at", now).bind("expires", key.expiresAt()).execute();
        return new Created(key, secret);
    }

    /** A creator now holds {@code role}: their keys above it drop to it. Answers the keys to {@link #forget}. */
    public List<String> limitCreator(Handle h, UUID organizationId, UUID creator, Role role) {
        return h.createQuery("UPDATE api_keys SET role = :role WHERE organization_id = :org AND created_by = :by AND "
                        + RANK.formatted("role") + " > " + RANK.formatted(":role") + " RETURNING key_hash")
                .define(Database.QUERY_TYPE, "api_keys.limit_creator")
                .bind("org", organizationId).bind("by", creator).bind("role", role.wire())
                .mapTo(byte[].class).map(HexFormat.of()::formatHex).list();
    }

    /** A creator left the organization: their keys there go. Answers the keys to {@link #forget}. */
    public List<String> revokeCreator(Handle h, UUID organizationId, UUID creator) {
        return h.createQuery("DELETE FROM api_keys WHERE organization_id = :org AND created_by = :by RETURNING key_hash")
                .define(Database.QUERY_TYPE, "api_keys.revoke_creator")
                .bind("org", organizationId).bind("by", creator)
                .mapTo(byte[].class).map(HexFormat.of()::formatHex).list();
    }

    /** After the commit: drops the cached keys on this node, in Redis, and on every other node. */
    public void forget(List<String> keys) {
        keys.forEach(byHash::invalidate);
    }

    /** One page, newest first; rows has up to {@code fetch} entries for the caller to cut. */
    public List<ApiKey> list(UUID organizationId, Cursors.PageRequest page) {
        String sql = "SELECT " + COLUMNS + " FROM api_keys WHERE organization_id = :org"
                + Keyset.after(page, "created_at", "id")
                + " ORDER BY created_at DESC, id DESC LIMIT :fetch";
        return db.withHandle(h -> Keyset.bind(h.createQuery(sql), page)
                .define(Database.QUERY_TYPE, "api_keys.list")
                .bind("org", organizationId)
                .map(KEY).list());
    }

    public boolean delete(UUID organizationId, UUID keyId) {
        Optional<byte[]> hash = db.withHandle(h -> h.createQuery(
                        "DELETE FROM api_keys WHERE id = :id AND organization_id = :org RETURNING key_hash")
                .define(Database.QUERY_TYPE, "api_keys.delete")
                .bind("id", keyId).bind("org", organizationId).mapTo(byte[].class).findOne());
        hash.ifPresent(h -> byHash.invalidate(HexFormat.of().formatHex(h)));
        return hash.isPresent();
    }

    Optional<Principal.ApiKey> authenticate(String secret) {
        // Hashed on every use, not memoized: it costs about 0.17 us (TokenBench.hashApiKey), and a
        // memo keyed by the presented secret would keep live keys in plaintext on the heap.
        byte[] hash = Tokens.sha256(secret);
        Optional<ApiKey> found = byHash.get(HexFormat.of().formatHex(hash), () -> db.withHandle(h -> h.createQuery(
                        "SELECT " + COLUMNS + " FROM api_keys WHERE key_hash = :hash")
                .define(Database.QUERY_TYPE, "api_keys.by_hash")
                .bind("hash", hash).map(KEY).findOne()));
        // The expiry is checked on every use, against the cached row, so a key dies on time.
        Instant now = clock.instant();
        found = found.filter(k -> k.expiresAt() == null || now.isBefore(k.expiresAt()));
        found.ifPresent(k -> uses.record(k.id(), now.truncatedTo(ChronoUnit.MICROS)));
        return found.map(k -> new Principal.ApiKey(k.id(), k.organizationId(), k.role(), k.createdBy()));
    }

    /** Stops the background writer and writes what it holds. */
    @Override
    public void close() {
        uses.close();
    }
}
