package ai.arches.workflows;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
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
 *
 * <p>Its parts: {@link Claims} (the claim transaction), {@link StepEnds} (the batched writes of
 * attempts' ends) and {@link Leases} (the heartbeat and the reaper).
 */
public final class Executor implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Executor.class.getName());
    private static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(10);
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
    /** Stream readers waiting for a run's next events. */
    private final Map<UUID, CompletableFuture<Void>> watchers = new ConcurrentHashMap<>();
    /** The earliest retry this node scheduled (epoch ms; Long.MAX_VALUE: none). */
    private final AtomicLong nextRetry = new AtomicLong(Long.MAX_VALUE);
    private final AtomicLong lastNotify = new AtomicLong(System.nanoTime() - NOTIFY_EVERY_NANOS);
    private final Counter started;
    private final Map<RunStatus, Counter> finished = new LinkedHashMap<>();
    private final Timer enqueueToStart;
    private final MeterRegistry registry;
    private final List<Thread> threads = new ArrayList<>();
    private final PgListener listener;
    /** Its committers are not among {@code threads}: they must outlive the others at shutdown, recording the ends of the last steps. */
    private final StepEnds ends;
    private final Leases leases;
    private final Claims claims;
    private volatile boolean stopping;
    /** Whether due work may be waiting for a free worker (set by every wake, cleared by a round that found less than it could take). */
    private volatile boolean mayBeDue = true;

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
        this.leases = new Leases(this, db, store, owner, cfg.lease(), registry);
        this.ends = new StepEnds(this, db, store, owner);
        this.claims = new Claims(this, db, store, owner, cfg, graphs);
        Gauge.builder("workflow_steps_running", inFlight, AtomicInteger::get)
                .description("Steps running on this node").register(registry);
        this.listener = new PgListener(dbCfg, RunStore.CHANNEL, this::onNotification, this::wake);
        if (cfg.workers() > 0) {
            threads.add(Thread.ofVirtual().name("workflow-dispatcher").start(this::dispatch));
            threads.add(Thread.ofVirtual().name("workflow-heartbeat").start(leases::heartbeat));
            ends.start();
        }
        threads.add(Thread.ofVirtual().name("workflow-reaper").start(leases::reap));
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
                    var round = claims.claim(free);
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

    private void launch(Claimed c, boolean reserved) {
        if (!reserved) {
            inFlight.incrementAndGet();
        }
        StepRun step = new StepRun(ends, c, toolbox, () -> access.apply(c.run().organizationId, c.run().createdBy),
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

    /** A retry falls due at {@code epochMilli}: the dispatcher looks no later than then. */
    void retryAt(long epochMilli) {
        nextRetry.accumulateAndGet(epochMilli, Math::min);
        wake();
    }

    boolean stopping() {
        return stopping;
    }

    /** The steps running on this node. */
    Collection<StepRun> running() {
        return live.values();
    }

    Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }

    /**
     * Stops as if the process were killed (tests): nothing more is written, leases are not given
     * back, running steps are abandoned; another node must reap them.
     */
    void halt() {
        ends.halt(); // first: from here on nothing is written
        stopping = true;
        threads.forEach(Thread::interrupt);
        live.values().forEach(StepRun::stop);
        listener.close();
    }

    /**
     * Stops claiming, lets running steps finish for a grace period, then stops the rest and gives
     * them back at once (another node runs them again without waiting for their lease).
     */
    @Override
    public void close() {
        if (ends.halted()) {
            return;
        }
        stopping = true;
        threads.forEach(Thread::interrupt);
        awaitSteps(SHUTDOWN_GRACE);
        live.values().forEach(StepRun::release);
        awaitSteps(Duration.ofSeconds(5));
        ends.awaitCommitters();
        listener.close();
        watchers.values().forEach(f -> f.complete(null));
    }

    /** Waits up to {@code limit} for this node's steps to end; an interrupt ends the wait. */
    private void awaitSteps(Duration limit) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!live.isEmpty() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                return;
            }
        }
    }
}
