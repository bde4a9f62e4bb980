package ai.arches.content;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import ai.arches.cache.Caches;
import ai.arches.cache.TieredCache;
import ai.arches.common.ServiceUnavailableException;
import ai.arches.embedding.Embedder;
import ai.arches.embedding.EmbeddingException;

import com.pgvector.PGvector;

/**
 * Query texts as vectors, cached in both cache levels by model and normalized text (the vector of
 * a text never changes, so entries are never invalidated, only expire). Misses are embedded on a
 * few platform threads: the request's virtual thread waits on a future instead of pinning a
 * carrier through several ms of native code. The executor's queue is the fair (FIFO) gate; it is
 * bounded, and a query waits at most {@code timeout} for its vector, so a burst of distinct queries
 * gets quick 503s (Retry-After) instead of an ever longer wait.
 */
final class QueryVectors implements AutoCloseable {
    /** Bounds this node's copies; Redis keeps them for the configured TTL. */
    private static final Duration L1_TTL = Duration.ofMinutes(10);

    private final Embedder embedder;
    private final TieredCache<float[]> cache;
    private final ThreadPoolExecutor pool;
    private final Duration timeout;
    private final long retryAfterSeconds;

    QueryVectors(Embedder embedder, Caches caches, int concurrency, Duration ttl, Duration timeout, int queue) {
        this.embedder = embedder;
        this.cache = caches.immutable("query-vectors", float[].class, ttl.compareTo(L1_TTL) < 0 ? ttl : L1_TTL, ttl);
        this.timeout = timeout;
        this.retryAfterSeconds = Math.max(1, (timeout.toMillis() + 999) / 1000);
        // queue 0: no waiting at all beyond the busy threads (a SynchronousQueue hands over or refuses).
        BlockingQueue<Runnable> waiting = queue == 0 ? new SynchronousQueue<>() : new ArrayBlockingQueue<>(queue, true);
        this.pool = new ThreadPoolExecutor(concurrency, concurrency, 0, TimeUnit.MILLISECONDS, waiting,
                Thread.ofPlatform().name("query-embed-", 0).daemon().factory(), new ThreadPoolExecutor.AbortPolicy());
    }

    /** The query's vector in pgvector's text form; 503 when the provider cannot answer in time. */
    String vector(String query) {
        String normalized = query.strip().replaceAll("\\s+", " ").toLowerCase(Locale.ROOT);
        String key = embedder.modelId() + ":" + sha256(normalized);
        float[] v = cache.get(key, () -> Optional.of(embed(normalized))).orElseThrow();
        return new PGvector(v).toString();
    }

    private float[] embed(String text) {
        Future<List<float[]>> f;
        try {
            f = pool.submit(() -> embedder.embed(List.of(text)));
        } catch (RejectedExecutionException e) {
            throw busy("too many queries are waiting for the embedding model (" + pool.getQueue().size()
                    + " queued, " + pool.getActiveCount() + " embedding)");
        }
        try {
            return f.get(timeout.toNanos(), TimeUnit.NANOSECONDS).getFirst();
        } catch (TimeoutException e) {
            // A query still queued leaves the queue now; one inside the model finishes and is dropped.
            f.cancel(false);
            pool.remove((Runnable) f);
            throw busy("the query was not embedded within " + timeout.toMillis() + " ms");
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw new ServiceUnavailableException("interrupted while embedding the query");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof EmbeddingException ee) {
                // Provider replies and errors can name internal hosts: the log keeps them (as the cause).
                throw new ServiceUnavailableException("the embedding provider did not answer; keyword search still works", ee);
            }
            throw new IllegalStateException(e.getCause());
        }
    }

    private ServiceUnavailableException busy(String detail) {
        return new ServiceUnavailableException(detail + "; try again shortly", null, retryAfterSeconds);
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
