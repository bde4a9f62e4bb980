package ai.arches.workflows;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import ai.arches.config.ArchesConfig;
import ai.arches.db.Database;

import com.github.benmanes.caffeine.cache.Cache;

/**
 * The dispatcher's claims: due steps taken from PostgreSQL (oldest first, {@code FOR UPDATE SKIP
 * LOCKED}) for this node, each organization within {@code max_running_per_org} across all nodes,
 * with a lease of {@code lease}. Called from the dispatcher's thread only.
 */
final class Claims {
    private final Executor executor;
    private final Database db;
    private final RunStore store;
    private final UUID owner;
    private final ArchesConfig.Workflows cfg;
    /** The executor's parsed definitions by run; a claim adds those of the runs it locked. */
    private final Cache<UUID, RunGraph> graphs;

    Claims(Executor executor, Database db, RunStore store, UUID owner, ArchesConfig.Workflows cfg,
           Cache<UUID, RunGraph> graphs) {
        this.executor = executor;
        this.db = db;
        this.store = store;
        this.owner = owner;
        this.cfg = cfg;
        this.graphs = graphs;
    }

    record Round(List<Executor.Claimed> claimed, boolean contended) {}

    /**
     * One claim transaction: up to {@code free} due steps, each organization within its limit.
     * Five statements whatever the number of steps: due steps with their organizations' locks,
     * the runs' locks, the runs as they stand, the organizations' running counts, the write.
     */
    Round claim(int free) {
        List<RunState> touched = new ArrayList<>();
        Round round = db.inTransaction(h -> {
            Instant now = executor.now();
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
            Instant startedAt = executor.now();
            List<Executor.Claimed> out = new ArrayList<>();
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
                out.add(new Executor.Claimed(run, c.nodeId(), s.attempts, readyAt));
                if (!touched.contains(run)) {
                    touched.add(run);
                }
            }
            if (!touched.isEmpty()) {
                store.save(h, touched, List.of());
            }
            return new Round(out, contended);
        });
        touched.forEach(r -> executor.changed(r.id));
        return round;
    }
}
