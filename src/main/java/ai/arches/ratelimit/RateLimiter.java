package ai.arches.ratelimit;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

import ai.arches.cache.Redis;
import ai.arches.common.RateLimitStatus;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.EstimationProbe;
import io.github.bucket4j.distributed.ExpirationAfterWriteStrategy;
import io.github.bucket4j.distributed.proxy.ProxyManager;
import io.github.bucket4j.distributed.proxy.optimization.DelayParameters;
import io.github.bucket4j.distributed.proxy.optimization.Optimizations;
import io.github.bucket4j.redis.lettuce.Bucket4jLettuce;

/**
 * Token buckets by Bucket4j: shared by every node through Redis (compare-and-swap buckets),
 * and kept per node in memory when Redis is not configured or not answering, so an outage
 * loosens limits to per-node ones instead of failing requests. Each bucket holds {@code limit}
 * tokens and refills all of them once per window.
 *
 * <p>A Redis round trip per request cost 60% of read throughput in the bench (4.4k against 11.7k
 * req/s), so each node consumes locally and synchronizes a bucket with Redis every
 * {@link #SYNC} or every 2% of its limit (Bucket4j's "delaying" optimization): a caller can get
 * at most that much past its limit per node, and a limit of 50 or less is synchronized on every
 * request, exactly as before.
 */
public final class RateLimiter {
    private static final Logger LOG = Logger.getLogger(RateLimiter.class.getName());

    private final Optional<Redis> redis;
    private final Duration timeout;
    private final String prefix;
    private final Cache<String, Bucket> local = Caffeine.newBuilder().maximumSize(200_000)
            .expireAfterAccess(Duration.ofHours(1)).build();
    private static final Duration SYNC = Duration.ofMillis(100);
    private volatile ProxyManager<byte[]> remote;
    /** Optimized proxies keep local state, so one per bucket key is kept and reused. */
    private final Cache<String, Bucket> proxies = Caffeine.newBuilder().maximumSize(200_000)
            .expireAfterAccess(Duration.ofMinutes(30)).build();

    public RateLimiter(Optional<Redis> redis, Duration timeout, String keyPrefix) {
        this.redis = redis;
        this.timeout = timeout;
        this.prefix = keyPrefix;
    }

    /** The outcome of taking a token: whether it was granted, and the caller's standing. */
    public record Decision(boolean allowed, RateLimitStatus status) {}

    /** Takes one token from the caller's bucket. */
    public Decision consume(String key, long limit, Duration window) {
        ConsumptionProbe p = withBucket(key, limit, window, b -> b.tryConsumeAndReturnRemaining(1));
        return new Decision(p.isConsumed(), status(limit, p));
    }

    /**
     * The standing of a bucket without taking a token: {@code allowed} is false when it is empty.
     * Login failures are counted apart from attempts, so a correct password is never refused for
     * other people's failures unless the account or address is already over its limit.
     */
    public Decision peek(String key, long limit, Duration window) {
        return withBucket(key, limit, window, b -> {
            EstimationProbe e = b.estimateAbilityToConsume(1);
            long retry = e.canBeConsumed() ? 0 : Math.max(1, (long) Math.ceil(e.getNanosToWaitForRefill() / 1e9));
            return new Decision(e.canBeConsumed(), new RateLimitStatus(limit, e.getRemainingTokens(), retry, retry));
        });
    }

    /** Takes a token if one is left (a failed login). */
    public void take(String key, long limit, Duration window) {
        withBucket(key, limit, window, b -> b.tryConsume(1));
    }

    private static RateLimitStatus status(long limit, ConsumptionProbe p) {
        long reset = Math.max(0, (long) Math.ceil(p.getNanosToWaitForReset() / 1e9));
        long retry = p.isConsumed() ? 0 : Math.max(1, (long) Math.ceil(p.getNanosToWaitForRefill() / 1e9));
        return new RateLimitStatus(limit, p.getRemainingTokens(), reset, retry);
    }

    private <T> T withBucket(String key, long limit, Duration window, Function<Bucket, T> op) {
        ProxyManager<byte[]> shared = shared();
        if (shared != null) {
            // The limit is part of the key: a bucket stored under another configuration is not reused.
            String id = prefix + "rl:" + key + ":" + limit + "/" + window.toSeconds();
            try {
                Bucket proxy = proxies.get(id, k -> shared.builder()
                        .withOptimization(Optimizations.delaying(new DelayParameters(Math.max(1, limit / 50), SYNC)))
                        .build(k.getBytes(StandardCharsets.UTF_8), () -> BucketConfiguration.builder()
                                .addLimit(bandwidth(limit, window)).build()));
                return op.apply(proxy);
            } catch (RuntimeException e) {
                LOG.log(Level.FINE, "shared rate limit bucket unavailable; using this node's", e);
            }
        }
        return op.apply(local.get(key, k -> Bucket.builder().addLimit(bandwidth(limit, window)).build()));
    }

    private static Bandwidth bandwidth(long limit, Duration window) {
        return Bandwidth.builder().capacity(limit).refillIntervally(limit, window).build();
    }

    private ProxyManager<byte[]> shared() {
        if (redis.isEmpty() || !redis.get().available()) {
            return null;
        }
        ProxyManager<byte[]> p = remote;
        if (p == null) {
            synchronized (this) {
                if (remote == null) {
                    try {
                        remote = Bucket4jLettuce.casBasedBuilder(redis.get().client())
                                .requestTimeout(timeout)
                                .expirationAfterWrite(ExpirationAfterWriteStrategy
                                        .basedOnTimeForRefillingBucketUpToMax(Duration.ofSeconds(10)))
                                .build();
                    } catch (RuntimeException e) {
                        LOG.log(Level.FINE, "redis rate limiter unavailable; per-node buckets", e);
                        return null;
                    }
                }
                p = remote;
            }
        }
        return p;
    }
}
