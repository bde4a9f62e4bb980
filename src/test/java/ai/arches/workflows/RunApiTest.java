package ai.arches.workflows;

import static ai.arches.workflows.RunFixtures.at;
import static ai.arches.workflows.RunFixtures.edge;
import static ai.arches.workflows.RunFixtures.step;
import static ai.arches.workflows.RunFixtures.tool;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import ai.arches.testing.Eventually;
import ai.arches.testing.Metrics;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

class RunApiTest extends RunTest {
    @Override
    protected Map<String, String> overrides() {
        return Map.of("workflows.poll_interval", "5s");
    }

    @Test
    void parallel_branches_run_together_and_the_fan_in_sees_both_outputs() {
        var s = api.newUser("Fan");
        String org = api.newOrg(s, "fan");
        String wf = f.workflow(s, org, List.of(
                tool("split", "transform", Map.of("value", Map.of("n", "{{input.n}}"))),
                tool("left", "delay", Map.of("ms", 400)),
                tool("right", "delay", Map.of("ms", 400)),
                tool("join", "transform", Map.of("value", Map.of("sum", "{{steps.left.n}} and {{steps.right.n}}",
                        "both", "{{steps.split}}")))),
                List.of(edge("split", "left"), edge("split", "right"), edge("left", "join"), edge("right", "join")));
        JsonNode queued = f.start(s, org, wf, Map.of("n", 7));
        assertThat(queued.get("status").asText()).isEqualTo("queued");
        assertThat(queued.get("steps")).hasSize(4);

        JsonNode run = f.awaitFinal(s, org, queued.get("id").asText());
        assertThat(run.get("status").asText()).as(run.toString()).isEqualTo("succeeded");
        JsonNode left = step(run, "left");
        JsonNode right = step(run, "right");
        // The branches overlapped: each started before the other finished.
        assertThat(at(left.get("startedAt"))).isBefore(at(right.get("finishedAt")));
        assertThat(at(right.get("startedAt"))).isBefore(at(left.get("finishedAt")));
        // Delay passes its input on; the fan-in read both branches and the first step.
        assertThat(run.get("output").get("join").get("sum").asText()).isEqualTo("7 and 7");
        assertThat(run.get("output").get("join").get("both").get("n").asInt()).isEqualTo(7);
        assertThat(run.get("progress").asDouble()).isEqualTo(1.0);
        assertThat(run.get("startedAt").isNull()).isFalse();
        assertThat(run.get("finishedAt").isNull()).isFalse();
        assertThat(Metrics.value(api, "workflow_runs_finished_total", "status=\"succeeded\"")).isGreaterThanOrEqualTo(1);
        assertThat(Metrics.value(api, "workflow_step_duration_seconds_count", "tool=\"delay\"")).isGreaterThanOrEqualTo(2);
        assertThat(Metrics.unlabelled(api, "workflow_enqueue_to_start_seconds_count")).isGreaterThanOrEqualTo(4);
    }

    @Test
    void a_failing_step_retries_with_growing_backoff_then_fails_the_run_and_skips_what_follows() {
        var s = api.newUser("Retry");
        String org = api.newOrg(s, "retry");
        String wf = f.workflow(s, org, List.of(
                tool("flaky", "fail", Map.of("message", "upstream said no",
                        "retry", Map.of("maxAttempts", 3, "backoff", Map.of("initialMs", 200, "multiplier", 2)))),
                tool("after", "transform", Map.of("value", "never")),
                tool("sibling", "transform", Map.of("value", "independent"))),
                List.of(edge("flaky", "after")));
        String id = f.start(s, org, wf, Map.of()).get("id").asText();
        JsonNode run = f.awaitFinal(s, org, id);
        assertThat(run.get("status").asText()).isEqualTo("failed");
        assertThat(run.get("error").asText()).contains("flaky").contains("upstream said no");
        JsonNode flaky = step(run, "flaky");
        assertThat(flaky.get("status").asText()).isEqualTo("failed");
        assertThat(flaky.get("attempts").asInt()).isEqualTo(3);
        assertThat(step(run, "after").get("status").asText()).isEqualTo("skipped");
        assertThat(step(run, "after").get("attempts").asInt()).isZero();

        // The waits between attempts, from the event log: at least half of 200 ms, then of 400 ms.
        List<Instant> starts = new java.util.ArrayList<>();
        try {
            for (var e : f.events(s, org, id, null)) {
                if (e.type().equals("step") && e.data().get("nodeId").asText().equals("flaky")
                        && e.data().get("status").asText().equals("running")) {
                    starts.add(at(e.data().get("startedAt")));
                }
            }
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        assertThat(starts).hasSize(3);
        assertThat(Duration.between(starts.get(0), starts.get(1))).isGreaterThanOrEqualTo(Duration.ofMillis(100));
        assertThat(Duration.between(starts.get(1), starts.get(2))).isGreaterThanOrEqualTo(Duration.ofMillis(200));
    }

    @Test
    void a_step_past_its_timeout_is_stopped_and_fails() {
        var s = api.newUser("Slow");
        String org = api.newOrg(s, "slow");
        String wf = f.workflow(s, org, List.of(tool("nap", "delay", Map.of("ms", 60_000, "timeout", "150ms"))), List.of());
        long t0 = System.nanoTime();
        JsonNode run = f.awaitFinal(s, org, f.start(s, org, wf, Map.of()).get("id").asText());
        assertThat(run.get("status").asText()).isEqualTo("failed");
        assertThat(step(run, "nap").get("error").asText()).contains("timed out after 150 ms");
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(20));
    }

