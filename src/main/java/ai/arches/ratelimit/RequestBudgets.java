package ai.arches.ratelimit;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

import ai.arches.cache.Redis;
import ai.arches.common.RateLimitStatus;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

/**
 * Per-request budgets counted in memory and reconciled through Redis in the background, so a
 * request pays an atomic increment and never a Redis command.
 *
 * <p>Each key has fixed windows aligned to the epoch (every node agrees where a window starts
 * without talking). A node grants a take while its own takes in the window plus the last known
 * count of every other node's stay under the limit. Every {@code syncInterval} one platform
 * thread pushes each key's new local takes to Redis, one Lua script per batch (INCRBY on the
 * window's key, with an expiry), and learns the cluster total from the answer.
 *
 * <p>Bound: a node learns the others' takes about one interval late, so the cluster can exceed a
 * limit by at most about nodes × (rate per node × syncInterval) per window (twice that with the
 * worst timing: a take waits up to one interval to be pushed, and another node up to one more
 * to push and learn it); a single node never exceeds it. With Redis absent or not answering (its circuit breaker open, a push timed
 * out) each node keeps counting its own window: limits loosen to per node, requests never fail.
 *
 * <p>Concurrency: {@link Window#taken} changes only by compare-and-set, so one node's grants
 * never pass the limit; {@link Window#pushed} is touched only by {@link #reconcile}, which runs
 * on one thread at a time; {@link Window#others} only grows within a window (a stale value is an
 * underestimate, so it can let a take through late but never refuse one wrongly).
 */
