package ai.arches.workflows;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import ai.arches.http.Json;
import ai.arches.organizations.Access;
import ai.arches.workflows.tools.Tool;
import ai.arches.workflows.tools.ToolCall;
import ai.arches.workflows.tools.ToolException;
import ai.arches.workflows.tools.Toolbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * One attempt of one step on this node's virtual thread: resolves the node's templates, runs its
 * tool within its timeout, and hands the outcome to {@link StepEnds#finish}. Interrupts (timeout,
 * the run ending, shutdown) reach the thread only while the tool runs, never while the outcome is
 * being written, so the executor's own statements are never cut off.
 */
final class StepRun {
    sealed interface Outcome {
        record Succeeded(JsonNode output) implements Outcome {}

        record Failed(String message, StepPolicy policy) implements Outcome {}

        /** The node is shutting down: the step goes back to the queue without counting the attempt. */
        record Released() implements Outcome {}
    }

    private static final int MAX_ERROR = 2000;

    private final StepEnds ends;
    private final Executor.Claimed claimed;
    private final Toolbox toolbox;
    /** Resolved on the step's thread: an organization deleted meanwhile fails the step, not the dispatcher. */
    private final Supplier<Access> access;
    private final Duration defaultTimeout;
    private final MeterRegistry registry;
    private final Object lock = new Object();
    private Thread thread;
    private boolean inTool;
    private boolean stopped;
    private boolean released;
    private boolean timedOut;

    StepRun(StepEnds ends, Executor.Claimed claimed, Toolbox toolbox, Supplier<Access> access,
            Duration defaultTimeout, MeterRegistry registry) {
        this.ends = ends;
        this.claimed = claimed;
        this.toolbox = toolbox;
        this.access = access;
        this.defaultTimeout = defaultTimeout;
        this.registry = registry;
    }

    Executor.Claimed claimed() {
        return claimed;
    }

    void run() {
        RunState run = claimed.run();
        String nodeId = claimed.nodeId();
        Node node = run.graph.nodes().get(nodeId);
        String toolName = run.graph.tool(nodeId);
        StepPolicy policy = StepPolicy.of(node.config(), defaultTimeout);
        long t0 = System.nanoTime();
        JsonNode output = null;
        String error = null;
        Thread timer;
        synchronized (lock) {
            thread = Thread.currentThread();
            inTool = !stopped && !released;
            timer = Thread.ofVirtual().name("workflow-step-timeout").start(() -> timeOut(policy.timeout()));
        }
        try {
            if (inTool) {
                output = call(run, nodeId, node, toolName);
            }
        } catch (ToolException e) {
            error = e.getMessage();
        } catch (Throwable e) {
            error = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
        } finally {
            synchronized (lock) {
                inTool = false;
            }
            Thread.interrupted(); // a late interrupt must not cut the outcome's own statements
            timer.interrupt();
        }
        Outcome outcome;
        String label;
        boolean stop;
        boolean release;
        boolean late;
        synchronized (lock) {
            stop = stopped;
            release = released;
            late = timedOut;
        }
        if (release) {
            outcome = new Outcome.Released();
            label = "released";
        } else if (stop) {
            label = "stopped";
            outcome = null; // its run already ended; the step's state was written with that move
        } else if (late) {
            outcome = new Outcome.Failed("timed out after " + policy.timeout().toMillis() + " ms", policy);
            label = "timeout";
        } else if (error != null) {
            outcome = new Outcome.Failed(error.length() > MAX_ERROR ? error.substring(0, MAX_ERROR) + "…" : error,
                    policy);
            label = "failed";
        } else {
            outcome = new Outcome.Succeeded(output);
            label = "succeeded";
        }
        Timer.builder("workflow_step_duration_seconds").tag("tool", toolName == null ? "-" : toolName)
                .tag("outcome", label).description("Time of one attempt of a step, by tool and outcome")
                .register(registry).record(Duration.ofNanos(System.nanoTime() - t0));
        if (outcome != null) {
            ends.finish(claimed, outcome);
        }
    }

    private JsonNode call(RunState run, String nodeId, Node node, String toolName) throws Exception {
        JsonNode input = input(run, nodeId);
        if (toolName == null) {
            return input; // a structural node (start, sink, note): passes its input on
        }
        Tool tool = toolbox.get(toolName).orElseThrow(() -> new ToolException("unknown tool '" + toolName + "'"));
        ObjectNode config = Json.MAPPER.createObjectNode();
        if (node.config() != null) {
            node.config().fields().forEachRemaining(e -> {
                if (!Tool.EXECUTOR_KEYS.contains(e.getKey())) {
                    config.set(e.getKey(), e.getValue());
                }
            });
        }
        Map<String, JsonNode> outputs = new LinkedHashMap<>();
        run.steps.values().forEach(s -> {
            if (s.status == StepStatus.SUCCEEDED) {
                outputs.put(s.nodeId, s.output == null ? Json.MAPPER.nullNode() : s.output);
            }
        });
        ObjectNode resolved = (ObjectNode) Templates.resolve(config, run.input, outputs);
        return tool.run(new ToolCall(access.get(), run.id, nodeId, claimed.attempt(), resolved, input));
    }

    /** The run's input for a first node, a predecessor's output for a node with one, else outputs by node id. */
    static JsonNode input(RunState run, String nodeId) {
        List<String> preds = run.graph.predecessors().get(nodeId);
        if (preds.isEmpty()) {
            return run.input;
        }
        if (preds.size() == 1) {
            JsonNode o = run.steps.get(preds.getFirst()).output;
            return o == null ? Json.MAPPER.nullNode() : o;
        }
        ObjectNode byNode = Json.MAPPER.createObjectNode();
        for (String p : preds) {
            JsonNode o = run.steps.get(p).output;
            byNode.set(p, o == null ? Json.MAPPER.nullNode() : o);
        }
        return byNode;
    }

    /** The run ended (cancelled, or failed in another branch): stop the tool. */
    void stop() {
        synchronized (lock) {
            stopped = true;
            if (inTool) {
                thread.interrupt();
            }
        }
    }

    /** The node is shutting down: stop the tool and give the step back. */
    void release() {
        synchronized (lock) {
            released = true;
            if (inTool) {
                thread.interrupt();
            }
        }
    }

    private void timeOut(Duration after) {
        try {
            Thread.sleep(after);
        } catch (InterruptedException e) {
            return; // the attempt ended first
        }
        synchronized (lock) {
            if (inTool) {
                timedOut = true;
                thread.interrupt();
            }
        }
    }
}