    @Test
    void templates_read_the_input_and_earlier_steps_and_a_missing_path_fails_the_step() {
        var s = api.newUser("Tmpl");
        String org = api.newOrg(s, "tmpl");
        String wf = f.workflow(s, org, List.of(
                tool("a", "transform", Map.of("value", Map.of("items", List.of("x", "y"), "who", "{{input.user.name}}"))),
                tool("b", "transform", Map.of("value", Map.of("second", "{{steps.a.items.1}}",
                        "greeting", "hello {{steps.a.who}}, {{input.count}} times", "whole", "{{input.user}}")))),
                List.of(edge("a", "b")));
        JsonNode run = f.awaitFinal(s, org, f.start(s, org, wf, Map.of("user", Map.of("name", "Ada"), "count", 3))
                .get("id").asText());
        assertThat(run.get("status").asText()).as(run.toString()).isEqualTo("succeeded");
        JsonNode b = run.get("output").get("b");
        assertThat(b.get("second").asText()).isEqualTo("y");
        assertThat(b.get("greeting").asText()).isEqualTo("hello Ada, 3 times");
        assertThat(b.get("whole").get("name").asText()).isEqualTo("Ada");

        JsonNode missing = f.awaitFinal(s, org, f.start(s, org, wf, Map.of("count", 1)).get("id").asText());
        assertThat(missing.get("status").asText()).isEqualTo("failed");
        assertThat(step(missing, "a").get("error").asText()).contains("{{input.user.name}}");
    }

    @Test
    void cancel_interrupts_a_running_step_and_stops_a_waiting_retry() {
        var s = api.newUser("Cancel");
        String org = api.newOrg(s, "cancel");
        String sleepy = f.workflow(s, org, List.of(tool("nap", "delay", Map.of("ms", 60_000)),
                tool("next", "transform", Map.of("value", 1))), List.of(edge("nap", "next")));
        String id = f.start(s, org, sleepy, Map.of()).get("id").asText();
        f.await(s, org, id, r -> step(r, "nap").get("status").asText().equals("running"), 10_000);
        var c = api.post("/api/v1/organizations/" + org + "/runs/" + id + "/cancel", s.token(), null);
        assertThat(c.status()).as(c.toString()).isEqualTo(202);
        assertThat(c.json().get("status").asText()).isEqualTo("cancelled");
        assertThat(step(c.json(), "nap").get("status").asText()).isEqualTo("cancelled");
        assertThat(step(c.json(), "next").get("status").asText()).isEqualTo("cancelled");
        // The interrupted step frees its worker at once rather than after its minute.
        Eventually.status("steps running", 0, 10_000,
                () -> (int) Metrics.unlabelled(api, "workflow_steps_running"));
        assertThat(api.post("/api/v1/organizations/" + org + "/runs/" + id + "/cancel", s.token(), null).status())
                .isEqualTo(202);

        String flaky = f.workflow(s, org, List.of(tool("flaky", "fail", Map.of("retry",
                Map.of("maxAttempts", 5, "backoff", 400)))), List.of());
        String id2 = f.start(s, org, flaky, Map.of()).get("id").asText();
        JsonNode waiting = f.await(s, org, id2, r -> !step(r, "flaky").get("nextAttemptAt").isNull(), 10_000);
        Instant due = at(step(waiting, "flaky").get("nextAttemptAt"));
        assertThat(api.post("/api/v1/organizations/" + org + "/runs/" + id2 + "/cancel", s.token(), null).status())
                .isEqualTo(202);
        // Past the moment the retry was due, it still has not started.
        JsonNode later = f.await(s, org, id2, r -> Instant.now().isAfter(due.plusMillis(300)), 10_000);
        assertThat(step(later, "flaky").get("attempts").asInt()).isEqualTo(1);
        assertThat(step(later, "flaky").get("status").asText()).isEqualTo("cancelled");
        assertThat(later.get("status").asText()).isEqualTo("cancelled");

        JsonNode done = f.awaitFinal(s, org, f.start(s, org, f.workflow(s, org,
                List.of(tool("t", "transform", Map.of("value", 1))), List.of()), Map.of()).get("id").asText());
        var late = api.post("/api/v1/organizations/" + org + "/runs/" + done.get("id").asText() + "/cancel", s.token(), null);
        assertThat(late.status()).isEqualTo(409);
    }

