package ai.arches.workflows;

import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

import ai.arches.common.ConflictException;
import ai.arches.common.Cursors;
import ai.arches.common.Ids;
import ai.arches.common.NotFoundException;
import ai.arches.common.Page;
import ai.arches.common.RateLimitStatus;
import ai.arches.common.RateLimitedException;
import ai.arches.config.ArchesConfig;
import ai.arches.db.Database;
import ai.arches.http.Json;
import ai.arches.organizations.Access;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Workflow runs of an organization: start, read, list, cancel, and the event log a stream
 * follows. Every operation takes an {@link Access} and is scoped by its organization; the
 * {@link Executor} does the running.
 */
public final class Runs implements AutoCloseable {
    private final Database db;
    private final Executor executor;
    private final Cursors cursors;
    private final Clock clock;
    private final ArchesConfig.Workflows cfg;
    private final RunStore store;
    private final Workflows workflows;
    private final Starts starts;

    public Runs(Database db, Workflows workflows, Executor executor, Cursors cursors, Clock clock,
                ArchesConfig.Workflows cfg) {
        this.db = db;
        this.workflows = workflows;
        this.executor = executor;
        this.cursors = cursors;
        this.clock = clock;
        this.cfg = cfg;
        this.store = executor.store();
        this.starts = new Starts(db, store, cfg);
    }

    /** Stops writing starts (the server has stopped taking requests). */
    @Override
    public void close() {
        starts.close();
    }

    /**
     * Queues a run of the workflow's current definition (kept with the run: later edits of the
     * workflow do not touch it). 409 for a paused or archived workflow; 429 when the organization
     * already has {@code max_queued_per_org} runs waiting to start.
     */
    public Run start(Access access, UUID workflowId, JsonNode input) {
        UUID org = access.organizationId();
        Workflow w = workflows.get(access, workflowId);
        if (w.status().equals(WorkflowStatus.ARCHIVED.wire()) || w.status().equals(WorkflowStatus.PAUSED.wire())) {
            throw new ConflictException("the workflow is " + w.status() + "; set it to draft or active to run it");
        }
        UUID id = Ids.newId();
        JsonNode in = input == null ? Json.MAPPER.createObjectNode() : input;
        RunGraph graph = RunGraph.of(w.definition());
        Instant now = now();
        RunState run = RunState.start(id, org, workflowId, access.userId(), in, graph, now);
        int roots = (int) run.steps.values().stream().filter(s -> s.waiting == 0).count();
        RunState claimed = null;
        if (roots <= cfg.maxRunningPerOrg() && executor.reserve(roots)) {
            // This node has workers free: the start claims the run's first steps in its own
            // transaction, if the organization's limit allows, so they start as it commits.
            claimed = RunState.start(id, org, workflowId, access.userId(), in, graph, now);
            for (RunState.StepState s : claimed.steps.values()) {
                if (s.waiting == 0) {
                    claimed.claim(s.nodeId, executor.owner(), now.plus(cfg.lease()), now);
                }
            }
        }
        // Other nodes are told only when this one has no free worker; else it takes the run itself.
        boolean notify = claimed == null && executor.notifyOthers();
        RunStore.Inserted done;
        try {
            done = starts.write(new RunStore.NewRun(run, claimed, w.definition()), notify);
        } catch (RuntimeException e) {
            if (claimed != null) {
                executor.unreserve(roots);
            }
            throw e;
        }
        if (done == RunStore.Inserted.CLAIMED) {
            executor.launchClaimed(claimed);
        } else if (claimed != null) {
            executor.unreserve(roots);
        }
        if (done == RunStore.Inserted.REFUSED) {
            throw new RateLimitedException("this organization already has " + cfg.maxQueuedPerOrg()
                    + " runs waiting to start (workflows.max_queued_per_org); retry when some have started",
                    new RateLimitStatus(cfg.maxQueuedPerOrg(), 0, 1, 1));
        }
        executor.runStarted(done == RunStore.Inserted.QUEUED);
        // The run as it was accepted (queued), also when this node started its first steps in the
        // same commit: a read right after shows them running.
        return run.view(true);
    }

    public Run get(Access access, UUID id) {
        return db.withReadHandle(h -> store.get(h, access.organizationId(), id)).orElseThrow(Runs::notFound).view(true);
    }

    /** Newest first, optionally of one workflow and in one status; items carry no steps. */
    public Page<Run> list(Access access, Optional<UUID> workflowId, Optional<RunStatus> status, String limit,
                          String cursor) {
        UUID org = access.organizationId();
        // The filters are part of the scope, so a cursor from one filtered list is refused by another.
        String scope = "runs:" + org + workflowId.map(w -> ":w" + w).orElse("") + status.map(s -> ":" + s.wire()).orElse("");
        var page = cursors.request(scope, limit, cursor);
        var rows = db.withReadHandle(h -> store.list(h, org, workflowId, status, page, cursors.maxPageBytes()));
        return cursors.page(scope, page, rows.rows(), r -> new Cursors.Position(r.createdAt(), r.id()), Json::size,
                rows.cut());
    }

    /**
     * Ends the run as cancelled: steps not started never will be (pending retries included), and
     * running ones are interrupted wherever they run. Cancelling a cancelled run changes nothing;
     * a run that succeeded or failed is 409.
     */
    public Run cancel(Access access, UUID id) {
        RunStatus[] before = new RunStatus[1];
        Set<String>[] interrupted = new Set[1];
        RunState run = db.inTransaction(h -> {
            RunState r = store.lock(h, Set.of(id), false, executor::graph).get(id);
            if (r == null || !r.organizationId.equals(access.organizationId())) {
                throw notFound();
            }
            before[0] = r.status;
            if (r.status == RunStatus.CANCELLED) {
                return r;
            }
            if (r.status.terminal()) {
                throw new ConflictException("the run already " + r.status.wire());
            }
            interrupted[0] = r.cancel(now());
            store.save(h, r, interrupted[0].isEmpty() ? List.of() : List.of("c:" + id));
            return r;
        });
        if (interrupted[0] != null) {
            executor.moved(run, before[0], interrupted[0]);
        }
        return run.view(true);
    }

    /** 404 unless the organization has the run. */
    void check(Access access, UUID id) {
        if (!db.withHandle(h -> store.exists(h, access.organizationId(), id))) {
            throw notFound();
        }
    }

    /** Events after {@code after}, at most {@code limit}; the run was checked by {@link #check}. */
    List<RunStore.StoredEvent> events(UUID id, long after, int limit) {
        return db.withHandle(h -> store.events(h, id, after, limit));
    }

    /** The run's last event number once it has ended; empty while it runs. */
    Optional<Long> finalEvent(UUID id) {
        return db.withHandle(h -> store.finalEvent(h, id));
    }

    /** Completes when the run may have new events; take it before reading them, so none is missed. */
    CompletableFuture<Void> watch(UUID id) {
        return executor.watch(id);
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }

    static NotFoundException notFound() {
        return new NotFoundException("run not found");
    }
}
