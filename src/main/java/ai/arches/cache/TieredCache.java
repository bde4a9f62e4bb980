package ai.arches.cache;

import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;

import ai.arches.common.ByteCounter;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.cache.CaffeineCacheMetrics;

/**
 * One named cache in two levels: a bounded Caffeine map per node (L1, seconds) in front of Redis
 * (L2, shared, a minute), in front of the loader (PostgreSQL). Absent rows are cached too, for
 * less time, so floods of unknown ids stop at the cache. Every TTL carries ±10% jitter so entries
 * written together do not expire together.
 *
 * <p>Concurrent misses on one key share one load: the L1 is an {@link AsyncCache} whose pending
 * future every caller joins. A miss that fills L2 first takes a short lease (SET NX) on the key;
 * an invalidation deletes key and lease together, and the fill only lands if its lease still
 * stands, so a load that read the database before a concurrent write can never put the old row
 * back into Redis. An L1 fill is likewise dropped when the key was invalidated after the load
 * began. Write-through puts carry a version (the row's updated_at) and Redis keeps the newer.
 *
 * <p>L1 is used only while {@link Caches} says it can be trusted (the node hears invalidations).
 *
 * <p>Size: L1 entries weigh their JSON size (at least maxBytes / maxEntries each, so both bounds
 * hold), so a few large documents cannot fill the heap. A value whose JSON exceeds the L2 cap is
 * never written to Redis: a fill just releases its lease, and a write-through deletes the older
 * copy instead, so Redis never serves a version older than the database's.
 */
public final class TieredCache<V> {
    private static final String FILL = """
            if redis.call('GET', KEYS[2]) == ARGV[1] then
              redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
              redis.call('DEL', KEYS[2])
              return 1
            end
            return 0""";
    private static final String PUT_NEWER = """
            local cur = redis.call('GET', KEYS[1])
            if cur then
              local v = tonumber(string.match(cur, '^(%d+)|'))
              if v and v > tonumber(ARGV[2]) then return 0 end
            end
            redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
            redis.call('DEL', KEYS[2])
            return 1""";
    private static final String RELEASE = """
            if redis.call('GET', KEYS[1]) == ARGV[1] then
              return redis.call('DEL', KEYS[1])
            end
            return 0""";
    private static final String ABSENT = "-";

    /** Bounds of each L1 (entries and bytes) and of one Redis value. */
    record Limits(long l1MaxEntries, long l1MaxBytes, long l2MaxValueBytes) {}

    private final String name;
    private final Caches caches;
    private final JavaType type;
    private final ObjectMapper json;
    private final ToLongFunction<V> version;
    private final Duration l2Ttl;
    private final Duration negativeTtl;
    private final AsyncCache<String, Optional<V>> l1;
    /** Keys invalidated recently, with when: a load that began earlier must not fill L1. */
    private final Cache<String, Long> invalidatedAt;
    private final Executor loaders;
    private final Counter l2Hits;
    private final Counter l2Misses;
    private final Counter loads;
    private final Counter l2Oversize;
    private final long l2MaxValueBytes;
    private final int minWeight;

    TieredCache(String name, Caches caches, JavaType type, ObjectMapper json, ToLongFunction<V> version,
                Duration l1Ttl, Duration l2Ttl, Duration negativeTtl, Limits limits, MeterRegistry registry,
                Executor loaders) {
        long maxSize = limits.l1MaxEntries();
        this.l2MaxValueBytes = limits.l2MaxValueBytes();
        this.minWeight = (int) Math.max(1, Math.min(Integer.MAX_VALUE, limits.l1MaxBytes() / maxSize));
        this.name = name;
        this.caches = caches;
        this.type = type;
        this.json = json;
        this.version = version;
        this.l2Ttl = l2Ttl;
        this.negativeTtl = negativeTtl;
        this.loaders = loaders;
        long l1Nanos = l1Ttl.toNanos();
        long negNanos = Math.min(negativeTtl.toNanos(), l1Nanos);
        this.l1 = Caffeine.newBuilder()
                .maximumWeight(Math.max(limits.l1MaxBytes(), minWeight))
                .weigher((String key, Optional<V> value) -> weight(key, value))
                .expireAfter(new Expiry<String, Optional<V>>() {
                    @Override
                    public long expireAfterCreate(String key, Optional<V> value, long now) {
                        return jitter(value.isPresent() ? l1Nanos : negNanos);
                    }

                    @Override
                    public long expireAfterUpdate(String key, Optional<V> value, long now, long current) {
                        return expireAfterCreate(key, value, now);
                    }

                    @Override
                    public long expireAfterRead(String key, Optional<V> value, long now, long current) {
                        return current;
                    }
                })
                .executor(loaders)
                .recordStats()
                .buildAsync();
        this.invalidatedAt = Caffeine.newBuilder().maximumSize(maxSize).expireAfterWrite(l1Ttl.multipliedBy(2)).build();
        CaffeineCacheMetrics.monitor(registry, l1, name, "level", "l1");
        this.l2Hits = Counter.builder("cache.gets").tag("cache", name).tag("level", "l2").tag("result", "hit")
                .description("Cache lookups by level and result").register(registry);
        this.l2Misses = Counter.builder("cache.gets").tag("cache", name).tag("level", "l2").tag("result", "miss")
                .description("Cache lookups by level and result").register(registry);
        this.loads = Counter.builder("cache.loads").tag("cache", name)
                .description("Loads that reached the system of record").register(registry);
        this.l2Oversize = Counter.builder("cache.l2.oversize").tag("cache", name)
                .description("Values not written to Redis because they exceed cache.l2_max_value_bytes")
                .register(registry);
    }