    @Test
    void the_event_stream_delivers_every_change_to_the_end_and_resumes_after_last_event_id() throws Exception {
        var s = api.newUser("Stream");
        String org = api.newOrg(s, "stream");
        String wf = f.workflow(s, org, List.of(tool("a", "delay", Map.of("ms", 200)), tool("b", "transform",
                Map.of("value", "done"))), List.of(edge("a", "b")));
        String id = f.start(s, org, wf, Map.of()).get("id").asText();
        List<RunFixtures.Event> events = f.events(s, org, id, null); // returns only when the server ends the stream
        assertThat(events).extracting(RunFixtures.Event::id).containsExactlyElementsOf(
                java.util.stream.LongStream.rangeClosed(1, events.size()).boxed().toList());
        assertThat(events.getFirst().type()).isEqualTo("run");
        assertThat(events.getFirst().data().get("status").asText()).isEqualTo("queued");
        RunFixtures.Event last = events.getLast();
        assertThat(last.type()).isEqualTo("run");
        assertThat(last.data().get("status").asText()).isEqualTo("succeeded");
        assertThat(last.data().get("output").get("b").asText()).isEqualTo("done");
        assertThat(events).filteredOn(e -> e.type().equals("step"))
                .extracting(e -> e.data().get("nodeId").asText() + ":" + e.data().get("status").asText())
                .containsExactly("a:running", "a:succeeded", "b:running", "b:succeeded");

        List<RunFixtures.Event> resumed = f.events(s, org, id, events.get(2).id());
        assertThat(resumed).extracting(RunFixtures.Event::id).containsExactlyElementsOf(
                events.subList(3, events.size()).stream().map(RunFixtures.Event::id).toList());
        assertThat(f.events(s, org, id, last.id())).isEmpty();
    }

    @Test
    void a_run_keeps_its_definition_and_lists_filter_by_workflow_and_status() {
        var s = api.newUser("Keep");
        String org = api.newOrg(s, "keep");
        String wf = f.workflow(s, org, List.of(tool("nap", "delay", Map.of("ms", 300))), List.of());
        String id = f.start(s, org, wf, Map.of()).get("id").asText();
        var patch = api.patch("/api/v1/organizations/" + org + "/workflows/" + wf, s.token(), Map.of("definition",
                Map.of("nodes", List.of(tool("other", "transform", Map.of("value", 1))))));
        assertThat(patch.status()).isEqualTo(200);
        JsonNode run = f.awaitFinal(s, org, id);
        assertThat(run.get("steps")).extracting(n -> n.get("nodeId").asText()).containsExactly("nap");
        assertThat(run.get("output").has("nap")).isTrue();

        String other = f.workflow(s, org, List.of(tool("x", "fail", Map.of())), List.of());
        f.awaitFinal(s, org, f.start(s, org, other, Map.of()).get("id").asText());
        String base = "/api/v1/organizations/" + org + "/runs";
        JsonNode all = api.get(base, s.token()).json();
        assertThat(all.get("data")).hasSize(2);
        assertThat(all.get("data").get(0).has("steps")).isFalse();
        assertThat(api.get(base + "?workflowId=" + wf, s.token()).json().get("data"))
                .extracting(r -> r.get("id").asText()).containsExactly(id);
        assertThat(api.get(base + "?status=failed", s.token()).json().get("data"))
                .extracting(r -> r.get("workflowId").asText()).containsExactly(other);
        assertThat(api.get(base + "?status=bogus", s.token()).status()).isEqualTo(400);
        assertThat(api.get(base + "?workflowId=nope", s.token()).status()).isEqualTo(400);
        JsonNode page = api.get(base + "?limit=1", s.token()).json();
        assertThat(page.get("data")).hasSize(1);
        JsonNode next = api.get(base + "?limit=1&cursor=" + page.get("nextCursor").asText(), s.token()).json();
        assertThat(next.get("data").get(0).get("id").asText()).isNotEqualTo(page.get("data").get(0).get("id").asText());
    }

