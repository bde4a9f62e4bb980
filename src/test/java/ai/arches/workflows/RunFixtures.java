package ai.arches.workflows;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;

import ai.arches.http.Json;
import ai.arches.testing.Api;

import com.fasterxml.jackson.databind.JsonNode;

/** Builds workflows, starts runs and waits for them, for the run tests. */
final class RunFixtures {
    private static final HttpClient SSE = HttpClient.newHttpClient();

    private final Api api;

    RunFixtures(Api api) {
        this.api = api;
    }

    /** One server-sent event. */
    record Event(long id, String type, JsonNode data) {}

    static Map<String, Object> tool(String id, String tool, Map<String, Object> config) {
        return Map.of("id", id, "type", "tool", "tool", tool, "config", config);
    }

    static Map<String, Object> edge(String from, String to) {
        return Map.of("from", from, "to", to);
    }

    /** Creates a workflow in the organization; returns its id. */
    String workflow(Api.Session s, String org, List<Map<String, Object>> nodes, List<Map<String, Object>> edges) {
        var r = api.post("/api/v1/organizations/" + org + "/workflows", s.token(),
                Map.of("name", "flow", "definition", Map.of("nodes", nodes, "edges", edges)));
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        return r.json().get("id").asText();
    }

    /** Starts a run (202); returns it. */
    JsonNode start(Api.Session s, String org, String workflow, Map<String, Object> input) {
        var r = api.post("/api/v1/organizations/" + org + "/workflows/" + workflow + "/runs", s.token(), Map.of("input", input));
        assertThat(r.status()).as(r.toString()).isEqualTo(202);
        assertThat(r.header("Location")).endsWith("/runs/" + r.json().get("id").asText());
        return r.json();
    }

    JsonNode get(Api.Session s, String org, String run) {
        var r = api.get("/api/v1/organizations/" + org + "/runs/" + run, s.token());
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        return r.json();
    }

    /** Polls the run until {@code until} holds; fails after the deadline. */
    JsonNode await(Api.Session s, String org, String run, Predicate<JsonNode> until, long deadlineMs) {
        long end = System.nanoTime() + deadlineMs * 1_000_000;
        JsonNode last;
        while (true) {
            last = get(s, org, run);
            if (until.test(last)) {
                return last;
            }
            assertThat(System.nanoTime()).as("run %s still %s", run, last).isLessThan(end);
            LockSupport.parkNanos(10_000_000);
        }
    }

    JsonNode awaitFinal(Api.Session s, String org, String run) {
        return await(s, org, run, r -> List.of("succeeded", "failed", "cancelled").contains(r.get("status").asText()), 20_000);
    }

    static JsonNode step(JsonNode run, String node) {
        for (JsonNode s : run.get("steps")) {
            if (s.get("nodeId").asText().equals(node)) {
                return s;
            }
        }
        throw new AssertionError("no step " + node + " in " + run);
    }

    static Instant at(JsonNode n) {
        return Instant.parse(n.asText());
    }

    /** Reads a run's event stream to its end (the server closes it after the final event). */
    List<Event> events(Api.Session s, String org, String run, Long lastEventId) throws Exception {
        var b = HttpRequest.newBuilder(URI.create(api.base() + "/api/v1/organizations/" + org + "/runs/" + run + "/events"))
                .header("Authorization", "Bearer " + s.token()).timeout(Duration.ofSeconds(30));
        if (lastEventId != null) {
            b.header("Last-Event-ID", lastEventId.toString());
        }
        HttpResponse<java.io.InputStream> r = SSE.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
        List<Event> out = new ArrayList<>();
        try (var in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            Map<String, String> fields = new LinkedHashMap<>();
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (line.isEmpty()) {
                    if (fields.containsKey("data")) {
                        out.add(new Event(Long.parseLong(fields.get("id")), fields.get("event"),
                                Json.MAPPER.readTree(fields.get("data"))));
                    }
                    fields.clear();
                } else if (!line.startsWith(":")) {
                    int i = line.indexOf(':');
                    fields.put(line.substring(0, i), line.substring(i + 1).stripLeading());
                }
            }
        }
        return out;
    }
}
