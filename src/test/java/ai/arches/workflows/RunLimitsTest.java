package ai.arches.workflows;

import static ai.arches.workflows.RunFixtures.at;
import static ai.arches.workflows.RunFixtures.step;
import static ai.arches.workflows.RunFixtures.tool;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;


import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/** One organization's runs never hold more than its share of the workers, and never starve another's. */
class RunLimitsTest extends RunTest {
    @Override
    protected Map<String, String> overrides() {
        return Map.of("workflows.workers", "8", "workflows.max_running_per_org", "2");
    }

    @Test
    void an_organization_runs_at_most_its_limit_at_once_while_another_gets_through() {
        var a = api.newUser("Busy");
        String orgA = api.newOrg(a, "busy");
        var b = api.newUser("Quiet");
        String orgB = api.newOrg(b, "quiet");
        String wfA = f.workflow(a, orgA, List.of(tool("nap", "delay", Map.of("ms", 400))), List.of());
        String wfB = f.workflow(b, orgB, List.of(tool("nap", "delay", Map.of("ms", 400))), List.of());
        List<String> runsA = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            runsA.add(f.start(a, orgA, wfA, Map.of()).get("id").asText());
        }
        String runB = f.start(b, orgB, wfB, Map.of()).get("id").asText();

        List<Instant[]> spans = naps(a, orgA, runsA);
        JsonNode quiet = f.awaitFinal(b, orgB, runB);
        assertThat(quiet.get("status").asText()).isEqualTo("succeeded");

        assertAtMostTwoAtOnce(spans);
        // B did not wait for A's queue: it started before A's last step did.
        Instant lastA = spans.stream().map(s -> s[0]).max(Instant::compareTo).orElseThrow();
        assertThat(at(quiet.get("startedAt"))).isBefore(lastA);
    }

    @Test
    void starts_that_claim_their_own_first_steps_keep_the_limit_when_they_race() throws Exception {
        var a = api.newUser("Racer");
        String org = api.newOrg(a, "racers");
        String wf = f.workflow(a, org, List.of(tool("nap", "delay", Map.of("ms", 300))), List.of());
        // Twelve starts at once, with eight workers free: each may try to claim its step in its own
        // insert; the organization's lock and count must still hold the limit of two.
        List<String> ids = new java.util.concurrent.CopyOnWriteArrayList<>();
        var gate = new java.util.concurrent.CountDownLatch(1);
        try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 12; i++) {
                pool.submit(() -> {
                    gate.await();
                    ids.add(f.start(a, org, wf, Map.of()).get("id").asText());
                    return null;
                });
            }
            gate.countDown();
        }
        assertThat(ids).hasSize(12);
        assertAtMostTwoAtOnce(naps(a, org, ids));
    }

    /** Each run's "nap" step as [started, finished], once the run succeeded. */
    private List<Instant[]> naps(ai.arches.testing.Api.Session user, String org, List<String> runs) {
        List<Instant[]> spans = new ArrayList<>();
        for (String id : runs) {
            JsonNode run = f.awaitFinal(user, org, id);
            assertThat(run.get("status").asText()).isEqualTo("succeeded");
            JsonNode s = step(run, "nap");
            spans.add(new Instant[] {at(s.get("startedAt")), at(s.get("finishedAt"))});
        }
        return spans;
    }

    /** At no step's start were more than two steps running, itself included. */
    private static void assertAtMostTwoAtOnce(List<Instant[]> spans) {
        for (Instant[] s : spans) {
            long overlapping = spans.stream().filter(o -> !o[0].isAfter(s[0]) && o[1].isAfter(s[0])).count();
            assertThat(overlapping).isLessThanOrEqualTo(2);
        }
    }
}
