package ai.arches.workflows;

import java.io.UncheckedIOException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;

import ai.arches.common.Cursors;
import ai.arches.db.Database;
import ai.arches.db.Keyset;
import ai.arches.db.Rows;
import ai.arches.http.Json;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.jdbi.v3.core.Handle;

/**
 * SQL for runs, steps and their events. Client reads are scoped by organization; the executor's
 * statements work across organizations by run id (it serves all of them). A run changes only
 * under its row lock ({@link #lock}), and each change is written by one statement ({@link #save}).
 */
final class RunStore {
    /**
     * NOTIFY channel: "w" new due work another node should take, "c:&lt;run&gt;" stop the run's
     * running steps. Sent only where another node must act: a NOTIFY holds PostgreSQL's one
     * notification-queue lock from its commit until the commit is flushed, so notifying
     * transactions commit one at a time (a NOTIFY per run start and per step end held the whole
     * executor to 280 runs/s on this machine, backends waiting on Lock/object).
     */
    static final String CHANNEL = "arches_workflows";
    /** First key of the advisory locks that serialize claims per organization (the concurrency limit). */
    private static final int ORG_LOCK_SPACE = 0x57464c57;

    private static final String RUN_COLUMNS = "r.id, r.organization_id, r.workflow_id, r.status, r.input, r.output, "
            + "r.error, r.created_by, r.created_at, r.started_at, r.finished_at, r.updated_at, r.event_seq";
    private static final String STEP_COLUMNS = "s.node_id, s.ordinal, s.tool, s.status AS step_status, s.waiting, "
            + "s.ready_at, s.attempts, s.lease_owner, s.lease_until, s.started_at AS step_started_at, "
            + "s.finished_at AS step_finished_at, s.output AS step_output, s.error AS step_error";

    record Candidate(UUID runId, String nodeId, UUID organizationId, boolean organizationLocked) {}

    record StoredEvent(long seq, String type, String data) {}

    /** What became of a start: refused (its organization's queue is full), queued, or claimed by this node at once. */
    enum Inserted { REFUSED, QUEUED, CLAIMED }

    /**
     * A run to insert: as queued, and, where this node reserved workers for its first steps, the
     * same run with them claimed by this node ({@code claimed}, else null).
     */
    record NewRun(RunState queued, RunState claimed, Definition definition) {
        UUID organizationId() {
            return queued.organizationId;
        }

        int roots() {
            return claimed == null ? 0 : claimed.changed.size();
        }
    }

    /** An organization as a batch of starts finds it: its claim lock taken (or not), its queued runs. */
    record OrgState(boolean locked, long queued) {}

    /**
     * The organizations' queued runs, and their claim locks taken for this transaction where
     * {@code claiming} names them and the lock is free (never waits): the same lock {@link #due}
     * takes, so starts that claim their own first steps and the dispatchers of every node count an
     * organization's running steps one at a time. Read the counts with {@link #running} in a
     * later statement, which sees every claim committed before the lock was taken.
     */
    Map<UUID, OrgState> organizations(Handle h, Set<UUID> orgs, Set<UUID> claiming) {
        Map<UUID, OrgState> out = new LinkedHashMap<>();
        h.createQuery("""
                        SELECT o AS organization_id,
                               o = ANY(CAST(:claiming AS uuid[]))
                                   AND pg_try_advisory_xact_lock(:space, hashtext(CAST(o AS text))) AS locked,
                               (SELECT count(*) FROM workflow_runs WHERE organization_id = o AND status = 'queued')
                                   AS queued
                        FROM unnest(CAST(:orgs AS uuid[])) o ORDER BY o""")
                .define(Database.QUERY_TYPE, "runs.organizations")
                .bind("orgs", orgs.toArray(UUID[]::new)).bind("claiming", claiming.toArray(UUID[]::new))
                .bind("space", ORG_LOCK_SPACE)
                .map((rs, ctx) -> Map.entry(Rows.uuid(rs, "organization_id"),
                        new OrgState(rs.getBoolean("locked"), rs.getLong("queued"))))
                .forEach(e -> out.put(e.getKey(), e.getValue()));
        return out;
    }

