package ai.arches.workflows;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import ai.arches.http.Json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A run and its steps as loaded under the run's row lock, and the rules that move them: the one
 * place a run changes. Every move records which steps changed and appends the events clients
 * will see (step events first, the run's own last), so {@link RunStore#save} writes exactly
 * what changed and a stream reader sees each change once, in order.
 *
 * <p>Mutable on purpose: a working copy that lives for one transaction.
 */
final class RunState {
    /** A step's working copy. */
    static final class StepState {
        final String nodeId;
        final int ordinal;
        final String tool;
        StepStatus status;
        int waiting;
        Instant readyAt;
        int attempts;
        UUID leaseOwner;
        Instant leaseUntil;
        Instant startedAt;
        Instant finishedAt;
        JsonNode output;
        String error;

        StepState(String nodeId, int ordinal, String tool) {
            this.nodeId = nodeId;
            this.ordinal = ordinal;
            this.tool = tool;
        }

        Step view() {
            Instant next = status == StepStatus.PENDING && attempts > 0 ? readyAt : null;
            return new Step(nodeId, tool, status.wire(), attempts, startedAt, finishedAt, next, output, error);
        }
    }

    record Event(long seq, String type, JsonNode data) {}

    final UUID id;
    final UUID organizationId;
    final UUID workflowId;
    final UUID createdBy;
    final Instant createdAt;
    final JsonNode input;
    final RunGraph graph;
    final Map<String, StepState> steps = new LinkedHashMap<>();
    RunStatus status;
    JsonNode output;
    String error;
    Instant startedAt;
    Instant finishedAt;
    Instant updatedAt;
    long eventSeq;

    final Set<String> changed = new LinkedHashSet<>();
    final List<Event> events = new ArrayList<>();

    RunState(UUID id, UUID organizationId, UUID workflowId, UUID createdBy, Instant createdAt, JsonNode input,
             RunGraph graph) {
        this.id = id;
        this.organizationId = organizationId;
        this.workflowId = workflowId;
        this.createdBy = createdBy;
        this.createdAt = createdAt;
        this.input = input;
        this.graph = graph;
    }

    /** A new run: every step pending, those without predecessors due now. */
    static RunState start(UUID id, UUID org, UUID workflowId, UUID createdBy, JsonNode input, RunGraph graph,
                          Instant now) {
        RunState r = new RunState(id, org, workflowId, createdBy, now, input, graph);
        r.status = RunStatus.QUEUED;
        r.updatedAt = now;
        int i = 0;
        for (String node : graph.nodes().keySet()) {
            StepState s = new StepState(node, i++, graph.tool(node));
            s.status = StepStatus.PENDING;
            s.waiting = graph.predecessors().get(node).size();
            s.readyAt = s.waiting == 0 ? now : null;
            r.steps.put(node, s);
        }
        r.runEvent();
        return r;
    }

    boolean holds(String nodeId, UUID owner, int attempt) {
        StepState s = steps.get(nodeId);
        return s != null && s.status == StepStatus.RUNNING && owner.equals(s.leaseOwner) && s.attempts == attempt;
    }

    /** The step starts an attempt on {@code owner}; the run starts with its first step. */
    void claim(String nodeId, UUID owner, Instant leaseUntil, Instant now) {
        StepState s = steps.get(nodeId);
        s.status = StepStatus.RUNNING;
        s.attempts++;
        s.leaseOwner = owner;
        s.leaseUntil = leaseUntil;
        s.startedAt = now;
        s.finishedAt = null;
        stepChanged(s, now);
        if (status == RunStatus.QUEUED) {
            status = RunStatus.RUNNING;
            startedAt = now;
            runChanged(now);
        }
    }

    /** Marks the step done; returns the successors it made due. Finishes the run after its last step. */
    List<String> succeed(String nodeId, JsonNode out, Instant now) {
        StepState s = steps.get(nodeId);
        s.status = StepStatus.SUCCEEDED;
        s.output = out;
        s.error = null;
        s.finishedAt = now;
        s.leaseOwner = null;
        s.leaseUntil = null;
        stepChanged(s, now);
        List<String> due = new ArrayList<>();
        for (String next : graph.successors().get(nodeId)) {
            StepState n = steps.get(next);
            if (n.status == StepStatus.PENDING && --n.waiting == 0) {
                n.readyAt = now;
                due.add(next);
            }
            changed.add(next);
        }
        finishIfDone(now);
        return due;
    }

    /** The attempt failed; with {@code retryAt} the step waits for another, else the run fails. */
    Set<String> fail(String nodeId, String message, Instant retryAt, Instant now) {
        StepState s = steps.get(nodeId);
        s.error = message;
        s.leaseOwner = null;
        s.leaseUntil = null;
        if (retryAt != null) {
            s.status = StepStatus.PENDING;
            s.readyAt = retryAt;
            stepChanged(s, now);
            return Set.of();
        }
        s.status = StepStatus.FAILED;
        s.finishedAt = now;
        stepChanged(s, now);
        error = "step '" + nodeId + "' failed: " + message;
        return end(RunStatus.FAILED, StepStatus.SKIPPED, now);
    }

    /** Ends the run as cancelled; returns the steps that were running (their work must be interrupted). */
    Set<String> cancel(Instant now) {
        error = "cancelled";
        return end(RunStatus.CANCELLED, StepStatus.CANCELLED, now);
    }

    /** A running step whose node stopped renewing its lease goes back to the queue; the lost attempt does not count. */
    void reclaim(String nodeId, Instant now) {
        StepState s = steps.get(nodeId);
        s.status = StepStatus.PENDING;
        s.attempts = Math.max(0, s.attempts - 1);
        s.readyAt = now;
        s.leaseOwner = null;
        s.leaseUntil = null;
        s.startedAt = null;
        s.error = "its node stopped; run again";
        stepChanged(s, now);
    }

    double progress() {
        if (steps.isEmpty()) {
            return 1.0;
        }
        long done = steps.values().stream().filter(s -> s.status.terminal()).count();
        return Math.round(1000.0 * done / steps.size()) / 1000.0;
    }

    Run view(boolean withSteps) {
        return new Run(id, organizationId, workflowId, status.wire(), input, output, error, progress(), createdBy,
                createdAt, startedAt, finishedAt, updatedAt,
                withSteps ? steps.values().stream().map(StepState::view).toList() : null);
    }

    /**
     * The terminal move: pending steps become {@code pendingBecome} (they can never run now),
     * running ones cancelled. Returns the running ones, whose threads must stop.
     */
    private Set<String> end(RunStatus how, StepStatus pendingBecome, Instant now) {
        Set<String> interrupted = new LinkedHashSet<>();
        for (StepState s : steps.values()) {
            if (s.status == StepStatus.PENDING) {
                s.status = pendingBecome;
                s.finishedAt = now;
                stepChanged(s, now);
            } else if (s.status == StepStatus.RUNNING) {
                interrupted.add(s.nodeId);
                s.status = StepStatus.CANCELLED;
                s.finishedAt = now;
                s.leaseOwner = null;
                s.leaseUntil = null;
                stepChanged(s, now);
            }
        }
        status = how;
        finishedAt = now;
        runChanged(now);
        return interrupted;
    }

    private void finishIfDone(Instant now) {
        if (status.terminal() || steps.values().stream().anyMatch(s -> !s.status.terminal())) {
            return;
        }
        ObjectNode out = Json.MAPPER.createObjectNode();
        for (String sink : graph.sinks()) {
            JsonNode o = steps.get(sink).output;
            out.set(sink, o == null ? Json.MAPPER.nullNode() : o);
        }
        output = out;
        status = RunStatus.SUCCEEDED;
        finishedAt = now;
        runChanged(now);
    }

    private void stepChanged(StepState s, Instant now) {
        changed.add(s.nodeId);
        updatedAt = now;
        ObjectNode data = Json.MAPPER.valueToTree(s.view());
        data.put("runId", id.toString());
        events.add(new Event(++eventSeq, "step", data));
    }

    private void runChanged(Instant now) {
        updatedAt = now;
        runEvent();
    }

    private void runEvent() {
        events.add(new Event(++eventSeq, "run", Json.MAPPER.valueToTree(view(false))));
    }
}