    @Test
    void saving_refuses_unknown_tools_bad_settings_and_templates_reading_later_steps() {
        var s = api.newUser("Check");
        String org = api.newOrg(s, "check");
        var r = api.post("/api/v1/organizations/" + org + "/workflows", s.token(), Map.of("name", "bad",
                "definition", Map.of("nodes", List.of(
                        tool("a", "teleport", Map.of()),
                        tool("b", "delay", Map.of("ms", 10, "retry", Map.of("maxAttempts", 0))),
                        tool("c", "transform", Map.of("value", "{{steps.d.x}}", "timeout", "forever")),
                        tool("d", "transform", Map.of("value", 1)),
                        Map.of("id", "e", "type", "tool")),
                        "edges", List.of(edge("c", "d")))));
        assertThat(r.status()).as(r.toString()).isEqualTo(422);
        assertThat(r.json().get("errors")).extracting(e -> e.get("field").asText()).contains(
                "definition.nodes[0].tool", "definition.nodes[1].config.retry.maxAttempts",
                "definition.nodes[2].config.timeout", "definition.nodes[2].config", "definition.nodes[4].tool");
    }

    @Test
    void content_tools_write_read_and_summarize_in_the_runs_organization_and_http_refuses_internal_addresses() {
        var s = api.newUser("Tools");
        String org = api.newOrg(s, "tools");
        String wf = f.workflow(s, org, List.of(
                tool("make", "create-content", Map.of("title", "{{input.title}}", "body", "{{input.body}}",
                        "tags", List.of("generated"))),
                tool("read", "extract", Map.of("documentId", "{{steps.make.id}}")),
                tool("short", "summarize", Map.of("text", "{{steps.read.text}}", "sentences", 1)),
                tool("find", "search", Map.of("query", "otters", "mode", "keyword"))),
                List.of(edge("make", "read"), edge("read", "short"), edge("make", "find")));
        String body = "Otters hold hands while they sleep. They also use stones as tools. Nobody minds.";
        JsonNode run = f.awaitFinal(s, org, f.start(s, org, wf, Map.of("title", "Otters", "body", body))
                .get("id").asText());
        assertThat(run.get("status").asText()).as(run.toString()).isEqualTo("succeeded");
        String doc = run.get("output").has("short") ? step(run, "make").get("output").get("id").asText() : null;
        JsonNode stored = api.get("/api/v1/organizations/" + org + "/content/" + doc, s.token()).json();
        assertThat(stored.get("title").asText()).isEqualTo("Otters");
        assertThat(stored.get("metadata").get("workflowRun").get("runId").asText()).isEqualTo(run.get("id").asText());
        assertThat(stored.get("metadata").get("workflowRun").get("nodeId").asText()).isEqualTo("make");
        assertThat(step(run, "read").get("output").get("text").asText()).contains("Otters hold hands");
        assertThat(run.get("output").get("short").get("summary").asText()).isNotBlank();
        assertThat(run.get("output").get("find").get("results").get(0).get("id").asText()).isEqualTo(doc);

        // The platform's own address is loopback: refused unless workflows.http.allow lists it.
        // A literal one is refused when saved; one that arrives through a template, when the step runs.
        var literal = api.post("/api/v1/organizations/" + org + "/workflows", s.token(), Map.of("name", "x", "definition",
                Map.of("nodes", List.of(tool("call", "http", Map.of("url", api.base() + "/health"))))));
        assertThat(literal.status()).isEqualTo(422);
        String probe = f.workflow(s, org, List.of(tool("call", "http", Map.of("url", "{{input.url}}"))), List.of());
        JsonNode refused = f.awaitFinal(s, org, f.start(s, org, probe, Map.of("url", api.base() + "/health"))
                .get("id").asText());
        assertThat(refused.get("status").asText()).isEqualTo("failed");
        assertThat(step(refused, "call").get("error").asText()).contains("refused").contains("loopback");
    }

