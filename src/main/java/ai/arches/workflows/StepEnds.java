package ai.arches.workflows;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

import ai.arches.db.Database;

/**
 * Records the ends of this node's step attempts. Ends are written in batches by committers (three
 * statements a batch, whatever its size): steps that finish while a batch commits go together in
 * the next, so the cost per step falls as load rises.
 *
 * <p>The committers are not among the executor's other threads: they must outlive them at
 * shutdown, recording the ends of the last steps, and stop only once the executor is stopping and
 * no step runs here. After {@link #halt} nothing more is written and no step waits for its end.
 */
final class StepEnds {
    private static final Logger LOG = Logger.getLogger(StepEnds.class.getName());
    private static final int COMMIT_BATCH = 128;
    private static final int COMMITTERS = 2;

    private record Ended(Executor.Claimed claimed, StepRun.Outcome outcome, CompletableFuture<Void> committed) {}

    private final Executor executor;
    private final Database db;
    private final RunStore store;
    private final UUID owner;
    /** Attempts that ended, waiting for the committer. */
    private final LinkedBlockingQueue<Ended> ended = new LinkedBlockingQueue<>();
    private final List<Thread> committers = new ArrayList<>();
    private volatile boolean halted;

    StepEnds(Executor executor, Database db, RunStore store, UUID owner) {
        this.executor = executor;
        this.db = db;
        this.store = store;
        this.owner = owner;
    }

    void start() {
        // Two: one batch's statements run while the other's commit completes. They lock runs in
        // id order, so two batches touching one run wait for each other, never deadlock.
        for (int i = 0; i < COMMITTERS; i++) {
            committers.add(Thread.ofVirtual().name("workflow-committer-" + i).start(this::commit));
        }
    }

    /** Records an attempt's end and returns once it is committed (at once after {@link #halt}). */
    void finish(Executor.Claimed c, StepRun.Outcome outcome) {
        if (halted) {
            return;
        }
        Ended e = new Ended(c, outcome, new CompletableFuture<>());
        ended.add(e);
        e.committed().join();
    }

    boolean halted() {
        return halted;
    }

    /** As if the process were killed: nothing more is written, and no step waits for its end. */
    void halt() {
        halted = true;
        committers.forEach(Thread::interrupt);
        ended.forEach(e -> e.committed().complete(null));
    }

    /** Waits (up to 5 s each) for the committers to record the ends of the last steps. */
    void awaitCommitters() {
        for (Thread committer : committers) {
            try {
                committer.join(Duration.ofSeconds(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
    }

    private void commit() {
        List<Ended> batch = new ArrayList<>();
        while (!halted) {
            batch.clear();
            try {
                Ended first = ended.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    if (executor.stopping() && executor.running().isEmpty()) {
                        return;
                    }
                    continue;
                }
                batch.add(first);
            } catch (InterruptedException e) {
                if (halted) {
                    return;
                }
                continue; // close() interrupts the other threads; ends still arrive until the steps stop
            }
            ended.drainTo(batch, COMMIT_BATCH - 1);
            try {
                commit(batch);
            } catch (RuntimeException e) {
                // The leases stay with this node until they expire, then the reaper queues the steps again.
                LOG.log(Level.WARNING, "workflows: recording " + batch.size() + " finished steps failed", e);
            } finally {
                batch.forEach(b -> b.committed().complete(null));
            }
        }
        ended.forEach(b -> b.committed().complete(null));
    }

    /** One transaction for a batch of ends, under the locks of their runs, unless a step is no longer its attempt's. */
    private void commit(List<Ended> batch) {
        Set<UUID> ids = new TreeSet<>();
        batch.forEach(b -> ids.add(b.claimed().run().id));
        Map<RunState, RunStatus> before = new LinkedHashMap<>();
        Map<RunState, Set<String>> interrupted = new LinkedHashMap<>();
        boolean[] due = new boolean[1];
        boolean[] released = new boolean[1];
        long[] retryAt = {Long.MAX_VALUE};
        db.inTransaction(h -> {
            Map<UUID, RunState> runs = store.lock(h, ids, false, executor::graph);
            Instant now = executor.now();
            List<String> notes = new ArrayList<>();
            for (Ended b : batch) {
                Executor.Claimed c = b.claimed();
                RunState run = runs.get(c.run().id);
                if (run == null || !run.holds(c.nodeId(), owner, c.attempt())) {
                    continue; // cancelled, failed by another branch, or reclaimed after a lost lease
                }
                before.putIfAbsent(run, run.status);
                Set<String> stop = interrupted.computeIfAbsent(run, r -> new LinkedHashSet<>());
                switch (b.outcome()) {
                    case StepRun.Outcome.Succeeded s -> due[0] |= !run.succeed(c.nodeId(), s.output(), now).isEmpty();
                    case StepRun.Outcome.Failed f -> {
                        long backoff = f.policy().backoffMs(c.attempt());
                        Instant at = backoff >= 0 ? now.plusMillis(backoff) : null;
                        if (at != null) {
                            retryAt[0] = Math.min(retryAt[0], at.toEpochMilli());
                        }
                        stop.addAll(run.fail(c.nodeId(), f.message(), at, now));
                    }
                    case StepRun.Outcome.Released r -> {
                        run.reclaim(c.nodeId(), now);
                        released[0] = true;
                    }
                }
                if (!stop.isEmpty()) {
                    notes.add("c:" + run.id);
                }
            }
            // Successors that fell due are this node's to take (a slot of its own is freeing), so
            // only steps given back at shutdown call on the other nodes.
            if (released[0]) {
                notes.add("w");
            }
            if (!before.isEmpty()) {
                store.save(h, List.copyOf(before.keySet()), notes);
            }
            return null;
        });
        before.forEach((run, status) -> executor.moved(run, status, interrupted.get(run)));
        if (due[0]) {
            executor.wake();
        }
        if (retryAt[0] != Long.MAX_VALUE) {
            executor.retryAt(retryAt[0]);
        }
    }
}