    /** The value for {@code key}: from L1, else L2, else {@code loader} (absent is cached too). */
    public Optional<V> get(String key, Supplier<Optional<V>> loader) {
        if (!caches.l1Trusted()) {
            return load(key, loader, System.nanoTime());
        }
        long started = System.nanoTime();
        CompletableFuture<Optional<V>> f = l1.get(key, (k, executor) ->
                CompletableFuture.supplyAsync(() -> load(k, loader, started), loaders));
        try {
            Optional<V> v = f.join();
            Long inv = invalidatedAt.getIfPresent(key);
            if (inv != null && inv > started) {
                l1.synchronous().invalidate(key);
            }
            return v;
        } catch (CompletionException e) {
            l1.synchronous().invalidate(key);
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw e;
        }
    }

    /** Write-through after a committed change: Redis keeps the newer version; other nodes drop L1. */
    public void put(String key, V value) {
        String k = caches.redisKey(name, key);
        long v = version.applyAsLong(value);
        boolean ok = caches.redis().map(r -> {
            String encoded = encode(value, v);
            if (utf8Length(encoded) > l2MaxValueBytes) {
                // Too large for Redis: the older copy there must go, or it would be served.
                l2Oversize.increment();
                return r.delete(k, lease(k));
            }
            return r.eval(PUT_NEWER, new String[] {k, lease(k)}, encoded, Long.toString(v),
                    Long.toString(jitter(l2Ttl.toMillis()))).isPresent();
        }).orElse(true);
        if (!ok) {
            caches.markDirty();
        }
        invalidateLocal(key);
        if (caches.l1Trusted()) {
            l1.put(key, CompletableFuture.completedFuture(Optional.of(value)));
        }
        caches.broadcast(name, key);
    }

    /** Drops the key everywhere: this node's L1, Redis (with its lease), other nodes' L1. */
    public void invalidate(String key) {
        String k = caches.redisKey(name, key);
        boolean ok = caches.redis().map(r -> r.delete(k, lease(k))).orElse(true);
        if (!ok) {
            caches.markDirty();
        }
        invalidateLocal(key);
        caches.broadcast(name, key);
    }

    /** Another node changed the key (or this node after a failed broadcast): drop the L1 copy. */
    void invalidateLocal(String key) {
        invalidatedAt.put(key, System.nanoTime());
        l1.synchronous().invalidate(key);
    }

    void clearLocal() {
        l1.synchronous().invalidateAll();
    }

    String name() {
        return name;
    }

    /** This node's L1 entries as they stand after pending evictions (for tests of its bounds). */
    java.util.Map<String, Optional<V>> l1Snapshot() {
        l1.synchronous().cleanUp();
        return java.util.Map.copyOf(l1.synchronous().asMap());
    }

    private Optional<V> load(String key, Supplier<Optional<V>> loader, long started) {
        Optional<Redis> redis = caches.redis();
        String k = caches.redisKey(name, key);
        if (redis.isPresent()) {
            Optional<String> cached = redis.get().get(k);
            if (cached.isPresent()) {
                l2Hits.increment();
                return decode(cached.get());
            }
            l2Misses.increment();
        }
        String token = UUID.randomUUID().toString();
        boolean leased = redis.map(r -> r.setIfAbsent(lease(k), token, 5_000)).orElse(false);
        loads.increment();
        Optional<V> value = loader.get();
        if (leased) {
            long ttl = jitter(value.isPresent() ? l2Ttl.toMillis() : negativeTtl.toMillis());
            String encoded = value.map(v -> encode(v, version.applyAsLong(v))).orElse(ABSENT);
            if (utf8Length(encoded) > l2MaxValueBytes) {
                l2Oversize.increment();
                redis.get().eval(RELEASE, new String[] {lease(k)}, token);
            } else {
                redis.get().eval(FILL, new String[] {k, lease(k)}, token, encoded, Long.toString(ttl));
            }
        }
        return value;
    }

    /** An entry's L1 weight: its JSON bytes and key, never less than the per-entry share. */
    private int weight(String key, Optional<V> value) {
        long bytes = key.length() + value.map(v -> {
            try {
                var counter = new ByteCounter();
                json.writeValue(counter, v);
                return counter.count();
            } catch (java.io.IOException e) {
                return 0L;
            }
        }).orElse(0L);
        return (int) Math.min(Integer.MAX_VALUE, Math.max(minWeight, bytes));
    }

    /** UTF-8 bytes of {@code s}, as Redis will store it, without encoding it. */
    static long utf8Length(String s) {
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                n++;
            } else if (c < 0x800 || Character.isSurrogate(c)) {
                n += 2; // a surrogate pair is 4 bytes: 2 per half
            } else {
                n += 3;
            }
        }
        return n;
    }

    private String encode(V value, long v) {
        try {
            return v + "|" + json.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode a " + name + " entry", e);
        }
    }

    private Optional<V> decode(String s) {
        if (ABSENT.equals(s)) {
            return Optional.empty();
        }
        try {
            return Optional.of(json.readValue(s.substring(s.indexOf('|') + 1), type));
        } catch (JsonProcessingException e) {
            return Optional.empty();
        }
    }

    private static String lease(String key) {
        return key + ":lease";
    }

    /** ±10% so that entries written together do not expire together. */
    static long jitter(long amount) {
        long spread = amount / 10;
        return spread <= 0 ? amount : amount - spread + ThreadLocalRandom.current().nextLong(2 * spread + 1);
    }
}