    /**
     * Inserts new runs with their steps and events, each as its {@code how} says (queued or
     * claimed; refused ones are left out), and wakes the other nodes if {@code notify}: one
     * statement for a whole batch of starts.
     */
    void insert(Handle h, List<NewRun> runs, List<Inserted> how, boolean notify) {
        ArrayNode rows = Json.MAPPER.createArrayNode();
        ArrayNode steps = Json.MAPPER.createArrayNode();
        ArrayNode events = Json.MAPPER.createArrayNode();
        for (int i = 0; i < runs.size(); i++) {
            if (how.get(i) == Inserted.REFUSED) {
                continue;
            }
            NewRun n = runs.get(i);
            RunState r = how.get(i) == Inserted.CLAIMED ? n.claimed() : n.queued();
            String id = r.id.toString();
            ObjectNode row = rows.addObject().put("id", id).put("organization_id", r.organizationId.toString())
                    .put("workflow_id", r.workflowId.toString()).put("status", r.status.wire())
                    .put("created_at", r.createdAt.toString()).put("event_seq", r.eventSeq);
            putIf(row, "created_by", r.createdBy);
            putIf(row, "started_at", r.startedAt);
            row.set("input", r.input);
            row.set("definition", Json.MAPPER.valueToTree(n.definition()));
            for (RunState.StepState s : r.steps.values()) {
                ObjectNode o = steps.addObject().put("run_id", id).put("organization_id", r.organizationId.toString())
                        .put("node_id", s.nodeId).put("ordinal", s.ordinal).put("tool", s.tool)
                        .put("status", s.status.wire()).put("waiting", s.waiting).put("attempts", s.attempts);
                putIf(o, "ready_at", s.readyAt);
                putIf(o, "lease_owner", s.leaseOwner);
                putIf(o, "lease_until", s.leaseUntil);
                putIf(o, "started_at", s.startedAt);
            }
            for (RunState.Event e : r.events) {
                events.addObject().put("run_id", id).put("seq", e.seq()).put("type", e.type())
                        .put("created_at", r.createdAt.toString()).set("data", e.data());
            }
        }
        h.createQuery("""
                        WITH r AS (INSERT INTO workflow_runs (id, organization_id, workflow_id, status, input, definition,
                                                              created_by, created_at, started_at, updated_at, event_seq,
                                                              progress)
                                   SELECT x.id, x.organization_id, x.workflow_id, x.status, x.input, x.definition,
                                          x.created_by, x.created_at, x.started_at, x.created_at, x.event_seq, 0
                                   FROM jsonb_to_recordset(CAST(:runs AS jsonb))
                                        AS x(id uuid, organization_id uuid, workflow_id uuid, status text, input jsonb,
                                             definition jsonb, created_by uuid, created_at timestamptz,
                                             started_at timestamptz, event_seq bigint)
                                   RETURNING 1),
                        s AS (INSERT INTO workflow_steps (run_id, node_id, organization_id, ordinal, tool, status,
                                                          waiting, ready_at, attempts, lease_owner, lease_until,
                                                          started_at)
                              SELECT x.run_id, x.node_id, x.organization_id, x.ordinal, x.tool, x.status, x.waiting,
                                     x.ready_at, x.attempts, x.lease_owner, x.lease_until, x.started_at
                              FROM jsonb_to_recordset(CAST(:steps AS jsonb))
                                   AS x(run_id uuid, organization_id uuid, node_id text, ordinal int, tool text,
                                        status text, waiting int, ready_at timestamptz, attempts int,
                                        lease_owner uuid, lease_until timestamptz, started_at timestamptz)
                              RETURNING 1),
                        e AS (INSERT INTO workflow_run_events (run_id, seq, type, data, created_at)
                              SELECT x.run_id, x.seq, x.type, x.data, x.created_at
                              FROM jsonb_to_recordset(CAST(:events AS jsonb))
                                   AS x(run_id uuid, seq bigint, type text, data jsonb, created_at timestamptz)
                              RETURNING 1)
                        SELECT (SELECT count(*) FROM r) + (SELECT count(*) FROM s) + (SELECT count(*) FROM e)
                               + (SELECT count(*) FROM (SELECT pg_notify(:channel, 'w') WHERE :notify) n)""")
                .define(Database.QUERY_TYPE, "runs.insert")
                .bind("runs", text(rows)).bind("steps", text(steps)).bind("events", text(events))
                .bind("channel", CHANNEL).bind("notify", notify)
                .mapTo(Long.class).one();
    }

