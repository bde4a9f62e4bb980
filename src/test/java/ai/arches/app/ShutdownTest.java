package ai.arches.app;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import ai.arches.testing.Api;
import ai.arches.testing.Eventually;
import ai.arches.testing.ServerTest;
import ai.arches.testing.TestServer;

import org.junit.jupiter.api.Test;

/** A node told to stop drains: /ready says 503 at once, it serves on, and a request in flight finishes. */
class ShutdownTest extends ServerTest {

    @Test
    void stopping_turns_ready_503_at_once_serves_the_drain_and_finishes_requests_in_flight() throws Exception {
        var s = api.newUser("Stopper");
        String org = api.newOrg(s, "stopper");
        TestServer node = TestServer.startOn(server.database(),
                Map.of("server.drain_delay", "1500ms", "server.shutdown_grace", "10s"));
        Thread closer = null;
        try {
            Api nodeApi = node.api().withoutContractCheck();
            String base = "/api/v1/organizations/" + org;
            var wf = nodeApi.post(base + "/workflows", s.token(), Map.of("name", "slow", "definition", Map.of(
                    "nodes", List.of(Map.of("id", "nap", "type", "tool", "tool", "delay", "config", Map.of("ms", 2500))),
                    "edges", List.of())));
            assertThat(wf.status()).as(wf.toString()).isEqualTo(201);
            String run = nodeApi.post(base + "/workflows/" + wf.json().get("id").asText() + "/runs", s.token(),
                    Map.of("input", Map.of())).json().get("id").asText();
            // The run's event stream stays open until the run ends: a request in flight across the stop.
            var stream = CompletableFuture.supplyAsync(() -> nodeApi.get(base + "/runs/" + run + "/events", s.token()),
                    r -> Thread.ofVirtual().start(r));
            Eventually.until("the run running", 10_000,
                    () -> nodeApi.get(base + "/runs/" + run, s.token()).json().get("status").asText().equals("running"));

            assertThat(nodeApi.get("/ready", null).status()).isEqualTo(200);
            closer = Thread.ofVirtual().start(node::close);
            Eventually.status("/ready once stopping", 503, 10_000, () -> nodeApi.get("/ready", null).status());
            assertThat(nodeApi.get("/ready", null).json().get("status").asText()).isEqualTo("draining");
            // Still serving during the drain.
            assertThat(nodeApi.get("/health", null).status()).isEqualTo(200);

            var events = stream.get(20, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(events.status()).isEqualTo(200);
            assertThat(events.text()).containsPattern("\"status\": ?\"succeeded\", \"progress\": 1.0");
            assertThat(closer.join(Duration.ofSeconds(20))).as("the node stopped").isTrue();
        } finally {
            if (closer == null) {
                node.close();
            }
        }
    }
}
