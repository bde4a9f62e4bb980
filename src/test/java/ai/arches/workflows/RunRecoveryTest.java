package ai.arches.workflows;

import static ai.arches.workflows.RunFixtures.step;
import static ai.arches.workflows.RunFixtures.tool;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import ai.arches.testing.TestServer;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/**
 * Runs outlive nodes. This class's own server runs no steps (workers 0); the tests start worker
 * nodes on its database beside it.
 */
class RunRecoveryTest extends RunTest {
    /** Worker nodes poll only every 10 minutes: anything they do sooner, NOTIFY woke them for. */
    private static final Map<String, String> WORKER = Map.of("workflows.workers", "4", "workflows.lease", "1s",
            "workflows.poll_interval", "10m");
    @Override
    protected Map<String, String> overrides() {
        return Map.of("workflows.workers", "0", "workflows.max_queued_per_org", "3");
    }

    @Test
    void a_step_whose_node_is_killed_is_run_again_by_another_node() {
        var s = api.newUser("Survivor");
        String org = api.newOrg(s, "survive");
        String wf = f.workflow(s, org, List.of(tool("nap", "delay", Map.of("ms", 1500)),
                tool("after", "transform", Map.of("value", "{{steps.nap.k}}"))), List.of(RunFixtures.edge("nap", "after")));
        try (TestServer first = TestServer.startOn(server.database(), WORKER)) {
            String id = f.start(s, org, wf, Map.of("k", "v")).get("id").asText();
            JsonNode running = f.await(s, org, id, r -> step(r, "nap").get("status").asText().equals("running"), 10_000);
            // Started here, run there: the worker node heard of it at once, long before its next poll.
            assertThat(java.time.Duration.between(RunFixtures.at(running.get("createdAt")),
                    RunFixtures.at(running.get("startedAt")))).isLessThan(java.time.Duration.ofSeconds(5));
            first.arches().executor().halt(); // as if killed: no more writes, its lease is left to expire
            try (TestServer second = TestServer.startOn(server.database(), WORKER)) {
                JsonNode run = f.awaitFinal(s, org, id);
                assertThat(run.get("status").asText()).isEqualTo("succeeded");
                assertThat(run.get("output").get("after").asText()).isEqualTo("v");
                // The attempt lost with its node does not count against the step's retries.
                assertThat(step(run, "nap").get("attempts").asInt()).isEqualTo(1);
            }
        }
    }

    @Test
    void an_organization_with_a_full_queue_gets_429_and_others_do_not() {
        var s = api.newUser("Queue");
        String org = api.newOrg(s, "queue");
        String wf = f.workflow(s, org, List.of(tool("t", "transform", Map.of("value", 1))), List.of());
        for (int i = 0; i < 3; i++) {
            f.start(s, org, wf, Map.of());
        }
        var full = api.post("/api/v1/organizations/" + org + "/workflows/" + wf + "/runs", s.token(), Map.of());
        assertThat(full.status()).isEqualTo(429);
        assertThat(full.header("Retry-After")).isNotNull();
        var other = api.newUser("Other");
        String otherOrg = api.newOrg(other, "other");
        String otherWf = f.workflow(other, otherOrg, List.of(tool("t", "transform", Map.of("value", 1))), List.of());
        f.start(other, otherOrg, otherWf, Map.of());
    }
}