    /**
     * The runs with their steps, each run's row locked for this transaction; with
     * {@code skipLocked}, runs another transaction holds are left out instead of waited for.
     */
    Map<UUID, RunState> lock(Handle h, Set<UUID> ids, boolean skipLocked, Function<UUID, RunGraph> graphs) {
        // Two statements, not one join with FOR UPDATE OF r: a join that waited for the run's lock
        // re-reads the run row but keeps the step rows of its older snapshot, so two branches
        // finishing together each saw the join step waiting for both and it never became due.
        // Under READ COMMITTED the second statement's snapshot sees what the lock holder committed.
        List<UUID> locked = h.createQuery("SELECT id FROM workflow_runs WHERE id = ANY(:ids) ORDER BY id FOR UPDATE"
                        + (skipLocked ? " SKIP LOCKED" : ""))
                .define(Database.QUERY_TYPE, "runs.lock")
                .bind("ids", ids.toArray(UUID[]::new)).mapTo(UUID.class).list();
        if (locked.isEmpty()) {
            return Map.of();
        }
        return load(h, "SELECT " + RUN_COLUMNS + ", r.definition, " + STEP_COLUMNS
                + " FROM workflow_runs r JOIN workflow_steps s ON s.run_id = r.id WHERE r.id = ANY(:ids)"
                + " ORDER BY r.id, s.ordinal", "runs.load", null, Set.copyOf(locked), graphs);
    }

    /** One run of an organization with its steps, as clients read it. */
    Optional<RunState> get(Handle h, UUID org, UUID id) {
        return load(h, "SELECT " + RUN_COLUMNS + ", NULL AS definition, " + STEP_COLUMNS
                + " FROM workflow_runs r JOIN workflow_steps s ON s.run_id = r.id"
                + " WHERE r.id = ANY(:ids) AND r.organization_id = :org ORDER BY s.ordinal",
                "runs.get", org, Set.of(id), null).values().stream().findFirst();
    }

    /** Whether the organization has this run (the event stream checks before it starts). */
    boolean exists(Handle h, UUID org, UUID id) {
        return h.createQuery("SELECT EXISTS (SELECT 1 FROM workflow_runs WHERE id = :id AND organization_id = :org)")
                .define(Database.QUERY_TYPE, "runs.exists")
                .bind("id", id).bind("org", org).mapTo(Boolean.class).one();
    }

    Optional<Long> finalEvent(Handle h, UUID id) {
        return h.createQuery("SELECT event_seq FROM workflow_runs WHERE id = :id "
                        + "AND status IN ('succeeded', 'failed', 'cancelled')")
                .define(Database.QUERY_TYPE, "runs.final_event")
                .bind("id", id).mapTo(Long.class).findOne();
    }

    /** Writes what a move changed: the steps, the run, the events, and the notifications, in one statement. */
    void save(Handle h, RunState r, List<String> notes) {
        save(h, List.of(r), notes);
    }

