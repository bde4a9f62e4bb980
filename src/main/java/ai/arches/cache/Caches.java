package ai.arches.cache;

import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToLongFunction;
import java.util.logging.Logger;

import ai.arches.config.ArchesConfig;

import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The caching layer's entry type: makes {@link TieredCache}s, keeps them coherent across nodes,
 * and versions namespaces so that a whole family of entries (an organization's lists and
 * searches) is invalidated in O(1) by bumping one counter, never by scanning keys.
 *
 * <p>Coherence: every change is broadcast on a Redis channel and each node drops its L1 copy on
 * hearing it (typically within a millisecond or two; the documented bound is 100 ms). A node
 * that is not subscribed (Redis down, or reconnecting) cannot hear, so it stops trusting its L1
 * and reads through to Redis or PostgreSQL. Redis keys carry an epoch: a node that could not
 * delete or overwrite a Redis entry during an outage bumps the epoch when Redis returns, which
 * makes every older entry unreachable at once, so an outage can cost hit ratio but never serve
 * a row that changed while Redis was away. Without a Redis URL the node runs on L1 alone and its
 * own writes keep it coherent.
 */
public final class Caches implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Caches.class.getName());

    private final ArchesConfig.Cache cfg;
    private final String prefix;
    private final ObjectMapper json;
    private final MeterRegistry registry;
    private final Redis redis;
    private final String node = UUID.randomUUID().toString();
    private final Map<String, TieredCache<?>> caches = new ConcurrentHashMap<>();
    private final Cache<String, Long> namespaces;
    private final Map<String, AtomicLong> localNamespaces = new ConcurrentHashMap<>();
    private final ExecutorService loaders = Executors.newVirtualThreadPerTaskExecutor();
    private volatile boolean subscribed;
    private volatile boolean dirty;
    private volatile long epoch;

    public Caches(ArchesConfig.Cache cfg, ArchesConfig.Redis redisCfg, Clock clock, ObjectMapper json,
                  MeterRegistry registry) {
        this.cfg = cfg;
        this.prefix = redisCfg.keyPrefix() + ":";
        this.json = json;
        this.registry = registry;
        this.namespaces = Caffeine.newBuilder().maximumSize(100_000).expireAfterWrite(cfg.l1Ttl()).build();
        this.redis = redisCfg.enabled()
                ? new Redis(redisCfg.url(), redisCfg.timeout(), prefix + "cache", clock, this::onMessage, this::onSubscribed,
                        this::onRecovered)
                : null;
        if (redis != null) {
            // 1 while the breaker is not closed (open, or half-open with one probe allowed): no
            // command reaches Redis, so L2 is bypassed and rate limits fall back to per node.
            Gauge.builder("redis.circuit.breaker.open", redis, r -> r.available() ? 0 : 1)
                    .description("1 while the Redis circuit breaker is open or half-open, else 0")
                    .register(registry);
            readEpoch();
        }
    }

    public <V> TieredCache<V> cache(String name, Class<V> type, ToLongFunction<V> version) {
        return cache(name, json.constructType(type), version);
    }

    /**
     * A cache of values that never change for their key (a text's vector, say): no write ever
     * invalidates them, so they may live far longer than rows do.
     */
    public <V> TieredCache<V> immutable(String name, Class<V> type, Duration l1Ttl, Duration l2Ttl) {
        return cache(name, json.constructType(type), v -> 0L, l1Ttl, l2Ttl);
    }

    public <V> TieredCache<V> cache(String name, JavaType type, ToLongFunction<V> version) {
        return cache(name, type, version, cfg.l1Ttl(), cfg.l2Ttl());
    }

    /** With its own TTLs: a short L1 bounds how long a node can miss an invalidation message. */
    public <V> TieredCache<V> cache(String name, Class<V> type, ToLongFunction<V> version, Duration l1Ttl,
                                    Duration l2Ttl) {
        return cache(name, json.constructType(type), version, l1Ttl, l2Ttl);
    }

    @SuppressWarnings("unchecked")
    private <V> TieredCache<V> cache(String name, JavaType type, ToLongFunction<V> version, Duration l1Ttl,
                                     Duration l2Ttl) {
        return (TieredCache<V>) caches.computeIfAbsent(name, n -> new TieredCache<>(n, this, type, json, version,
                l1Ttl, l2Ttl, cfg.negativeTtl(),
                new TieredCache.Limits(cfg.l1MaxEntries(), cfg.l1MaxBytes(), cfg.l2MaxValueBytes()), registry, loaders));
    }

    public ObjectMapper json() {
        return json;
    }

    /**
     * The current version of a namespace, to put into keys; -1 when it cannot be known (Redis
     * configured but unreachable), in which case the caller must not cache.
     */
    public long namespace(String ns) {
        if (redis == null) {
            return localNamespaces.computeIfAbsent(ns, k -> new AtomicLong()).get();
        }
        if (!l1Trusted()) {
            return -1;
        }
        Long v = namespaces.getIfPresent(ns);
        if (v != null) {
            return v;
        }
        Optional<Optional<String>> stored = redis.fetch(prefix + "ns:" + ns);
        if (stored.isEmpty()) {
            return -1;
        }
        long version = stored.get().map(Long::parseLong).orElse(0L);
        namespaces.put(ns, version);
        return version;
    }

    /** Invalidates every entry keyed under the namespace, on every node, in O(1). */
    public void bump(String ns) {
        if (redis == null) {
            localNamespaces.computeIfAbsent(ns, k -> new AtomicLong()).incrementAndGet();
            return;
        }
        OptionalLong v = redis.incr(prefix + "ns:" + ns);
        if (v.isEmpty()) {
            markDirty();
            namespaces.invalidate(ns);
            return;
        }
        namespaces.put(ns, v.getAsLong());
        if (!redis.publish(node + " ns " + ns + " " + v.getAsLong())) {
            markDirty();
        }
    }

    /** "up", "degraded" (Redis configured but not answering) or "off" (no Redis configured). */
    public String redisHealth() {
        if (redis == null) {
            return "off";
        }
        return redis.ping() ? "up" : "degraded";
    }

    /** Prefix for other users of the shared Redis (rate limits). */
    public String keyPrefix() {
        return prefix;
    }

    public Optional<Redis> redisConnection() {
        return Optional.ofNullable(redis);
    }

    boolean l1Trusted() {
        return redis == null || (subscribed && redis.available());
    }

    Optional<Redis> redis() {
        return redis != null && redis.available() ? Optional.of(redis) : Optional.empty();
    }

    String redisKey(String cache, String key) {
        return prefix + epoch + ":" + cache + ":" + key;
    }

    void broadcast(String cache, String key) {
        if (redis != null && !redis.publish(node + " inv " + cache + " " + key)) {
            markDirty();
        }
    }

    void markDirty() {
        if (redis != null) {
            dirty = true;
        }
    }

    private void onMessage(String message) {
        String[] parts = message.split(" ", 4);
        if (parts.length < 3 || parts[0].equals(node)) {
            return;
        }
        switch (parts[1]) {
            case "inv" -> {
                TieredCache<?> c = caches.get(parts[2]);
                if (c != null && parts.length == 4) {
                    c.invalidateLocal(parts[3]);
                }
            }
            case "ns" -> {
                if (parts.length == 4) {
                    namespaces.put(parts[2], Long.parseLong(parts[3]));
                }
            }
            case "epoch" -> {
                epoch = Long.parseLong(parts[2]);
                clearLocal();
            }
            default -> { }
        }
    }

    private void onSubscribed(boolean up) {
        // Whatever happened while unsubscribed went unheard: start L1 afresh either way.
        clearLocal();
        if (up) {
            readEpoch();
        }
        subscribed = up;
    }

    private void onRecovered() {
        if (dirty && redis != null) {
            OptionalLong next = redis.incr(prefix + "epoch");
            if (next.isPresent()) {
                epoch = next.getAsLong();
                dirty = false;
                redis.publish(node + " epoch " + epoch);
                LOG.info("redis is back; entries written before the outage retired (cache epoch " + epoch + ")");
            }
        }
        clearLocal();
    }

    private void readEpoch() {
        redis.get(prefix + "epoch").ifPresent(e -> epoch = Long.parseLong(e));
    }

    private void clearLocal() {
        caches.values().forEach(TieredCache::clearLocal);
        namespaces.invalidateAll();
    }

    @Override
    public void close() {
        loaders.shutdownNow();
        if (redis != null) {
            redis.close();
        }
    }
}
