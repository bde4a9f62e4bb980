package ai.arches.workflows;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

import ai.arches.db.Database;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Keeps claims' leases: this node's {@link #heartbeat} renews the leases of the steps it runs
 * every lease/3; every node's {@link #reap} queues again the steps whose lease ran out (their node
 * died), so a killed node loses no work, and refreshes the queue-depth gauge. Each loop runs on a
 * thread of the executor's and ends when the executor stops (it interrupts them).
 */
final class Leases {
    private static final Logger LOG = Logger.getLogger(Leases.class.getName());
    private static final int REAP_BATCH = 100;

    private final Executor executor;
    private final Database db;
    private final RunStore store;
    private final UUID owner;
    private final Duration lease;
    private final AtomicLong queueDepth = new AtomicLong();

    Leases(Executor executor, Database db, RunStore store, UUID owner, Duration lease, MeterRegistry registry) {
        this.executor = executor;
        this.db = db;
        this.store = store;
        this.owner = owner;
        this.lease = lease;
        Gauge.builder("workflow_queue_depth", queueDepth, AtomicLong::get)
                .description("Steps due and waiting for a worker, across all nodes").register(registry);
    }

    void heartbeat() {
        long every = Math.max(100, lease.toMillis() / 3);
        while (!executor.stopping()) {
            if (!sleep(every)) {
                return;
            }
            if (!executor.running().isEmpty()) {
                try {
                    List<UUID> runs = new ArrayList<>();
                    List<String> nodes = new ArrayList<>();
                    executor.running().forEach(step -> {
                        runs.add(step.claimed().run().id);
                        nodes.add(step.claimed().nodeId());
                    });
                    db.withHandle(h -> store.renew(h, owner, runs, nodes, executor.now().plus(lease)));
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "workflows: renewing leases failed", e);
                }
            }
        }
    }

    /** Every node: queues again the steps of nodes that stopped renewing, and refreshes the depth gauge. */
    void reap() {
        long every = Math.max(100, Math.min(lease.toMillis() / 2, 5000));
        while (!executor.stopping()) {
            if (!sleep(every)) {
                return;
            }
            try {
                queueDepth.set(db.withHandle(h -> store.dueCount(h, executor.now())));
                for (UUID id : db.withHandle(h -> store.expired(h, executor.now(), REAP_BATCH))) {
                    reclaimExpired(id);
                }
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "workflows: reaping expired leases failed", e);
            }
        }
    }

    private void reclaimExpired(UUID id) {
        RunState moved = db.inTransaction(h -> {
            RunState run = store.lock(h, Set.of(id), true, executor::graph).get(id);
            if (run == null) {
                return null;
            }
            Instant now = executor.now();
            boolean any = false;
            for (RunState.StepState s : run.steps.values()) {
                if (s.status == StepStatus.RUNNING && s.leaseUntil != null && s.leaseUntil.isBefore(now)) {
                    LOG.info("workflows: step " + s.nodeId + " of run " + id + " lost its node's lease; queued again");
                    run.reclaim(s.nodeId, now);
                    any = true;
                }
            }
            if (!any) {
                return null;
            }
            store.save(h, run, List.of("w"));
            return run;
        });
        if (moved != null) {
            executor.changed(id);
            executor.wake();
        }
    }

    /** Sleeps; false once the executor is stopping (halt() and close() set that before they interrupt). */
    private boolean sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            return false;
        }
        return !executor.stopping();
    }
}
