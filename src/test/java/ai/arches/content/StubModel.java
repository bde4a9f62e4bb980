package ai.arches.content;

import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.Predicate;

import ai.arches.embedding.Embedder;
import ai.arches.embedding.EmbeddingException;
import ai.arches.embedding.Vectors;

/**
 * A stand-in embedding model for the worker tests: a fixed unit vector per text, an optional
 * cost per passage, a hook that can fail or hold a call, and a record of what it embedded.
 */
final class StubModel implements Embedder {
    /** How long a held call waits before failing, so a latch never released cannot hang a test. */
    private static final Duration HOLD_LIMIT = Duration.ofSeconds(30);

    /** Inputs of each call that returned vectors; the first input of a call is the title. */
    final Queue<List<String>> calls = new ConcurrentLinkedQueue<>();
    final CountDownLatch firstSuccess = new CountDownLatch(1);
    volatile Consumer<List<String>> hook = texts -> {};
    volatile Duration perPassage = Duration.ZERO;

    /** {@code holding} opens when a held call is inside the model; {@code release} lets it return. */
    record Hold(CountDownLatch holding, CountDownLatch release) {}

    @Override
    public String modelId() {
        return "stub";
    }

    @Override
    public List<float[]> embed(List<String> texts) {
        hook.accept(texts);
        if (!perPassage.isZero()) {
            // The model's cost, not a wait for work: CPU time the real model would spend.
            LockSupport.parkNanos(perPassage.toNanos() * texts.size());
        }
        calls.add(List.copyOf(texts));
        firstSuccess.countDown();
        return texts.stream().map(StubModel::vector).toList();
    }

    /** The first call whose inputs match waits inside the model until the test releases it. */
    Hold holdFirstCall(Predicate<List<String>> when) {
        Hold hold = new Hold(new CountDownLatch(1), new CountDownLatch(1));
        hook = texts -> {
            if (when.test(texts) && hold.holding().getCount() > 0) {
                hold.holding().countDown();
                await(hold.release());
            }
        };
        return hold;
    }

    /** The worker sends one document per call, title first: the documents embedded. */
    List<String> titles() {
        return calls.stream().map(List::getFirst).toList();
    }

    static float[] vector(String text) {
        Random r = new Random(text.hashCode());
        float[] v = new float[Embedder.DIMENSIONS];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return Vectors.normalize(v);
    }

    /** Holds a stub model call; a latch never released fails the call instead of hanging the test. */
    static void await(CountDownLatch latch) {
        try {
            if (!latch.await(HOLD_LIMIT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new EmbeddingException("stub model held too long");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EmbeddingException("stub model interrupted");
        }
    }
}
