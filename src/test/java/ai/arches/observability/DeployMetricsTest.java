package ai.arches.observability;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import ai.arches.testing.Api;
import ai.arches.testing.Metrics;
import ai.arches.testing.TestServer;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The alerts and the dashboard query what a real node exports: a server takes a little traffic
 * through every feature (sign-up and login, an organization, content, embedding, search, a
 * workflow run, a refused login), then every series selector in deploy/ must name a metric of
 * its /metrics, with labels that metric has and, for exact matchers, a value it shows (except
 * HTTP statuses: a 503 needs an exhausted pool).
 * Prometheus adds the labels job and instance and the series up when it scrapes; those are not
 * checked.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DeployMetricsTest {
    private static final Set<String> SCRAPE_LABELS = Set.of("job", "instance");
    private static final Set<String> SCRAPE_SERIES = Set.of("up");

    private TestServer server;
    private Map<String, Map<String, Set<String>>> exported;

    @BeforeAll
    void driveTrafficAndScrape() {
        server = TestServer.start(Map.of("embedding.workers", "1", "rate_limit.login_max_failures_per_account", "2"));
        Api api = server.api();
        Api.Session s = api.newUser("Dashboard");
        String org = api.newOrg(s, "dashboard");
        String orgPath = "/api/v1/organizations/" + org;
        api.get(orgPath, s.token());
        api.get(orgPath, s.token());

        String content = orgPath + "/content";
        var created = api.post(content, s.token(), Map.of("title", "PostgreSQL query planning",
                "body", "The planner chooses between sequential scans and index scans using table statistics."));
        assertThat(created.status()).as(created.toString()).isEqualTo(201);
        String doc = content + "/" + created.json().get("id").asText();
        awaitUntil(() -> api.get(doc, s.token()).json().get("embeddingStatus").asText().equals("ready"), "embedding");
        for (String mode : List.of("keyword", "semantic", "hybrid")) {
            var r = api.post(content + "/search", s.token(), Map.of("query", "how does the planner pick an index", "mode", mode));
            assertThat(r.status()).as(r.toString()).isEqualTo(200);
        }

        var wf = api.post(orgPath + "/workflows", s.token(), Map.of("name", "flow", "definition", Map.of(
                "nodes", List.of(Map.of("id", "echo", "type", "tool", "tool", "transform",
                        "config", Map.of("value", Map.of("n", "{{input.n}}")))),
                "edges", List.of())));
        assertThat(wf.status()).as(wf.toString()).isEqualTo(201);
        var run = api.post(orgPath + "/workflows/" + wf.json().get("id").asText() + "/runs", s.token(),
                Map.of("input", Map.of("n", 1)));
        assertThat(run.status()).as(run.toString()).isEqualTo(202);
        String runPath = orgPath + "/runs/" + run.json().get("id").asText();
        awaitUntil(() -> api.get(runPath, s.token()).json().get("status").asText().equals("succeeded"), "workflow run");

        // Failed logins past the per-account limit are refused with 429.
        int last = 0;
        for (int i = 0; i < 3; i++) {
            last = api.post("/api/v1/auth/login", null, Map.of("email", s.email(), "password", "wrong")).status();
        }
        assertThat(last).isEqualTo(429);

        // The JVM's pause timer exists from the first collection after the server's registry was
        // built; in a full suite none may have happened yet.
        awaitUntil(() -> {
            if (api.get("/metrics", null).text().contains("jvm_gc_pause_seconds_count")) {
                return true;
            }
            System.gc();
            return false;
        }, "a GC pause recorded");
        exported = PromQl.exposition(api.get("/metrics", null).text());
    }

    @AfterAll
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void every_series_the_alerts_and_recording_rules_read_is_exported() {
        Set<String> recorded = recorded();
        List<String> problems = new ArrayList<>();
        for (DeployFiles.Rule r : DeployFiles.rules()) {
            problems.addAll(check(r.name(), r.expr(), recorded));
        }
        assertThat(problems).isEmpty();
    }

    @Test
    void every_series_the_dashboard_reads_is_exported_or_recorded() {
        Set<String> recorded = recorded();
        List<String> problems = new ArrayList<>();
        List<DeployFiles.Query> queries = DeployFiles.dashboardQueries();
        assertThat(queries).hasSizeGreaterThan(20);
        for (DeployFiles.Query q : queries) {
            problems.addAll(check(q.where(), q.expr(), recorded));
        }
        assertThat(problems).isEmpty();
    }

    @Test
    void the_redis_breaker_gauge_reads_0_with_redis_up_and_1_while_redis_is_unreachable() throws IOException {
        assertThat(Metrics.unlabelled(server.api(), "redis_circuit_breaker_open")).isZero();
        int deadPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            deadPort = socket.getLocalPort();
        }
        try (TestServer dead = TestServer.startOn(server.database(), Map.of(
                "redis.url", "redis://127.0.0.1:" + deadPort, "redis.timeout", "200ms"))) {
            // /ready pings Redis; each failed ping counts against the breaker.
            awaitUntil(() -> {
                dead.api().get("/ready", null);
                return Metrics.unlabelled(dead.api(), "redis_circuit_breaker_open") == 1;
            }, "breaker open");
        }
    }

    /** What is wrong with one expression's selectors, as messages; empty when nothing is. */
    private List<String> check(String where, String expr, Set<String> recorded) {
        List<String> problems = new ArrayList<>();
        for (PromQl.Selector sel : PromQl.selectors(expr)) {
            if (sel.metric().contains(":")) {
                if (!recorded.contains(sel.metric())) {
                    problems.add(where + ": " + sel.metric() + " is recorded by no rule in " + DeployFiles.ALERTS);
                }
                continue;
            }
            if (SCRAPE_SERIES.contains(sel.metric())) {
                continue;
            }
            Map<String, Set<String>> labels = exported.get(sel.metric());
            if (labels == null) {
                problems.add(where + ": " + sel.metric() + " is not exported; similar: " + similar(sel.metric()));
                continue;
            }
            for (PromQl.Matcher m : sel.matchers()) {
                if (SCRAPE_LABELS.contains(m.label())) {
                    continue;
                }
                Set<String> values = labels.get(m.label());
                if (values == null) {
                    problems.add(where + ": " + sel.metric() + " has no label " + m.label() + " (it has " + labels.keySet() + ")");
                } else if (m.op().equals("=") && !m.value().contains("$") && !m.label().equals("status")
                        && !values.contains(m.value())) {
                    problems.add(where + ": " + sel.metric() + "{" + m.label() + "=\"" + m.value() + "\"} not exported; values: "
                            + values);
                }
            }
        }
        return problems;
    }

    private String similar(String metric) {
        String stem = metric.replaceAll("_(bucket|count|sum|max|total)$", "");
        String prefix = stem.substring(0, Math.min(stem.length(), Math.max(4, stem.indexOf('_') + 1)));
        return exported.keySet().stream().filter(n -> n.startsWith(prefix)).sorted().collect(Collectors.joining(", "));
    }

    private static Set<String> recorded() {
        return DeployFiles.rules().stream().filter(r -> !r.alert()).map(DeployFiles.Rule::name).collect(Collectors.toSet());
    }

    private static void awaitUntil(java.util.function.BooleanSupplier condition, String what) {
        ai.arches.testing.Eventually.until(what, 60_000, condition);
    }
}
