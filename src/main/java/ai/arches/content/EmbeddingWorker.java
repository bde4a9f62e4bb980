package ai.arches.content;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.logging.Level;
import java.util.logging.Logger;

import ai.arches.config.ArchesConfig;
import ai.arches.embedding.Embedder;
import ai.arches.embedding.Passages;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * The background embedding pool: {@code workers} platform threads (the model is CPU-bound native
 * code, so one thread per core, none of them virtual) that claim slices of documents from
 * {@link EmbeddingQueue} (organizations take turns), embed the slice's passages and store the
 * vectors; a document's last slice makes it ready. A failure puts the document back with an
 * exponential backoff until {@code maxAttempts}, then leaves it failed with the error.
 * <p>Each thread publishes its live claim in {@code live}; one heartbeat thread per node renews
 * those claims' leases every lease/3 in one statement, so a short lease never expires under work
 * in progress, while a node that dies stops renewing and its claims come back within a lease.
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
    private final Thread heartbeatThread;
    /** Claims this node's threads are working under; what the heartbeat renews. */
    private final Set<UUID> live = ConcurrentHashMap.newKeySet();
    private final AtomicLong pending = new AtomicLong();
    private final AtomicLong processing = new AtomicLong();
    private final Timer embedTime;
    private final Timer passageTime;
    private final Counter passagesDone;
    private final Counter ready;
    private final Counter retried;
    private final Counter failed;
    private volatile boolean stopping;
    /** Set by {@link #halt()} only: the node behaves as if killed, writing and releasing nothing. */
    private volatile boolean halted;

    /**
     * @param changed told (organization, document) whenever a document's embedding state changes,
     *                so cached copies are dropped
     */
    public EmbeddingWorker(Contents contents, Embedder embedder, Passages passages, ArchesConfig.Embedding cfg,
                           MeterRegistry registry) {
        this(contents.queue(), contents::embeddingChanged, embedder, passages, cfg, registry);
    }

    /** A pool over a bare queue: tests run one as a second "node" they can {@link #halt()}. */
    EmbeddingWorker(EmbeddingQueue queue, BiConsumer<UUID, UUID> changed, Embedder embedder, Passages passages,
                    ArchesConfig.Embedding cfg, MeterRegistry registry) {
        this.queue = queue;
        this.embedder = embedder;
        this.passages = passages;
        this.cfg = cfg;
        this.changed = changed;
        Gauge.builder("embedding_backlog", pending, AtomicLong::get).tag("status", "pending")
                .description("Documents waiting for embedding").register(registry);
        Gauge.builder("embedding_backlog", processing, AtomicLong::get).tag("status", "processing")
                .description("Documents being embedded").register(registry);
        this.embedTime = Timer.builder("embedding_document_duration_seconds")
                .description("Time to embed one slice of a document (up to embedding.slice_passages passages)")
                .register(registry);
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
        this.heartbeatThread = Thread.ofVirtual().name("embedding-heartbeat").start(this::heartbeat);
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
                // Published before the claim exists, so no heartbeat can miss a claim just taken.
                live.add(claim);
                try {
                    batch = queue.claim(claim, cfg.batchSize(), cfg.lease());
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "embedding: claiming work failed; retrying", e);
                    live.remove(claim);
                    seen = queue.await(seen, cfg.pollInterval());
                    continue;
                }
                if (batch.isEmpty()) {
                    live.remove(claim);
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
                live.remove(claim);
                // A new claim id per batch: a late result of this batch can never match a later claim.
                claim = UUID.randomUUID();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            release(claim);
            live.remove(claim);
        }
    }

    private void release(UUID claim) {
        if (halted) {
            return; // a killed node gives nothing back: its leases run out
        }
        try {
            queue.release(claim);
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "embedding: giving back claimed documents failed; their lease expires", e);
        }
    }

    private void process(List<EmbeddingQueue.Claimed> batch, UUID claim) {
        int slice = cfg.slicePassages();
        for (EmbeddingQueue.Claimed doc : batch) {
            if (stopping) {
                return;
            }
            long start = System.nanoTime();
            List<EmbeddingQueue.Passage> stored = queue.slice(doc.id(), doc.next(), slice);
            if (stored.isEmpty() && doc.next() == 0) {
                // Documents from before passages existed have none: chunk them now.
                if (!queue.writePassages(doc, claim, passages.split(doc.title(), doc.body()))) {
                    continue;
                }
                stored = queue.slice(doc.id(), 0, slice);
            }
            if (stored.isEmpty()) {
                // Passages vanish only with an edit, which also takes the claim: then this records nothing.
                onFailure(doc, claim, new IllegalStateException("no passages from ordinal " + doc.next()));
                changed.accept(doc.organizationId(), doc.id());
                continue;
            }
            boolean last = stored.size() <= slice;
            List<EmbeddingQueue.Passage> work = last ? stored : stored.subList(0, slice);
            try {
                List<String> inputs = new ArrayList<>(work.size());
                for (EmbeddingQueue.Passage p : work) {
                    inputs.add(Passages.modelInput(doc.title(), p.ordinal(), p.text()));
                }
                List<float[]> vectors = embed(inputs);
                if (halted) {
                    return;
                }
                if (queue.complete(doc, claim, work, vectors, last)) {
                    passagesDone.increment(vectors.size());
                    embedTime.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
                    if (last) {
                        ready.increment();
                    } else {
                        queue.wake(); // the rest of the document is due at once, behind other organizations
                    }
                }
            } catch (RuntimeException e) {
                if (halted) {
                    return;
                }
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

    /**
     * Renews the leases of this node's live claims every lease/3: two missed beats still leave a
     * third before the lease runs out. A failed renewal is retried at the next beat.
     */
    private void heartbeat() {
        Duration every = cfg.lease().dividedBy(3);
        try {
            while (!stopping && !halted) {
                Thread.sleep(every);
                if (halted) {
                    return;
                }
                try {
                    queue.renew(live, cfg.lease());
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "embedding: renewing claim leases failed; retrying at the next beat", e);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Simulates this node being killed (SIGKILL) for tests: from now on it renews no lease, writes
     * no result and gives no claim back; its threads stop as they come out of the model.
     */
    void halt() {
        halted = true;
        stopping = true;
        heartbeatThread.interrupt();
        backlogThread.interrupt();
    }

    /** Stops claiming, lets each thread finish its current slice, gives the rest back. */
    @Override
    public void close() {
        stopping = true;
        queue.wake();
        backlogThread.interrupt();
        heartbeatThread.interrupt();
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