    /**
     * Writes what moves of several runs changed (their steps, the runs, their events) and sends
     * the notifications, in one statement: a claim or a batch of finished steps costs one round
     * trip whatever its size.
     */
    void save(Handle h, List<RunState> moved, List<String> notes) {
        ArrayNode steps = Json.MAPPER.createArrayNode();
        ArrayNode runs = Json.MAPPER.createArrayNode();
        ArrayNode events = Json.MAPPER.createArrayNode();
        for (RunState r : moved) {
            String id = r.id.toString();
            for (String node : r.changed) {
                RunState.StepState s = r.steps.get(node);
                ObjectNode o = steps.addObject().put("run_id", id).put("node_id", s.nodeId).put("status", s.status.wire())
                        .put("waiting", s.waiting).put("attempts", s.attempts);
                putIf(o, "ready_at", s.readyAt);
                putIf(o, "lease_owner", s.leaseOwner);
                putIf(o, "lease_until", s.leaseUntil);
                putIf(o, "started_at", s.startedAt);
                putIf(o, "finished_at", s.finishedAt);
                if (s.output != null) {
                    o.set("output", s.output);
                }
                if (s.error != null) {
                    o.put("error", s.error);
                }
            }
            ObjectNode run = runs.addObject().put("id", id).put("status", r.status.wire()).put("event_seq", r.eventSeq)
                    .put("progress", r.progress());
            putIf(run, "started_at", r.startedAt);
            putIf(run, "finished_at", r.finishedAt);
            putIf(run, "updated_at", r.updatedAt);
            if (r.output != null) {
                run.set("output", r.output);
            }
            if (r.error != null) {
                run.put("error", r.error);
            }
            for (RunState.Event e : r.events) {
                events.addObject().put("run_id", id).put("seq", e.seq()).put("type", e.type())
                        .put("created_at", r.updatedAt.toString()).set("data", e.data());
            }
        }
        h.createQuery("""
                        WITH st AS (UPDATE workflow_steps s
                                    SET status = x.status, waiting = x.waiting, ready_at = x.ready_at,
                                        attempts = x.attempts, lease_owner = x.lease_owner, lease_until = x.lease_until,
                                        started_at = x.started_at, finished_at = x.finished_at, output = x.output,
                                        error = x.error
                                    FROM jsonb_to_recordset(CAST(:steps AS jsonb))
                                         AS x(run_id uuid, node_id text, status text, waiting int, ready_at timestamptz,
                                              attempts int, lease_owner uuid, lease_until timestamptz,
                                              started_at timestamptz, finished_at timestamptz, output jsonb, error text)
                                    WHERE s.run_id = ANY(CAST(:ids AS uuid[])) AND s.run_id = x.run_id
                                      AND s.node_id = x.node_id
                                    RETURNING 1),
                        r AS (UPDATE workflow_runs w
                              SET status = x.status, output = x.output, error = x.error, started_at = x.started_at,
                                  finished_at = x.finished_at, updated_at = x.updated_at, event_seq = x.event_seq,
                                  progress = x.progress
                              FROM jsonb_to_recordset(CAST(:runs AS jsonb))
                                   AS x(id uuid, status text, output jsonb, error text, started_at timestamptz,
                                        finished_at timestamptz, updated_at timestamptz, event_seq bigint,
                                        progress double precision)
                              WHERE w.id = ANY(CAST(:ids AS uuid[])) AND w.id = x.id RETURNING 1),
                        e AS (INSERT INTO workflow_run_events (run_id, seq, type, data, created_at)
                              SELECT x.run_id, x.seq, x.type, x.data, x.created_at
                              FROM jsonb_to_recordset(CAST(:events AS jsonb))
                                   AS x(run_id uuid, seq bigint, type text, data jsonb, created_at timestamptz)
                              RETURNING 1)
                        SELECT (SELECT count(*) FROM st) + (SELECT count(*) FROM r) + (SELECT count(*) FROM e)
                               + (SELECT count(*) FROM (SELECT pg_notify(:channel, p)
                                                        FROM unnest(CAST(:notes AS text[])) p) n)""")
                .define(Database.QUERY_TYPE, "runs.save")
                // The ids again as an array: the planner takes a JSON recordset for 100 rows and,
                // with a small steps table, joined it by scanning the whole table (4 ms at 7,800
                // rows, growing with the table); "= ANY(ids)" gives it the primary key's index.
                .bind("ids", moved.stream().map(r -> r.id).toArray(UUID[]::new))
                .bind("steps", text(steps)).bind("runs", text(runs)).bind("events", text(events))
                .bind("channel", CHANNEL).bind("notes", notes.stream().distinct().toArray(String[]::new))
                .mapTo(Long.class).one();
        for (RunState r : moved) {
            r.changed.clear();
            r.events.clear();
        }
    }

    /**
     * Due steps, oldest first, locked (others skip them), leaving out organizations that already
     * run {@code maxRunning} steps; each row says whether this transaction holds its
     * organization's claim lock (taken where free: another node claiming for the organization
     * makes this one skip it this round, never wait). The exact count follows under the lock
     * ({@link #running}).
     */
    List<Candidate> due(Handle h, Instant now, int limit, int maxRunning) {
        // The lock is taken in the outer select, over the rows the limit kept (a locking CTE is
        // materialized), not for every due row the sort saw.
        return h.createQuery("""
                        WITH c AS (SELECT s.run_id, s.node_id, s.organization_id, s.ready_at FROM workflow_steps s
                                   WHERE s.status = 'pending' AND s.waiting = 0 AND s.ready_at <= :now
                                     AND s.organization_id NOT IN (SELECT organization_id FROM workflow_steps
                                                                   WHERE status = 'running' GROUP BY organization_id
                                                                   HAVING count(*) >= :maxRunning)
                                   ORDER BY s.ready_at LIMIT :limit
                                   FOR UPDATE OF s SKIP LOCKED)
                        SELECT run_id, node_id, organization_id,
                               pg_try_advisory_xact_lock(:space, hashtext(organization_id::text)) AS org_locked
                        FROM c ORDER BY ready_at""")
                .define(Database.QUERY_TYPE, "runs.due")
                .bind("now", now).bind("limit", limit).bind("maxRunning", maxRunning).bind("space", ORG_LOCK_SPACE)
                .map((rs, ctx) -> new Candidate(Rows.uuid(rs, "run_id"), rs.getString("node_id"),
                        Rows.uuid(rs, "organization_id"), rs.getBoolean("org_locked")))
                .list();
    }

