package ai.arches.db;

import java.time.Duration;
import java.util.Optional;

import ai.arches.cache.Redis;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

/**
 * Each caller reads its own writes, whichever node and replica serve it.
 *
 * <p>The identity filter binds the caller for the request ({@link #as}). When the request writes
 * on the primary, {@link Database} asks for the WAL position after the commit and records it here,
 * per caller, in Redis, so every node knows it; a later read by that caller goes to a replica only
 * once the replica has replayed that position ({@link Replicas}). A position is kept for
 * {@code ttl}, the replica lag bound plus a margin: after that, any replica still in use has
 * replayed it anyway. Without Redis configured, a node keeps the positions of its own callers; with
 * Redis configured but failing, positions cannot be known and such callers read from the primary.
 */
public final class ReadYourWrites {
    /** Sent to the primary after a write: an upper bound of the commit's end, as a byte offset. */
    static final String POSITION_SQL = "SELECT pg_current_wal_insert_lsn() - '0/0'";
    /** No write of this caller that a replica could still miss. */
    static final long NONE = -1;
    /** Unknown (Redis failing): only the primary is safe. */
    static final long PRIMARY = Long.MAX_VALUE;

    // The larger position wins: two requests of one caller may finish out of order, on two nodes.
    private static final String RECORD = """
            local cur = redis.call('GET', KEYS[1])
            if (not cur) or tonumber(cur) < tonumber(ARGV[1]) then
              redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
            else
              redis.call('PEXPIRE', KEYS[1], ARGV[2])
            end
            return 1""";
    private static final ScopedValue<Caller> CALLER = ScopedValue.newInstance();

    private final Optional<Redis> redis;
    private final String prefix;
    private final Duration ttl;
    private final Cache<String, Long> local;

    /** The request's caller: what it has written, read from Redis at most once per request. */
    private static final class Caller {
        final String key;
        long required = Long.MIN_VALUE; // not read yet
        boolean wrote;

        Caller(String key) {
            this.key = key;
        }
    }

    public ReadYourWrites(Optional<Redis> redis, String keyPrefix, Duration ttl) {
        this.redis = redis;
        this.prefix = keyPrefix + ":rw:";
        this.ttl = ttl;
        this.local = Caffeine.newBuilder().maximumSize(100_000).expireAfterWrite(ttl).build();
    }

    /** Runs the request as {@code caller} (a stable key per user or API key). */
    public static void as(String caller, Runnable request) {
        ScopedValue.where(CALLER, new Caller(caller)).run(request);
    }

    /** A statement that changes data ran for the current caller. */
    static void wrote() {
        if (CALLER.isBound()) {
            CALLER.get().wrote = true;
        }
    }

    /** True once after the current caller wrote (the flag is cleared). */
    static boolean takeWrote() {
        if (!CALLER.isBound()) {
            return false;
        }
        Caller c = CALLER.get();
        boolean w = c.wrote;
        c.wrote = false;
        return w;
    }

    /** Records that the current caller's writes end at {@code position}. */
    void recorded(long position) {
        if (!CALLER.isBound()) {
            return;
        }
        Caller c = CALLER.get();
        c.required = Math.max(c.required, position);
        local.asMap().merge(c.key, position, Math::max);
        redis.ifPresent(r -> r.eval(RECORD, new String[] {prefix + c.key}, Long.toString(position),
                Long.toString(ttl.toMillis())));
    }

    /** The position a replica must have replayed to serve the current caller. */
    long required() {
        if (!CALLER.isBound()) {
            return NONE;
        }
        Caller c = CALLER.get();
        if (c.required == Long.MIN_VALUE) {
            c.required = lookUp(c.key);
        }
        return c.required;
    }

    private long lookUp(String key) {
        long mine = Optional.ofNullable(local.getIfPresent(key)).orElse(NONE);
        if (redis.isEmpty()) {
            return mine;
        }
        Optional<Optional<String>> shared = redis.get().fetch(prefix + key);
        if (shared.isEmpty()) {
            return PRIMARY;
        }
        return Math.max(mine, shared.get().map(Long::parseLong).orElse(NONE));
    }
}
