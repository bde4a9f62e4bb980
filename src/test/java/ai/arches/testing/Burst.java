package ai.arches.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;

/**
 * Sends requests at the same moment: each call runs on its own virtual thread and all of them
 * wait on one latch, so they reach the server together rather than one after another.
 */
public final class Burst {
    private Burst() {}

    /** Runs {@code call(0..n-1)} concurrently; the results in index order. */
    public static <T> List<T> of(int n, IntFunction<T> call) {
        CountDownLatch ready = new CountDownLatch(n);
        CountDownLatch go = new CountDownLatch(1);
        try (ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<T>> futures = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                int index = i;
                futures.add(ex.submit(() -> {
                    ready.countDown();
                    go.await();
                    return call.apply(index);
                }));
            }
            if (!ready.await(Duration.ofSeconds(30).toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                throw new AssertionError("burst threads did not start");
            }
            go.countDown();
            List<T> out = new ArrayList<>(n);
            for (Future<T> f : futures) {
                out.add(f.get(60, java.util.concurrent.TimeUnit.SECONDS));
            }
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException(e);
        }
    }

    /** How many results have each status, e.g. {401=5, 429=35}. */
    public static java.util.Map<Integer, Integer> statuses(List<Api.Response> responses) {
        java.util.Map<Integer, Integer> out = new java.util.TreeMap<>();
        responses.forEach(r -> out.merge(r.status(), 1, Integer::sum));
        return out;
    }
}