    /** Steps running per organization now (a statement after the locks, so it sees their holders' commits). */
    Map<UUID, Integer> running(Handle h, List<UUID> orgs) {
        Map<UUID, Integer> out = new LinkedHashMap<>();
        h.createQuery("SELECT organization_id, count(*) AS n FROM workflow_steps "
                        + "WHERE status = 'running' AND organization_id = ANY(:orgs) GROUP BY organization_id")
                .define(Database.QUERY_TYPE, "runs.running")
                .bind("orgs", orgs.toArray(UUID[]::new))
                .map((rs, ctx) -> Map.entry(Rows.uuid(rs, "organization_id"), rs.getInt("n")))
                .forEach(e -> out.put(e.getKey(), e.getValue()));
        return out;
    }

    /**
     * Renews the leases of the steps this node is running now, and only those: a step whose end
     * could not be recorded must run out its lease and go back to the queue, not be renewed forever.
     */
    int renew(Handle h, UUID owner, List<UUID> runs, List<String> nodes, Instant until) {
        return h.createUpdate("UPDATE workflow_steps s SET lease_until = :until "
                        + "FROM unnest(CAST(:runs AS uuid[]), CAST(:nodes AS text[])) AS l(run_id, node_id) "
                        + "WHERE s.run_id = ANY(CAST(:runs AS uuid[])) AND s.run_id = l.run_id AND s.node_id = l.node_id "
                        + "AND s.lease_owner = :owner "
                        + "AND s.status = 'running'")
                .define(Database.QUERY_TYPE, "runs.renew")
                .bind("owner", owner).bind("until", until).bind("runs", runs.toArray(UUID[]::new))
                .bind("nodes", nodes.toArray(String[]::new)).execute();
    }

    /** Runs with a step whose lease ran out (its node died or lost the database). */
    List<UUID> expired(Handle h, Instant now, int limit) {
        return h.createQuery("SELECT DISTINCT run_id FROM workflow_steps WHERE status = 'running' AND lease_until < :now "
                        + "LIMIT :limit")
                .define(Database.QUERY_TYPE, "runs.expired")
                .bind("now", now).bind("limit", limit).mapTo(UUID.class).list();
    }

    long dueCount(Handle h, Instant now) {
        return h.createQuery("SELECT count(*) FROM workflow_steps WHERE status = 'pending' AND waiting = 0 AND ready_at <= :now")
                .define(Database.QUERY_TYPE, "runs.due_count")
                .bind("now", now).mapTo(Long.class).one();
    }

    /** One page of an organization's runs, newest first, optionally of one workflow and one status. */
    Keyset.Budgeted<Run> list(Handle h, UUID org, Optional<UUID> workflow, Optional<RunStatus> status,
                              Cursors.PageRequest page, long budget) {
        String sql = Keyset.withinBudget("SELECT id, organization_id, workflow_id, status, input, output, error, "
                + "progress, created_by, created_at, started_at, finished_at, updated_at, "
                + "octet_length(input::text) + coalesce(octet_length(output::text), 0) "
                + "+ coalesce(octet_length(error), 0) AS est FROM workflow_runs WHERE organization_id = :org"
                + (workflow.isPresent() ? " AND workflow_id = :workflow" : "")
                + (status.isPresent() ? " AND status = :status" : "")
                + Keyset.after(page, "created_at", "id")
                + " ORDER BY created_at DESC, id DESC LIMIT :fetch");
        var q = Keyset.bind(h.createQuery(sql), page).define(Database.QUERY_TYPE, "runs.list")
                .bind("org", org).bind("budget", budget);
        workflow.ifPresent(w -> q.bind("workflow", w));
        status.ifPresent(s -> q.bind("status", s.wire()));
        long[] innerRows = {0};
        List<Run> rows = q.map((rs, ctx) -> {
            innerRows[0] = rs.getLong("inner_rows");
            return new Run(Rows.uuid(rs, "id"), Rows.uuid(rs, "organization_id"), Rows.uuid(rs, "workflow_id"),
                    rs.getString("status"), json(rs.getString("input")), json(rs.getString("output")),
                    rs.getString("error"), rs.getDouble("progress"), Rows.uuid(rs, "created_by"),
                    Rows.instant(rs, "created_at"), Rows.instant(rs, "started_at"), Rows.instant(rs, "finished_at"),
                    Rows.instant(rs, "updated_at"), null);
        }).list();
        return new Keyset.Budgeted<>(rows, rows.size() < innerRows[0]);
    }