    @Test
    void every_run_route_is_tenant_isolated_and_role_checked() {
        var owner = api.newUser("Owner");
        String org = api.newOrg(owner, "mine");
        var viewer = api.newUser("Viewer");
        api.addMember(owner, org, viewer, "viewer");
        var stranger = api.newUser("Stranger");
        String theirs = api.newOrg(stranger, "theirs");
        String wf = f.workflow(owner, org, List.of(tool("t", "transform", Map.of("value", 1))), List.of());
        String id = f.start(owner, org, wf, Map.of()).get("id").asText();
        f.awaitFinal(owner, org, id);

        String runs = "/api/v1/organizations/" + org + "/runs";
        // A viewer reads but neither starts nor cancels.
        assertThat(api.get(runs + "/" + id, viewer.token()).status()).isEqualTo(200);
        assertThat(api.post("/api/v1/organizations/" + org + "/workflows/" + wf + "/runs", viewer.token(), Map.of())
                .status()).isEqualTo(403);
        assertThat(api.post(runs + "/" + id + "/cancel", viewer.token(), null).status()).isEqualTo(403);
        // A stranger sees nothing, through the owner's organization or their own.
        for (String path : List.of(runs, runs + "/" + id, runs + "/" + id + "/events")) {
            assertThat(api.get(path, stranger.token()).status()).as(path).isEqualTo(404);
        }
        assertThat(api.post(runs + "/" + id + "/cancel", stranger.token(), null).status()).isEqualTo(404);
        assertThat(api.post("/api/v1/organizations/" + org + "/workflows/" + wf + "/runs", stranger.token(), Map.of())
                .status()).isEqualTo(404);
        String mine = "/api/v1/organizations/" + theirs + "/runs";
        assertThat(api.get(mine + "/" + id, stranger.token()).status()).isEqualTo(404);
        assertThat(api.get(mine + "/" + id + "/events", stranger.token()).status()).isEqualTo(404);
        assertThat(api.post(mine + "/" + id + "/cancel", stranger.token(), null).status()).isEqualTo(404);
        assertThat(api.post("/api/v1/organizations/" + theirs + "/workflows/" + wf + "/runs", stranger.token(),
                Map.of()).status()).isEqualTo(404);
        assertThat(api.get(mine, stranger.token()).json().get("data")).isEmpty();
        assertThat(api.get(runs + "/" + id, null).status()).isEqualTo(401);
    }

    @Test
    void bad_start_requests_are_problems_and_archived_workflows_do_not_run() {
        var s = api.newUser("Bad");
        String org = api.newOrg(s, "bad");
        String wf = f.workflow(s, org, List.of(tool("t", "transform", Map.of("value", 1))), List.of());
        String start = "/api/v1/organizations/" + org + "/workflows/" + wf + "/runs";
        assertThat(api.post(start, s.token(), Map.of("input", "text")).status()).isEqualTo(400);
        assertThat(api.post(start, s.token(), Map.of("inputs", Map.of())).status()).isEqualTo(400);
        assertThat(api.post("/api/v1/organizations/" + org + "/workflows/" + java.util.UUID.randomUUID() + "/runs",
                s.token(), Map.of()).status()).isEqualTo(404);
        assertThat(api.get("/api/v1/organizations/" + org + "/runs/not-a-uuid", s.token()).status()).isEqualTo(404);
        assertThat(api.patch("/api/v1/organizations/" + org + "/workflows/" + wf, s.token(), Map.of("status", "archived"))
                .status()).isEqualTo(200);
        var archived = api.post(start, s.token(), Map.of());
        assertThat(archived.status()).isEqualTo(409);
        assertThat(archived.header("Content-Type")).startsWith("application/problem+json");
    }
}
