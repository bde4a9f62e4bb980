package ai.arches.workflows;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

import ai.arches.common.ServiceUnavailableException;
import ai.arches.config.ArchesConfig;
import ai.arches.db.Database;

/**
 * Writes run starts in batches: starts that arrive while a batch commits go together in the next
 * one, so concurrent requests share one transaction and one WAL flush (three statements whatever
 * the batch's size: the organizations' locks and queues, their running steps, the insert). A
 * single start waits for no one: it is a batch of one.
 *
 * <p>A start this node reserved workers for is claimed in the same transaction when its
 * organization's claim lock is free and the organization stays within
 * {@code max_running_per_org}; else it is queued for the dispatchers, or refused when the
 * organization already has {@code max_queued_per_org} runs waiting.
 */
final class Starts implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Starts.class.getName());
    private static final int MAX_BATCH = 128;
    /** Two writers: one batch builds and runs its statements while the other's commit is flushed. */
    private static final int WRITERS = 2;

    private record Pending(RunStore.NewRun run, boolean wakeOthers, CompletableFuture<RunStore.Inserted> done) {}

    private final Database db;
    private final RunStore store;
    private final ArchesConfig.Workflows cfg;
    private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final List<Thread> writers = new ArrayList<>();
    private volatile boolean closed;

    Starts(Database db, RunStore store, ArchesConfig.Workflows cfg) {
        this.db = db;
        this.store = store;
        this.cfg = cfg;
        for (int i = 0; i < WRITERS; i++) {
            writers.add(Thread.ofVirtual().name("workflow-starts-" + i).start(this::writeBatches));
        }
    }

    /** Writes the run and returns what became of it once committed; {@code notify} wakes the other nodes. */
    RunStore.Inserted write(RunStore.NewRun run, boolean notify) {
        if (closed) {
            throw new ServiceUnavailableException("the node is shutting down; retry on another", 1);
        }
        Pending p = new Pending(run, notify, new CompletableFuture<>());
        queue.add(p);
        try {
            return p.done().join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
    }

    private void writeBatches() {
        List<Pending> batch = new ArrayList<>();
        while (!closed) {
            batch.clear();
            try {
                Pending first = queue.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
            } catch (InterruptedException e) {
                continue; // close() interrupts; the loop condition ends it
            }
            queue.drainTo(batch, MAX_BATCH - 1);
            try {
                commit(batch);
            } catch (RuntimeException e) {
                if (batch.size() == 1) {
                    batch.getFirst().done().completeExceptionally(e);
                    continue;
                }
                // One start must not fail the others (a workflow deleted meanwhile, say): each alone.
                LOG.log(Level.FINE, "workflows: a batch of " + batch.size() + " starts failed; writing them one by one", e);
                for (Pending p : batch) {
                    try {
                        commit(List.of(p));
                    } catch (RuntimeException one) {
                        p.done().completeExceptionally(one);
                    }
                }
            }
        }
        Pending p;
        while ((p = queue.poll()) != null) {
            p.done().completeExceptionally(new ServiceUnavailableException("the node is shutting down; retry on another", 1));
        }
    }

    private void commit(List<Pending> batch) {
        List<RunStore.NewRun> runs = batch.stream().map(Pending::run).toList();
        boolean notify = batch.stream().anyMatch(Pending::wakeOthers);
        List<RunStore.Inserted> how = db.inTransaction(h -> {
            Set<UUID> orgs = new LinkedHashSet<>();
            Set<UUID> claiming = new LinkedHashSet<>();
            for (RunStore.NewRun r : runs) {
                orgs.add(r.organizationId());
                if (r.claimed() != null) {
                    claiming.add(r.organizationId());
                }
            }
            Map<UUID, RunStore.OrgState> state = store.organizations(h, orgs, claiming);
            List<UUID> locked = state.entrySet().stream().filter(e -> e.getValue().locked()).map(Map.Entry::getKey).toList();
            Map<UUID, Integer> running = new HashMap<>(locked.isEmpty() ? Map.of() : store.running(h, locked));
            Map<UUID, Long> queued = new HashMap<>();
            state.forEach((org, s) -> queued.put(org, s.queued()));
            List<RunStore.Inserted> out = new ArrayList<>(runs.size());
            boolean any = false;
            for (RunStore.NewRun r : runs) {
                UUID org = r.organizationId();
                int now = running.getOrDefault(org, 0);
                if (r.claimed() != null && state.get(org).locked() && now + r.roots() <= cfg.maxRunningPerOrg()) {
                    running.put(org, now + r.roots());
                    out.add(RunStore.Inserted.CLAIMED);
                    any = true;
                } else if (queued.get(org) < cfg.maxQueuedPerOrg()) {
                    queued.merge(org, 1L, Long::sum);
                    out.add(RunStore.Inserted.QUEUED);
                    any = true;
                } else {
                    out.add(RunStore.Inserted.REFUSED);
                }
            }
            if (any) {
                store.insert(h, runs, out, notify);
            }
            return out;
        });
        for (int i = 0; i < batch.size(); i++) {
            batch.get(i).done().complete(how.get(i));
        }
    }

    @Override
    public void close() {
        closed = true;
        writers.forEach(Thread::interrupt);
        for (Thread t : writers) {
            try {
                t.join(Duration.ofSeconds(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
