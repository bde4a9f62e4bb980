package ai.arches.content;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.logging.Level;
import java.util.logging.Logger;

import ai.arches.config.ArchesConfig;
import ai.arches.embedding.Embedder;
import ai.arches.embedding.Passages;
import ai.arches.embedding.Vectors;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * The background embedding pool: {@code workers} platform threads (the model is CPU-bound native
 * code, so one thread per core, none of them virtual) that claim batches of documents from
 * {@link EmbeddingQueue}, embed their passages and store the vectors. A failure puts the document
 * back with an exponential backoff until {@code maxAttempts}, then leaves it failed with the error.
 * Backlog depth is refreshed on every node (workers or not) for the {@code embedding_backlog} gauge.
 */
public final class EmbeddingWorker implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(EmbeddingWorker.class.getName());
    /** Passages sent to the model at once; bounds memory for very long documents. */
    private static final int MODEL_BATCH = 64;
    private static final Duration MAX_BACKOFF = Duration.ofHours(1);

    private final EmbeddingQueue queue;
    private final Embedder embedder;
    private final Passages passages;
    private final ArchesConfig.Embedding cfg;
    private final BiConsumer<UUID, UUID> changed;
    private final List<Thread> threads = new ArrayList<>();
    private final Thread backlogThread;
    private final AtomicLong pending = new AtomicLong();
    private final AtomicLong processing = new AtomicLong();
    private final Timer embedTime;
    private final Timer passageTime;
    private final Counter passagesDone;
    private final Counter ready;
    private final Counter retried;
    private final Counter failed;
    private volatile boolean stopping;

    /**
     * @param changed told (organization, document) whenever a document's embedding state changes,
     *                so cached copies are dropped
     */
    public EmbeddingWorker(Contents contents, Embedder embedder, Passages passages, ArchesConfig.Embedding cfg,
                           MeterRegistry registry) {
        this.queue = contents.queue();
        this.embedder = embedder;
        this.passages = passages;
        this.cfg = cfg;
        this.changed = contents::embeddingChanged;
        Gauge.builder("embedding_backlog", pending, AtomicLong::get).tag("status", "pending")
                .description("Documents waiting for embedding").register(registry);
        Gauge.builder("embedding_backlog", processing, AtomicLong::get).tag("status", "processing")
                .description("Documents being embedded").register(registry);
        this.embedTime = Timer.builder("embedding_document_duration_seconds")
                .description("Time to embed one document, all its passages").register(registry);
        this.passageTime = Timer.builder("embedding_model_duration_seconds")
                .description("Model time per call (up to " + MODEL_BATCH + " passages)").register(registry);
        this.passagesDone = Counter.builder("embedding_passages").description("Passages embedded").register(registry);
        this.ready = counter(registry, "ready");
        this.retried = counter(registry, "retry");
        this.failed = counter(registry, "failed");
        for (int i = 0; i < cfg.workers(); i++) {
            threads.add(Thread.ofPlatform().name("embedding-" + i).daemon().start(this::run));
        }
        this.backlogThread = Thread.ofVirtual().name("embedding-backlog").start(this::refreshBacklog);
    }

    private static Counter counter(MeterRegistry registry, String result) {
        return Counter.builder("embedding_documents").tag("result", result)
                .description("Documents finished by the embedding workers").register(registry);
    }

    private void run() {
        UUID claim = UUID.randomUUID();
        try {
            long seen = queue.signals();
            while (!stopping) {
                List<EmbeddingQueue.Claimed> batch;
                try {
                    batch = queue.claim(claim, cfg.batchSize(), cfg.lease());
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "embedding: claiming work failed; retrying", e);
                    seen = queue.await(seen, cfg.pollInterval());
                    continue;
                }
                if (batch.isEmpty()) {
                    seen = queue.await(seen, cfg.pollInterval());
                    continue;
                }
                try {
                    batch.forEach(d -> changed.accept(d.organizationId(), d.id()));
                    process(batch, claim);
                } catch (RuntimeException e) {
                    // Reading the passages failed (the database is away): keep this thread alive and
                    // give the batch back now rather than when its lease runs out.
                    LOG.log(Level.WARNING, "embedding: processing a batch failed; giving it back", e);
                    release(claim);
                    seen = queue.await(seen, cfg.pollInterval());
                }
                if (stopping) {
                    break; // what the batch did not finish is given back below, under its own claim
                }
                // A new claim id per batch: a late result of this batch can never match a later claim.
                claim = UUID.randomUUID();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            release(claim);
        }
    }

    private void release(UUID claim) {
        try {
            queue.release(claim);
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "embedding: giving back claimed documents failed; their lease expires", e);
        }
    }

    private void process(List<EmbeddingQueue.Claimed> batch, UUID claim) {
        Map<UUID, List<EmbeddingQueue.Passage>> byDoc = new LinkedHashMap<>();
        for (EmbeddingQueue.Passage p : queue.passages(batch.stream().map(EmbeddingQueue.Claimed::id).toList())) {
            byDoc.computeIfAbsent(p.contentId(), k -> new ArrayList<>()).add(p);
        }
        for (EmbeddingQueue.Claimed doc : batch) {
            if (stopping) {
                return;
            }
            long start = System.nanoTime();
            try {
                List<EmbeddingQueue.Passage> stored = byDoc.get(doc.id());
                // Documents from before passages existed have none: chunk them now.
                List<String> texts = stored == null ? passages.split(doc.title(), doc.body()) : null;
                List<String> inputs = new ArrayList<>();
                List<String> source = texts != null ? texts : stored.stream().map(EmbeddingQueue.Passage::text).toList();
                for (int i = 0; i < source.size(); i++) {
                    inputs.add(Passages.modelInput(doc.title(), i, source.get(i)));
                }
                List<float[]> vectors = embed(inputs);
                if (queue.complete(doc, claim, texts, vectors, Vectors.mean(vectors))) {
                    ready.increment();
                    passagesDone.increment(vectors.size());
                    embedTime.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
                }
            } catch (RuntimeException e) {
                onFailure(doc, claim, e);
            }
            changed.accept(doc.organizationId(), doc.id());
        }
    }

    private List<float[]> embed(List<String> inputs) {
        List<float[]> out = new ArrayList<>(inputs.size());
        for (int from = 0; from < inputs.size(); from += MODEL_BATCH) {
            List<String> part = inputs.subList(from, Math.min(inputs.size(), from + MODEL_BATCH));
            long t = System.nanoTime();
            List<float[]> vectors = embedder.embed(part);
            passageTime.record(System.nanoTime() - t, TimeUnit.NANOSECONDS);
            if (vectors.size() != part.size()) {
                throw new IllegalStateException("model returned " + vectors.size() + " vectors for " + part.size());
            }
            out.addAll(vectors);
        }
        return out;
    }

    private void onFailure(EmbeddingQueue.Claimed doc, UUID claim, RuntimeException e) {
        String error = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        boolean last = doc.attempts() >= cfg.maxAttempts();
        LOG.log(last ? Level.WARNING : Level.INFO, "embedding: document " + doc.id() + " attempt " + doc.attempts()
                + (last ? " failed for good: " : " failed, will retry: ") + error);
        try {
            if (queue.fail(doc, claim, error, cfg.maxAttempts(), backoff(doc.attempts()))) {
                (last ? failed : retried).increment();
            }
        } catch (RuntimeException inner) {
            LOG.log(Level.WARNING, "embedding: recording a failure failed; the lease will retry it", inner);
        }
    }

    /** retry_backoff doubled per attempt, capped at an hour, with ±25% jitter against lockstep. */
    private Duration backoff(int attempts) {
        long base = cfg.retryBackoff().toMillis() << Math.min(attempts - 1, 20);
        long capped = Math.min(base, MAX_BACKOFF.toMillis());
        return Duration.ofMillis((long) (capped * ThreadLocalRandom.current().nextDouble(0.75, 1.25)));
    }

    private void refreshBacklog() {
        try {
            while (!stopping) {
                try {
                    long[] b = queue.backlog();
                    pending.set(b[0]);
                    processing.set(b[1]);
                } catch (RuntimeException e) {
                    LOG.log(Level.FINE, "embedding: backlog refresh failed", e);
                }
                Thread.sleep(cfg.pollInterval());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops claiming, lets each thread finish its current document, gives the rest back. */
    @Override
    public void close() {
        stopping = true;
        queue.wake();
        backlogThread.interrupt();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        for (Thread t : threads) {
            try {
                t.join(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