final class RequestBudgets implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(RequestBudgets.class.getName());
    /** Keys per script: one script is one Redis command, and a long one would stall Redis for others. */
    static final int BATCH = 500;
    /**
     * Adds each ARGV[2i-1] to KEYS[i]; a key this created (its total is the delta) expires after
     * ARGV[2i] ms, a window past the window's end as this node's clock sees it (relative, so clock
     * skew against Redis does not matter). Answers the totals in key order.
     */
    private static final String PUSH = """
            local totals = {}
            for i = 1, #KEYS do
              local delta = tonumber(ARGV[2 * i - 1])
              local total = redis.call('INCRBY', KEYS[i], delta)
              if total == delta then
                redis.call('PEXPIRE', KEYS[i], ARGV[2 * i])
              end
              totals[i] = total
            end
            return totals""";

    private final Optional<Redis> redis;
    private final String prefix;
    private final Clock clock;
    private final Duration syncInterval;
    private final Cache<String, Slot> slots = Caffeine.newBuilder().maximumSize(200_000)
            .expireAfterAccess(Duration.ofHours(1)).build();
    /** Windows with takes not yet pushed; each is queued at most once until the push drains it. */
    private final Queue<Window> dirty = new ConcurrentLinkedQueue<>();
    private volatile ScheduledExecutorService reconciler;
    /** Set once the reconciler runs: until then nothing would drain {@link #dirty}. */
    private volatile boolean syncing;

    RequestBudgets(Optional<Redis> redis, String keyPrefix, Duration syncInterval, Clock clock) {
        this.redis = redis;
        this.prefix = keyPrefix;
        this.syncInterval = syncInterval;
        this.clock = clock;
    }

    /** Starts the background reconciler (nothing to do without Redis). */
    void start() {
        if (redis.isEmpty() || reconciler != null) {
            return;
        }
        // A platform thread: one wake-up per interval, and it must not queue behind request work.
        ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("rate-limit-sync").daemon().factory());
        long every = syncInterval.toNanos();
        s.scheduleWithFixedDelay(this::reconcileQuietly, every, every, TimeUnit.NANOSECONDS);
        reconciler = s;
        syncing = true;
    }

    /** Takes one request from {@code key}'s budget of {@code limit} per {@code window}. */
    RateLimiter.Decision consume(String key, long limit, Duration window) {
        long windowMs = window.toMillis();
        long now = clock.millis();
        String id = key + ":" + windowMs;
        Window w = slots.get(id, k -> new Slot(k, windowMs)).current(now / windowMs);
        long others = w.others;
        long reset = Math.max(1, ((w.index + 1) * windowMs - now + 999) / 1000);
        while (true) {
            long t = w.taken.get();
            if (t + others >= limit) {
                return new RateLimiter.Decision(false, new RateLimitStatus(limit, 0, reset, reset));
            }
            if (w.taken.compareAndSet(t, t + 1)) {
                if (syncing && !w.queued.get() && w.queued.compareAndSet(false, true)) {
                    dirty.add(w);
                }
                return new RateLimiter.Decision(true, new RateLimitStatus(limit, limit - t - 1 - others, reset, 0));
            }
        }
    }

    private void reconcileQuietly() {
        try {
            reconcile();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "rate limit reconciliation failed", e);
        }
    }

    /**
     * Pushes the windows queued when the pass began (windows queued meanwhile wait for the next
     * pass, so a pass is bounded) and learns the cluster totals. A batch Redis did not take is
     * queued again with its takes unpushed and the pass stops: with Redis slow or away a pass
     * costs one timeout, not one per batch, and the breaker decides when to try again.
     */
    synchronized void reconcile() {
        if (redis.isEmpty()) {
            return;
        }
        int left = dirty.size();
        List<Window> batch = new ArrayList<>(Math.min(BATCH, left));
        for (Window w; left > 0 && (w = dirty.poll()) != null; left--) {
            // Cleared before reading taken: a take after this point queues the window again.
            w.queued.set(false);
            batch.add(w);
            if (batch.size() == BATCH && !flush(batch)) {
                return;
            }
        }
        flush(batch);
    }

    private boolean flush(List<Window> batch) {
        if (batch.isEmpty()) {
            return true;
        }
        if (!push(batch)) {
            for (Window w : batch) {
                if (w.queued.compareAndSet(false, true)) {
                    dirty.add(w);
                }
            }
            return false;
        }
        batch.clear();
        return true;
    }

    /** False when Redis did not answer; the windows then keep their takes unpushed. */
    private boolean push(List<Window> batch) {
        String[] keys = new String[batch.size()];
        String[] args = new String[2 * batch.size()];
        long now = clock.millis();
        long[] deltas = new long[batch.size()];
        for (int i = 0; i < keys.length; i++) {
            Window w = batch.get(i);
            keys[i] = prefix + "rb:" + w.id + ":" + w.index;
            deltas[i] = w.taken.get() - w.pushed;
            args[2 * i] = Long.toString(deltas[i]);
            args[2 * i + 1] = Long.toString(Math.max(w.windowMs, (w.index + 2) * w.windowMs - now));
        }
        Optional<List<Long>> totals = redis.get().evalLongs(PUSH, keys, args);
        if (totals.isEmpty() || totals.get().size() != keys.length) {
            return false;
        }
        for (int i = 0; i < keys.length; i++) {
            Window w = batch.get(i);
            w.pushed += deltas[i];
            long others = totals.get().get(i) - w.pushed;
            if (others > w.others) {
                w.others = others;
            }
        }
        return true;
    }

    @Override
    public void close() {
        ScheduledExecutorService s = reconciler;
        if (s != null) {
            s.shutdownNow();
        }
    }

    /** One key's current window; replaced, never reset, when time moves into the next window. */
    private static final class Slot {
        private final String id;
        private final long windowMs;
        private volatile Window current;

        Slot(String id, long windowMs) {
            this.id = id;
            this.windowMs = windowMs;
            this.current = new Window(id, -1, windowMs);
        }

        Window current(long index) {
            Window w = current;
            while (w.index < index) {
                Window next = new Window(id, index, windowMs);
                synchronized (this) {
                    if (current.index < index) {
                        current = next;
                    }
                    w = current;
                }
            }
            return w;
        }
    }

    private static final class Window {
        final String id;
        final long index;
        final long windowMs;
        final AtomicLong taken = new AtomicLong();
        final AtomicBoolean queued = new AtomicBoolean();
        /** Takes this node has pushed to Redis for this window (reconciler only). */
        long pushed;
        /** The other nodes' takes in this window, as last learned from Redis. */
        volatile long others;

        Window(String id, long index, long windowMs) {
            this.id = id;
            this.index = index;
            this.windowMs = windowMs;
        }
    }
}
