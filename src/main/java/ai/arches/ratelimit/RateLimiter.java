package ai.arches.ratelimit;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiFunction;
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
import io.github.bucket4j.redis.lettuce.Bucket4jLettuce;

/**
 * Request budgets and exact limits. Budgets ({@link #consume}, every authenticated request) are
 * {@link RequestBudgets}: counted in memory per node and reconciled through Redis every
 * {@code rate_limit.sync_interval}, so a request costs no Redis command and the cluster may pass
 * a limit by about nodes × (rate per node × sync interval). Bucket4j's "delaying" proxies, used
 * here before, cost ~3.6 Redis commands and 330-620 µs per request in RateLimiterBench
 * (each caller's bucket was synchronized on nearly every request); this costs 0.5-1.5 µs.
 *
 * <p>Limits that must hold exactly under concurrency (failed logins, registrations) are Bucket4j
 * token buckets: {@link #reserve} takes through an un-optimized proxy, one compare-and-swap in
 * Redis per take, and can give the token back ({@link Reservation#refund}). Each bucket holds
 * {@code limit} tokens and refills all of them once per window; when Redis is not configured or
 * not answering they are kept per node in memory, so an outage loosens limits to per-node ones
 * instead of failing requests.
 */
public final class RateLimiter implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(RateLimiter.class.getName());

    private final Optional<Redis> redis;
    private final Duration timeout;
    private final String prefix;
    private final Cache<String, Bucket> local = Caffeine.newBuilder().maximumSize(200_000)
            .expireAfterAccess(Duration.ofHours(1)).build();
    private volatile ProxyManager<byte[]> remote;
    private final Lock[] stripes = new Lock[64];
    private final RequestBudgets budgets;

    /** {@code syncInterval}: how often request budgets are reconciled through Redis. */
    public RateLimiter(Optional<Redis> redis, Duration timeout, String keyPrefix, Duration syncInterval, Clock clock) {
        this.redis = redis;
        this.timeout = timeout;
        this.prefix = keyPrefix;
        for (int i = 0; i < stripes.length; i++) {
            stripes[i] = new ReentrantLock();
        }
        this.budgets = new RequestBudgets(redis, keyPrefix, syncInterval, clock);
    }

    /** Starts reconciling request budgets with the other nodes (no-op without Redis). */
    public void start() {
        budgets.start();
    }

    @Override
    public void close() {
        budgets.close();
    }

    /** The outcome of taking a token: whether it was granted, and the caller's standing. */
    public record Decision(boolean allowed, RateLimitStatus status) {}

    /** Takes one request from the caller's budget; never waits for Redis. */
    public Decision consume(String key, long limit, Duration window) {
        return budgets.consume(key, limit, window);
    }

    /**
     * Takes one token, exactly: through Redis without local batching (every take is a
     * compare-and-swap on the shared bucket, so concurrent takes on any node never overshoot),
     * or from this node's bucket when Redis is unavailable. The reservation remembers the bucket
     * it came from, so a refund goes back to the same one.
     */
    public Reservation reserve(String key, long limit, Duration window) {
        return exactly(key, limit, window, (b, lock) -> Reservation.of(b, lock, limit, b.tryConsumeAndReturnRemaining(1)));
    }

    /** Whether a token is left, read as exactly as {@link #reserve} takes one; takes nothing. */
    public Decision available(String key, long limit, Duration window) {
        return exactly(key, limit, window, (b, lock) -> {
            EstimationProbe e = b.estimateAbilityToConsume(1);
            long retry = e.canBeConsumed() ? 0 : Math.max(1, (long) Math.ceil(e.getNanosToWaitForRefill() / 1e9));
            return new Decision(e.canBeConsumed(), new RateLimitStatus(limit, e.getRemainingTokens(), retry, retry));
        });
    }

    private <T> T exactly(String key, long limit, Duration window, BiFunction<Bucket, Lock, T> op) {
        // One exact operation per key at a time on this node: 40 concurrent compare-and-swaps on
        // one Redis key retried past the Redis timeout and fell back to a node-local bucket,
        // which let a burst through; serialized, only other nodes contend.
        Lock lock = stripes[Math.floorMod(key.hashCode(), stripes.length)];
        lock.lock();
        try {
            ProxyManager<byte[]> shared = shared();
            if (shared != null) {
                try {
                    // No optimization: the proxy keeps no local state, so building one per call is cheap.
                    Bucket bucket = shared.builder().build(sharedId(key, limit, window).getBytes(StandardCharsets.UTF_8),
                            () -> BucketConfiguration.builder().addLimit(bandwidth(limit, window)).build());
                    return op.apply(bucket, lock);
                } catch (RuntimeException e) {
                    LOG.log(Level.FINE, "shared rate limit bucket unavailable; using this node's", e);
                }
            }
            return op.apply(localBucket(key, limit, window), lock);
        } finally {
            lock.unlock();
        }
    }

    /**
     * A token taken by {@link #reserve}. {@link #refund} gives a granted token back to the bucket
     * it came from, at most once (a refund that cannot reach Redis is dropped: the attempt then
     * counts, which errs on the side of the limit).
     */
    public static final class Reservation {
        private final Bucket bucket;
        private final Lock lock;
        private final boolean granted;
        private final RateLimitStatus status;
        private final AtomicBoolean held;

        private Reservation(Bucket bucket, Lock lock, boolean granted, RateLimitStatus status) {
            this.bucket = bucket;
            this.lock = lock;
            this.granted = granted;
            this.status = status;
            this.held = new AtomicBoolean(granted);
        }

        private static Reservation of(Bucket bucket, Lock lock, long limit, ConsumptionProbe p) {
            return new Reservation(bucket, lock, p.isConsumed(), RateLimiter.status(limit, p));
        }

        public boolean granted() {
            return granted;
        }

        public RateLimitStatus status() {
            return status;
        }

        public void refund() {
            if (!held.compareAndSet(true, false)) {
                return;
            }
            lock.lock();
            try {
                bucket.addTokens(1);
            } catch (RuntimeException e) {
                LOG.log(Level.FINE, "rate limit refund lost (shared bucket unavailable)", e);
            } finally {
                lock.unlock();
            }
        }
    }

    private static RateLimitStatus status(long limit, ConsumptionProbe p) {
        long reset = Math.max(0, (long) Math.ceil(p.getNanosToWaitForReset() / 1e9));
        long retry = p.isConsumed() ? 0 : Math.max(1, (long) Math.ceil(p.getNanosToWaitForRefill() / 1e9));
        return new RateLimitStatus(limit, p.getRemainingTokens(), reset, retry);
    }

    /** The limit is part of the key: a bucket stored under another configuration is not reused. */
    private String sharedId(String key, long limit, Duration window) {
        return prefix + "rl:" + key + ":" + limit + "/" + window.toSeconds();
    }

    private Bucket localBucket(String key, long limit, Duration window) {
        return local.get(key + ":" + limit + "/" + window.toSeconds(),
                k -> Bucket.builder().addLimit(bandwidth(limit, window)).build());
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
