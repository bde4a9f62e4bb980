package ai.arches.content;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

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
 * carrier through several ms of native code, and the executor's queue is the fair gate.
 */
final class QueryVectors implements AutoCloseable {
    /** Bounds this node's copies; Redis keeps them for the configured TTL. */
    private static final Duration L1_TTL = Duration.ofMinutes(10);

    private final Embedder embedder;
    private final TieredCache<float[]> cache;
    private final ExecutorService pool;

    QueryVectors(Embedder embedder, Caches caches, int concurrency, Duration ttl) {
        this.embedder = embedder;
        this.cache = caches.immutable("query-vectors", float[].class, ttl.compareTo(L1_TTL) < 0 ? ttl : L1_TTL, ttl);
        this.pool = Executors.newFixedThreadPool(concurrency, Thread.ofPlatform().name("query-embed-", 0).daemon().factory());
    }

    /** The query's vector in pgvector's text form; 503 when the provider cannot be reached. */
    String vector(String query) {
        String normalized = query.strip().replaceAll("\\s+", " ").toLowerCase(Locale.ROOT);
        String key = embedder.modelId() + ":" + sha256(normalized);
        float[] v = cache.get(key, () -> Optional.of(embed(normalized))).orElseThrow();
        return new PGvector(v).toString();
    }

    private float[] embed(String text) {
        Future<List<float[]>> f = pool.submit(() -> embedder.embed(List.of(text)));
        try {
            return f.get().getFirst();
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
