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
    private static final String ABSENT = "-";

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

    TieredCache(String name, Caches caches, JavaType type, ObjectMapper json, ToLongFunction<V> version,
                Duration l1Ttl, Duration l2Ttl, Duration negativeTtl, long maxSize, MeterRegistry registry,
                Executor loaders) {
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
                .maximumSize(maxSize)
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
        boolean ok = caches.redis().map(r -> r.eval(PUT_NEWER, new String[] {k, lease(k)}, encode(value, v),
                Long.toString(v), Long.toString(jitter(l2Ttl.toMillis()))).isPresent()).orElse(true);
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
            redis.get().eval(FILL, new String[] {k, lease(k)}, token, encoded, Long.toString(ttl));
        }
        return value;
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
