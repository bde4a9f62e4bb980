package ai.arches.workflows;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;
import java.util.logging.Level;
import java.util.logging.Logger;

import ai.arches.config.ArchesConfig;
import ai.arches.db.Database;
import ai.arches.db.PgListener;
import ai.arches.organizations.Access;
import ai.arches.workflows.tools.Toolbox;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * Runs workflow steps on this node: a dispatcher claims due steps from PostgreSQL (oldest first,
 * {@code FOR UPDATE SKIP LOCKED}, at most {@code max_running_per_org} running per organization
 * across all nodes) whenever one of {@code workers} slots is free, and each claimed step runs on
 * a virtual thread of its own ({@link StepRun}). New work wakes the dispatcher at once: a run
 * started here directly, one started elsewhere through NOTIFY; a retry's backoff end through a
 * timer; anything missed by the poll every {@code poll_interval}.
 *
 * <p>Claims carry a lease that a heartbeat renews every lease/3; every node reaps steps whose
 * lease ran out (their node died) and queues them again, so a killed node loses no work. A
 * cancelled or failed run stops its running steps on whichever node runs them (NOTIFY "c:run").
 */
public final class Executor implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Executor.class.getName());
    private static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(10);
    private static final int REAP_BATCH = 100;
    private static final int COMMIT_BATCH = 128;
    private static final int COMMITTERS = 2;
    private static final long NOTIFY_EVERY_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    /** What a claim hands a step's thread: its run as claimed (input, earlier outputs) and its attempt. */
    record Claimed(RunState run, String nodeId, int attempt, Instant readyAt) {}

    private final Database db;
    private final RunStore store;
    private final Toolbox toolbox;
    private final ArchesConfig.Workflows cfg;
    private final Clock clock;
    /** (organization, the user who started the run or null) to the rights its steps act with. */
    private final BiFunction<UUID, UUID, Access> access;
    private final UUID owner = UUID.randomUUID();
    /** Definitions never change under a run, so a node parses each once. */
    private final Cache<UUID, RunGraph> graphs = Caffeine.newBuilder().maximumSize(10_000).build();
    /** Steps running on this node by "run:node". */
    private final Map<String, StepRun> live = new ConcurrentHashMap<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Semaphore wake = new Semaphore(0);
    /** Attempts that ended, waiting for the committer. */
    private final LinkedBlockingQueue<Ended> ended = new LinkedBlockingQueue<>();
    /** Stream readers waiting for a run's next events. */
    private final Map<UUID, CompletableFuture<Void>> watchers = new ConcurrentHashMap<>();
    /** The earliest retry this node scheduled (epoch ms; Long.MAX_VALUE: none). */
    private final AtomicLong nextRetry = new AtomicLong(Long.MAX_VALUE);
    private final AtomicLong queueDepth = new AtomicLong();
    private final AtomicLong lastNotify = new AtomicLong(System.nanoTime() - NOTIFY_EVERY_NANOS);
    private final Counter started;
    private final Map<RunStatus, Counter> finished = new LinkedHashMap<>();
    private final Timer enqueueToStart;
    private final MeterRegistry registry;
    private final List<Thread> threads = new ArrayList<>();
    private final PgListener listener;
    /** Not among {@code threads}: they must outlive the others at shutdown, recording the ends of the last steps. */
    private final List<Thread> committers = new ArrayList<>();
    private volatile boolean stopping;
    /** Whether due work may be waiting for a free worker (set by every wake, cleared by a round that found less than it could take). */
    private volatile boolean mayBeDue = true;
    private volatile boolean halted;

    public Executor(Database db, Toolbox toolbox, ArchesConfig.Workflows cfg, ArchesConfig.Database dbCfg, Clock clock,
                    BiFunction<UUID, UUID, Access> access, MeterRegistry registry) {
        this.db = db;
        this.store = new RunStore();
        this.toolbox = toolbox;
        this.cfg = cfg;
        this.clock = clock;
        this.access = access;
        this.registry = registry;
        this.started = Counter.builder("workflow_runs_started").description("Workflow runs started (queued)")
                .register(registry);
        for (RunStatus s : RunStatus.values()) {
            if (s.terminal()) {
                finished.put(s, Counter.builder("workflow_runs_finished").tag("status", s.wire())
                        .description("Workflow runs finished, by final status").register(registry));
            }
        }
        this.enqueueToStart = Timer.builder("workflow_enqueue_to_start_seconds")
                .description("From a step falling due (its run queued, its predecessors done, its backoff over) "
                        + "to its claim").publishPercentileHistogram().register(registry);
        Gauge.builder("workflow_queue_depth", queueDepth, AtomicLong::get)
                .description("Steps due and waiting for a worker, across all nodes").register(registry);
        Gauge.builder("workflow_steps_running", inFlight, AtomicInteger::get)
                .description("Steps running on this node").register(registry);
        this.listener = new PgListener(dbCfg, RunStore.CHANNEL, this::onNotification, this::wake);
        if (cfg.workers() > 0) {
            threads.add(Thread.ofVirtual().name("workflow-dispatcher").start(this::dispatch));
            threads.add(Thread.ofVirtual().name("workflow-heartbeat").start(this::heartbeat));
            // Two: one batch's statements run while the other's commit completes. They lock runs in
            // id order, so two batches touching one run wait for each other, never deadlock.
            for (int i = 0; i < COMMITTERS; i++) {
                committers.add(Thread.ofVirtual().name("workflow-committer-" + i).start(this::commit));
            }
        }
        threads.add(Thread.ofVirtual().name("workflow-reaper").start(this::reap));
    }

    /** Something new may be due: look now rather than at the next poll. */
    void wake() {
        mayBeDue = true;
        wake.release();
    }

    /**
     * A worker slot freed: worth a claim round only if work may be waiting for one. Else every
     * step end cost a round that found nothing (at 200 one-step runs/s, 200 empty rounds/s).
     */
    private void slotFreed() {
        if (mayBeDue) {
            wake.release();
        }
    }

    /** Whether this node's dispatcher can take new work now (it was just woken for it). */
    boolean hasFreeWorker() {
        return cfg.workers() > inFlight.get() && !stopping;
    }

    /**
     * Whether a run this node starts but cannot take now should wake the other nodes: only when
     * no worker here is free, and at most once per {@link #NOTIFY_EVERY_NANOS} (a woken node keeps
     * claiming while it finds work). Every NOTIFY holds PostgreSQL's notification lock through its
     * commit's flush: one per start, with every worker busy, held starts to ~310/s (Lock:object).
     */
    boolean notifyOthers() {
        if (hasFreeWorker()) {
            return false;
        }
        long now = System.nanoTime();
        long last = lastNotify.get();
        return now - last >= NOTIFY_EVERY_NANOS && lastNotify.compareAndSet(last, now);
    }

    /**
     * Takes {@code n} worker slots for the first steps of a run this node is starting, so it can
     * claim them in the start's own transaction; false when fewer are free. Give them back with
     * {@link #unreserve} unless {@link #launchClaimed} runs the steps.
     */
    boolean reserve(int n) {
        while (!stopping) {
            int now = inFlight.get();
            if (now + n > cfg.workers()) {
                return false;
            }
            if (inFlight.compareAndSet(now, now + n)) {
                return true;
            }
        }
        return false;
    }

    /** Slots {@link #reserve}d for a start that did not claim its steps; the dispatcher may use them. */
    void unreserve(int n) {
        inFlight.addAndGet(-n);
        slotFreed();
    }

    UUID owner() {
        return owner;
    }

    /** Runs the steps a start claimed in its own transaction (their slots were reserved). */
    void launchClaimed(RunState run) {
        graphs.put(run.id, run.graph);
        for (RunState.StepState s : run.steps.values()) {
            if (s.status == StepStatus.RUNNING) {
                launch(new Claimed(run, s.nodeId, s.attempts, s.readyAt), true);
            }
        }
    }

    /** Counts a started run; {@code queued}: its steps wait for a dispatcher, wake this one. */
    void runStarted(boolean queued) {
        started.increment();
        if (queued) {
            wake();
        }
    }

    /** Completes once the run has events after the ones a reader has seen (or at a timeout the reader chooses). */
    CompletableFuture<Void> watch(UUID runId) {
        return watchers.computeIfAbsent(runId, k -> new CompletableFuture<>());
    }

    void changed(UUID runId) {
        CompletableFuture<Void> f = watchers.remove(runId);
        if (f != null) {
            f.complete(null);
        }
    }

    RunStore store() {
        return store;
    }

    RunGraph graph(UUID runId) {
        return graphs.getIfPresent(runId);
    }

    /** After a move committed: wake readers, stop interrupted steps here, count finished runs. */
    void moved(RunState run, RunStatus before, Set<String> interrupted) {
        changed(run.id);
        interruptLocal(run.id, interrupted);
        if (!before.terminal() && run.status.terminal()) {
            finished.get(run.status).increment();
        }
    }

    /** This node's running steps of the run, or those named, are told to stop (their run ended). */
    private void interruptLocal(UUID runId, Set<String> nodes) {
        String prefix = runId + ":";
        live.forEach((key, step) -> {
            if (key.startsWith(prefix) && (nodes == null || nodes.contains(key.substring(prefix.length())))) {
                step.stop();
            }
        });
    }

    private void onNotification(String payload) {
        if (payload.equals("w")) {
            wake();
        } else if (payload.startsWith("c:")) {
            interruptLocal(UUID.fromString(payload.substring(2)), null);
        }
    }

    private void dispatch() {
        long errorBackoff = 100;
        while (!stopping) {
            int free = cfg.workers() - inFlight.get();
            int claimed = 0;
            boolean contended = false;
            if (free > 0) {
                // Cleared before the round: work that falls due during it wakes the next one.
                mayBeDue = false;
                try {
                    var round = claim(free);
                    claimed = round.claimed().size();
                    contended = round.contended();
                    round.claimed().forEach(c -> launch(c, false));
                    errorBackoff = 100;
                } catch (RuntimeException e) {
                    if (stopping) {
                        return;
                    }
                    LOG.log(Level.WARNING, "workflows: claiming steps failed; retrying in " + errorBackoff + " ms", e);
                    mayBeDue = true;
                    pause(errorBackoff);
                    errorBackoff = Math.min(5000, errorBackoff * 2);
                    continue;
                }
            }
            if (free > 0 && claimed == free) {
                mayBeDue = true;
                continue; // there may be more
            }
            if (free <= 0 || contended) {
                mayBeDue = true; // not looked at all, or not everywhere: the next free slot looks again
            }
            long wait = contended ? 10 : cfg.pollInterval().toMillis();
            long retryIn = nextRetry.get() - clock.millis();
            if (nextRetry.get() != Long.MAX_VALUE) {
                if (retryIn <= 0) {
                    nextRetry.set(Long.MAX_VALUE);
                    wait = 0;
                } else {
                    wait = Math.min(wait, retryIn);
                }
            }
            pause(wait);
        }
    }

    private void pause(long ms) {
        try {
            if (ms > 0 && wake.tryAcquire(ms, TimeUnit.MILLISECONDS)) {
                wake.drainPermits();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopping = true;
        }
    }

    private record Round(List<Claimed> claimed, boolean contended) {}

    /**
     * One claim transaction: up to {@code free} due steps, each organization within its limit.
     * Five statements whatever the number of steps: due steps with their organizations' locks,
     * the runs' locks, the runs as they stand, the organizations' running counts, the write.
     */
    private Round claim(int free) {
        List<RunState> touched = new ArrayList<>();
        Round round = db.inTransaction(h -> {
            Instant now = now();
            var candidates = store.due(h, now, free, cfg.maxRunningPerOrg());
            if (candidates.isEmpty()) {
                return new Round(List.of(), false);
            }
            Set<UUID> runIds = new LinkedHashSet<>();
            Set<UUID> orgs = new LinkedHashSet<>();
            boolean contended = false;
            for (var c : candidates) {
                if (c.organizationLocked()) {
                    runIds.add(c.runId());
                    orgs.add(c.organizationId());
                } else {
                    contended = true;
                }
            }
            Map<UUID, RunState> runs = runIds.isEmpty() ? Map.of() : store.lock(h, runIds, true, graphs::getIfPresent);
            runs.values().forEach(r -> graphs.put(r.id, r.graph));
            contended |= runs.size() < runIds.size();
            Map<UUID, Integer> running = orgs.isEmpty() ? new LinkedHashMap<>()
                    : new LinkedHashMap<>(store.running(h, List.copyOf(orgs)));
            // Stamped after the counts: a step that freed a slot committed its finish before this
            // start, so no start is ever recorded before the finish whose slot it took.
            Instant startedAt = now();
            List<Claimed> out = new ArrayList<>();
            Instant leaseUntil = startedAt.plus(cfg.lease());
            for (var c : candidates) {
                RunState run = runs.get(c.runId());
                if (run == null || !c.organizationLocked()) {
                    continue;
                }
                int n = running.getOrDefault(c.organizationId(), 0);
                RunState.StepState s = run.steps.get(c.nodeId());
                if (n >= cfg.maxRunningPerOrg() || s == null || s.status != StepStatus.PENDING || s.waiting != 0) {
                    continue;
                }
                Instant readyAt = s.readyAt;
                run.claim(c.nodeId(), owner, leaseUntil, startedAt);
                running.put(c.organizationId(), n + 1);
                out.add(new Claimed(run, c.nodeId(), s.attempts, readyAt));
                if (!touched.contains(run)) {
                    touched.add(run);
                }
            }
            if (!touched.isEmpty()) {
                store.save(h, touched, List.of());
            }
            return new Round(out, contended);
        });
        touched.forEach(r -> changed(r.id));
        return round;
    }

    private void launch(Claimed c, boolean reserved) {
        if (!reserved) {
            inFlight.incrementAndGet();
        }
        StepRun step = new StepRun(this, c, toolbox, () -> access.apply(c.run().organizationId, c.run().createdBy),
                cfg.defaultStepTimeout(), registry);
        live.put(c.run().id + ":" + c.nodeId(), step);
        Thread.ofVirtual().name("workflow-step").start(() -> {
            if (c.readyAt() != null) {
                enqueueToStart.record(Duration.between(c.readyAt(), now()).abs());
            }
            try {
                step.run();
            } finally {
                live.remove(c.run().id + ":" + c.nodeId(), step);
                inFlight.decrementAndGet();
                slotFreed();
            }
        });
    }

    /**
     * Records an attempt's end and returns once it is committed. Ends are written in batches by
     * committers (three statements a batch, whatever its size): steps that finish while a batch
     * commits go together in the next, so the cost per step falls as load rises.
     */
    void finish(Claimed c, StepRun.Outcome outcome) {
        if (halted) {
            return;
        }
        Ended e = new Ended(c, outcome, new CompletableFuture<>());
        ended.add(e);
        e.committed().join();
    }

    private record Ended(Claimed claimed, StepRun.Outcome outcome, CompletableFuture<Void> committed) {}

    private void commit() {
        List<Ended> batch = new ArrayList<>();
        while (!halted) {
            batch.clear();
            try {
                Ended first = ended.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    if (stopping && live.isEmpty()) {
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
        Set<UUID> ids = new java.util.TreeSet<>();
        batch.forEach(b -> ids.add(b.claimed().run().id));
        Map<RunState, RunStatus> before = new LinkedHashMap<>();
        Map<RunState, Set<String>> interrupted = new LinkedHashMap<>();
        boolean[] due = new boolean[1];
        boolean[] released = new boolean[1];
        long[] retryAt = {Long.MAX_VALUE};
        db.inTransaction(h -> {
            Map<UUID, RunState> runs = store.lock(h, ids, false, graphs::getIfPresent);
            Instant now = now();
            List<String> notes = new ArrayList<>();
            for (Ended b : batch) {
                Claimed c = b.claimed();
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
        before.forEach((run, status) -> moved(run, status, interrupted.get(run)));
        if (due[0]) {
            wake();
        }
        if (retryAt[0] != Long.MAX_VALUE) {
            nextRetry.accumulateAndGet(retryAt[0], Math::min);
            wake();
        }
    }

    private void heartbeat() {
        long every = Math.max(100, cfg.lease().toMillis() / 3);
        while (!stopping) {
            sleep(every);
            if (stopping) {
                return;
            }
            if (!live.isEmpty()) {
                try {
                    List<UUID> runs = new ArrayList<>();
                    List<String> nodes = new ArrayList<>();
                    live.values().forEach(step -> {
                        runs.add(step.claimed().run().id);
                        nodes.add(step.claimed().nodeId());
                    });
                    db.withHandle(h -> store.renew(h, owner, runs, nodes, now().plus(cfg.lease())));
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "workflows: renewing leases failed", e);
                }
            }
        }
    }

    /** Every node: queues again the steps of nodes that stopped renewing, and refreshes the depth gauge. */
    private void reap() {
        long every = Math.max(100, Math.min(cfg.lease().toMillis() / 2, 5000));
        while (!stopping) {
            sleep(every);
            if (stopping) {
                return;
            }
            try {
                queueDepth.set(db.withHandle(h -> store.dueCount(h, now())));
                for (UUID id : db.withHandle(h -> store.expired(h, now(), REAP_BATCH))) {
                    reclaimExpired(id);
                }
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "workflows: reaping expired leases failed", e);
            }
        }
    }

    private void reclaimExpired(UUID id) {
        RunState moved = db.inTransaction(h -> {
            RunState run = store.lock(h, Set.of(id), true, graphs::getIfPresent).get(id);
            if (run == null) {
                return null;
            }
            Instant now = now();
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
            changed(id);
            wake();
        }
    }

    private void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            stopping = true;
        }
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }

    /**
     * Stops as if the process were killed (tests): nothing more is written, leases are not given
     * back, running steps are abandoned; another node must reap them.
     */
    void halt() {
        halted = true;
        stopping = true;
        threads.forEach(Thread::interrupt);
        committers.forEach(Thread::interrupt);
        live.values().forEach(StepRun::stop);
        ended.forEach(e -> e.committed().complete(null));
        listener.close();
    }

    /**
     * Stops claiming, lets running steps finish for a grace period, then stops the rest and gives
     * them back at once (another node runs them again without waiting for their lease).
     */
    @Override
    public void close() {
        if (halted) {
            return;
        }
        stopping = true;
        threads.forEach(Thread::interrupt);
        long deadline = System.nanoTime() + SHUTDOWN_GRACE.toNanos();
        while (!live.isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                break;
            }
        }
        live.values().forEach(StepRun::release);
        long releaseDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!live.isEmpty() && System.nanoTime() < releaseDeadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                break;
            }
        }
        for (Thread committer : committers) {
            try {
                committer.join(Duration.ofSeconds(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        listener.close();
        watchers.values().forEach(f -> f.complete(null));
    }
}