    /** A run's events after {@code after}, in order. */
    List<StoredEvent> events(Handle h, UUID run, long after, int limit) {
        return h.createQuery("SELECT seq, type, data::text AS data FROM workflow_run_events "
                        + "WHERE run_id = :run AND seq > :after ORDER BY seq LIMIT :limit")
                .define(Database.QUERY_TYPE, "runs.events")
                .bind("run", run).bind("after", after).bind("limit", limit)
                .map((rs, ctx) -> new StoredEvent(rs.getLong("seq"), rs.getString("type"), rs.getString("data")))
                .list();
    }

    private Map<UUID, RunState> load(Handle h, String sql, String name, UUID org, Set<UUID> ids,
                                     Function<UUID, RunGraph> graphs) {
        Map<UUID, RunState> out = new LinkedHashMap<>();
        var q = h.createQuery(sql).define(Database.QUERY_TYPE, name).bind("ids", ids.toArray(UUID[]::new));
        if (org != null) {
            q.bind("org", org);
        }
        q.map((rs, ctx) -> {
            UUID id = Rows.uuid(rs, "id");
            RunState r = out.get(id);
            if (r == null) {
                RunGraph graph = null;
                if (graphs != null) {
                    String def = rs.getString("definition");
                    graph = graphs.apply(id);
                    if (graph == null) {
                        graph = RunGraph.of(definition(def));
                    }
                }
                r = new RunState(id, Rows.uuid(rs, "organization_id"), Rows.uuid(rs, "workflow_id"),
                        Rows.uuid(rs, "created_by"), Rows.instant(rs, "created_at"), json(rs.getString("input")), graph);
                r.status = RunStatus.of(rs.getString("status"));
                r.output = json(rs.getString("output"));
                r.error = rs.getString("error");
                r.startedAt = Rows.instant(rs, "started_at");
                r.finishedAt = Rows.instant(rs, "finished_at");
                r.updatedAt = Rows.instant(rs, "updated_at");
                r.eventSeq = rs.getLong("event_seq");
                out.put(id, r);
            }
            r.steps.put(rs.getString("node_id"), step(rs));
            return r;
        }).forEach(r -> { });
        return out;
    }

    private static RunState.StepState step(ResultSet rs) throws SQLException {
        var s = new RunState.StepState(rs.getString("node_id"), rs.getInt("ordinal"), rs.getString("tool"));
        s.status = StepStatus.of(rs.getString("step_status"));
        s.waiting = rs.getInt("waiting");
        s.readyAt = Rows.instant(rs, "ready_at");
        s.attempts = rs.getInt("attempts");
        s.leaseOwner = Rows.uuid(rs, "lease_owner");
        s.leaseUntil = Rows.instant(rs, "lease_until");
        s.startedAt = Rows.instant(rs, "step_started_at");
        s.finishedAt = Rows.instant(rs, "step_finished_at");
        s.output = json(rs.getString("step_output"));
        s.error = rs.getString("step_error");
        return s;
    }

    private static void putIf(ObjectNode o, String key, Object v) {
        if (v != null) {
            o.put(key, v.toString());
        }
    }

    private static Definition definition(String s) {
        try {
            return Json.MAPPER.readValue(s, Definition.class);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode json(String s) {
        if (s == null) {
            return null;
        }
        try {
            return Json.MAPPER.readTree(s);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String text(Object v) {
        try {
            return Json.MAPPER.writeValueAsString(v);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
