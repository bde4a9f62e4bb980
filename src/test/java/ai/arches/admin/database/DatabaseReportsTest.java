package ai.arches.admin.database;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.locks.LockSupport;

import ai.arches.testing.Api;
import ai.arches.testing.Eventually;
import ai.arches.testing.Prerequisites;
import ai.arches.testing.TestDatabases;
import ai.arches.testing.TestServer;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The admin listener's database reports against a real server and database after real API
 * traffic. pg_stat_statements is created in the test database as the superuser (the template
 * does not have it); whether the server preloads the library decides which of its two answers
 * /debug/queries must give, and make test requires the preloaded one.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DatabaseReportsTest {
    private TestServer server;
    private Api api;
    private Api admin;
    private boolean preloaded;

    @BeforeAll
    void start() throws SQLException {
        server = TestServer.start(Map.of("admin.port", Integer.toString(freePort())));
        api = server.api();
        admin = new Api("http://127.0.0.1:" + server.arches().adminPort()).withoutContractCheck();
        try (Connection c = TestDatabases.superuser(server.database()); Statement s = c.createStatement()) {
            s.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
            try (var rs = s.executeQuery("SHOW shared_preload_libraries")) {
                rs.next();
                preloaded = rs.getString(1).contains("pg_stat_statements");
            }
        }
        traffic();
    }

    /**
     * Whether the server preloads pg_stat_statements. Without it /debug/queries can only answer 503,
     * which the tests accept, unless ARCHES_TEST_REQUIRE_PG_STAT_STATEMENTS=1 (make test, whose
     * setup preloads it) demands the real report.
     */
    private boolean preloaded() {
        if (!preloaded && Prerequisites.required("PG_STAT_STATEMENTS")) {
            throw new AssertionError("pg_stat_statements is not in shared_preload_libraries but"
                    + " ARCHES_TEST_REQUIRE_PG_STAT_STATEMENTS=1 (make setup preloads it)");
        }
        return preloaded;
    }

    @AfterAll
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    /** Registration, login, an organization, content written, read, listed and searched. */
    private void traffic() {
        for (int i = 0; i < 3; i++) {
            Api.Session s = api.newUser("Reporter");
            String base = "/api/v1/organizations/" + api.newOrg(s, "reports") + "/content";
            for (int j = 0; j < 3; j++) {
                var made = api.post(base, s.token(), Map.of("title", "doc " + j, "body", "words about postgres " + j,
                        "tags", List.of("db")));
                assertThat(made.status()).isEqualTo(201);
                assertThat(api.get(base + "/" + made.json().get("id").asText(), s.token()).status()).isEqualTo(200);
            }
            assertThat(api.get(base + "?tag=db", s.token()).status()).isEqualTo(200);
            assertThat(api.get("/api/v1/organizations", s.token()).status()).isEqualTo(200);
        }
    }

    @Test
    void queries_name_the_platforms_statements_with_calls_and_plans() {
        if (!preloaded()) {
            var r = admin.get("/debug/queries?plans=all&limit=10", null);
            assertThat(r.status()).as(r.toString()).isEqualTo(503);
            assertThat(r.json().get("detail").asText()).contains("not loaded").contains("make setup");
            return;
        }
        // In a full suite every test database adds its own entries, and pg_stat_statements (5,000
        // of them) evicts the least-called: traffic made just before asking, again if it was evicted.
        JsonNode[] answer = new JsonNode[1];
        int[] documents = new int[1];
        Eventually.until("users.by_email and content.insert in pg_stat_statements", 60_000, () -> {
            traffic();
            documents[0] = count("SELECT count(*) FROM content");
            var r = admin.get("/debug/queries?plans=all&limit=10", null);
            assertThat(r.status()).as(r.toString()).isEqualTo(200);
            answer[0] = r.json();
            List<String> counted = new ArrayList<>();
            answer[0].get("named").forEach(n -> {
                if (n.get("inStatistics").asBoolean()) {
                    counted.add(n.get("name").asText());
                }
            });
            return counted.containsAll(List.of("users.by_email", "content.insert"));
        });
        JsonNode body = answer[0];
        assertThat(body.get("database").asText()).isEqualTo(server.database());
        assertThat(body.get("slowest").size()).isBetween(1, 10);
        assertThat(body.get("mostTime").size()).isBetween(1, 10);
        assertThat(body.get("mostTime")).anySatisfy(e -> assertThat(e.get("name").isTextual()).isTrue());
        for (JsonNode e : body.get("slowest")) {
            assertThat(e.get("calls").asLong()).isPositive();
            assertThat(e.get("meanMs").asDouble()).isGreaterThanOrEqualTo(0);
            assertThat(e.get("query").asText()).isNotBlank();
        }

        Map<String, JsonNode> named = new HashMap<>();
        body.get("named").forEach(n -> named.put(n.get("name").asText(), n));
        assertThat(named).containsKeys("users.insert", "users.by_email", "content.insert");
        List<JsonNode> counted = new ArrayList<>();
        named.values().forEach(n -> {
            if (n.get("inStatistics").asBoolean()) {
                counted.add(n);
            }
        });
        assertThat(counted).hasSizeGreaterThan(5).allSatisfy(n -> {
            assertThat(n.get("calls").asLong()).isPositive();
            assertThat(n.get("queryIds")).isNotEmpty();
            assertThat(n.get("plan").get("kind").asText()).isIn("analyze", "estimate", "none");
        });

        // A read: run for real with a request's arguments, so the plan has actual timings.
        JsonNode login = named.get("users.by_email");
        assertThat(login.get("inStatistics").asBoolean()).isTrue();
        assertThat(login.get("calls").asLong()).isGreaterThanOrEqualTo(3);
        assertThat(login.get("plan").get("kind").asText()).isEqualTo("analyze");
        assertThat(login.get("plan").get("writes").asBoolean()).isFalse();
        assertThat(login.get("plan").get("plan").has("Execution Time")).isTrue();
        assertThat(login.get("plan").get("plan").get("Plan").get("Actual Rows").asLong()).isEqualTo(1);
        // A write: executed and rolled back, or (its key now taken) the planner's estimate.
        JsonNode insert = named.get("content.insert");
        assertThat(insert.get("calls").asLong()).isGreaterThanOrEqualTo(9);
        assertThat(insert.get("plan").get("writes").asBoolean()).isTrue();
        assertThat(insert.get("plan").get("kind").asText()).isIn("analyze", "estimate");
        assertThat(insert.get("plan").get("plan").has("Plan")).isTrue();
        // Nothing the plans executed stayed: still the documents the traffic made.
        assertThat(count("SELECT count(*) FROM content")).isEqualTo(documents[0]);
    }

    @Test
    void queries_plans_only_the_top_statements_by_default_and_none_when_asked() throws SQLException {
        if (!preloaded()) {
            assertThat(admin.get("/debug/queries", null).status()).isEqualTo(503);
            return;
        }
        JsonNode none = admin.get("/debug/queries?plans=none", null).json();
        assertThat(none.get("plans").asText()).isEqualTo("none");
        assertThat(none.get("named")).allSatisfy(n -> assertThat(n.get("plan").isNull()).isTrue());
        // DDL (the start-up's CREATE INDEX, the test's CREATE EXTENSION) shows only when asked for.
        assertThat(none.get("utility").asBoolean()).isFalse();
        assertThat(none.get("mostTime")).noneSatisfy(e -> assertThat(e.get("query").asText()).startsWithIgnoringCase("CREATE"));
        // A DDL statement of this test's own, just now: the start-up's ran minutes earlier in a full
        // suite, and pg_stat_statements (5,000 entries) evicts the least-called first.
        String probe = "t_utility_probe_" + UUID.randomUUID().toString().substring(0, 8);
        try (Connection c = TestDatabases.superuser(server.database()); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE " + probe + " (x int)");
            st.execute("DROP TABLE " + probe);
        }
        JsonNode utility = admin.get("/debug/queries?plans=none&utility=true&limit=500", null).json();
        assertThat(utility.get("mostTime")).anySatisfy(e -> assertThat(e.get("query").asText()).startsWithIgnoringCase("CREATE"));
        JsonNode top = admin.get("/debug/queries?limit=3", null).json();
        assertThat(top.get("slowest").size()).isLessThanOrEqualTo(3);
        Set<String> inTop = new HashSet<>();
        top.get("slowest").forEach(e -> inTop.add(e.get("name").asText(null)));
        top.get("mostTime").forEach(e -> inTop.add(e.get("name").asText(null)));
        assertThat(top.get("named")).allSatisfy(n ->
                assertThat(n.get("plan").isNull()).isEqualTo(!inTop.contains(n.get("name").asText())));
    }

    @Test
    void bad_parameters_are_400_problems_naming_the_parameter() {
        for (String path : List.of("/debug/queries?limit=0", "/debug/queries?limit=501", "/debug/queries?limit=x",
                "/debug/queries?plans=some", "/debug/queries?utility=yes", "/debug/database/advice?nodes=0", "/debug/database/advice?nodes=1001",
                "/debug/database/advice?nodes=two", "/debug/database/health?longTransactionSeconds=0")) {
            var r = admin.get(path, null);
            assertThat(r.status()).as(path).isEqualTo(400);
            assertThat(r.header("Content-Type")).startsWith("application/problem+json");
            String param = path.substring(path.indexOf('?') + 1, path.indexOf('='));
            assertThat(r.json().get("errors").get(0).get("field").asText()).isEqualTo(param);
        }
    }

    @Test
    void health_reports_tables_indexes_cache_and_connections() throws SQLException {
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        String dupA = "t_dup_a_" + suffix;
        String dupB = "t_dup_b_" + suffix;
        String unused = "t_unused_" + suffix;
        execute("CREATE INDEX " + dupA + " ON organizations (lower(name)) WHERE created_at IS NOT NULL",
                "CREATE INDEX " + dupB + " ON organizations (lower(name)) WHERE created_at IS NOT NULL",
                "CREATE INDEX " + unused + " ON users (created_at, name)");
        try {
            // Block counters reach the statistics views when a backend flushes them (within ~10 s of idling).
            JsonNode health = null;
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (System.nanoTime() < deadline) {
                var r = admin.get("/debug/database/health", null);
                assertThat(r.status()).as(r.toString()).isEqualTo(200);
                health = r.json();
                if (health.get("cacheHitRatio").get("heap").isNumber()) {
                    break;
                }
                LockSupport.parkNanos(250_000_000L);
            }
            assertThat(health.get("database").asText()).isEqualTo(server.database());
            List<String> tables = new ArrayList<>();
            health.get("tables").forEach(t -> tables.add(t.get("table").asText()));
            assertThat(tables).contains("users", "organizations", "organization_members", "content", "sessions",
                    "workflows", "workflow_runs");
            assertThat(health.get("tables")).allSatisfy(t -> {
                assertThat(t.get("liveTuples").asLong()).isNotNegative();
                assertThat(t.get("xidAge").asLong()).isNotNegative();
            });
            assertThat(health.get("bloat")).isNotEmpty();

            JsonNode cache = health.get("cacheHitRatio");
            assertThat(cache.get("heap").asDouble()).isBetween(0.0, 1.0);
            assertThat(cache.get("database").asDouble()).isBetween(0.0, 1.0);

            JsonNode conn = health.get("connections");
            assertThat(conn.get("maxConnections").asInt()).isEqualTo(count("SHOW max_connections"));
            assertThat(conn.get("total").asInt()).isPositive();
            assertThat(conn.get("thisDatabase").asInt()).isPositive();
            assertThat(conn.get("byState").size()).isPositive();
            JsonNode node = conn.get("node");
            assertThat(node.get("requestsPool").asInt()).isEqualTo(8);
            assertThat(node.get("listener").asInt()).isEqualTo(1);
            assertThat(node.get("total").asInt()).isEqualTo(8 + node.get("workflowsPool").asInt() + 1);

            assertThat(health.get("duplicateIndexes")).anySatisfy(d -> {
                assertThat(d.get("table").asText()).isEqualTo("organizations");
                assertThat(d.get("keep").asText()).isEqualTo(dupA);
                assertThat(d.get("redundant")).extracting(JsonNode::asText).containsExactly(dupB);
            });
            List<String> unusedNames = new ArrayList<>();
            health.get("unusedIndexes").forEach(i -> unusedNames.add(i.get("index").asText()));
            assertThat(unusedNames).contains(unused, dupA, dupB)
                    .doesNotContain("idx_users_email", "users_pkey"); // unique and primary never count as unused
            assertThat(health.get("replication").get("standby").asBoolean()).isFalse();
            // A streaming replica (make cluster, ReplicaTest) may be attached to this primary or not.
            assertThat(health.get("replication").get("replicas").isArray()).isTrue();
        } finally {
            execute("DROP INDEX " + dupA, "DROP INDEX " + dupB, "DROP INDEX " + unused);
        }
    }

    @Test
    void health_reports_a_transaction_left_open() throws SQLException {
        try (Connection c = TestDatabases.superuser(server.database()); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            int pid;
            try (var rs = s.executeQuery("SELECT pg_backend_pid(), txid_current()")) {
                rs.next();
                pid = rs.getInt(1);
            }
            LockSupport.parkNanos(1_300_000_000L);
            JsonNode open = admin.get("/debug/database/health?longTransactionSeconds=1", null).json();
            assertThat(open.get("longTransactions")).anySatisfy(t -> {
                assertThat(t.get("pid").asInt()).isEqualTo(pid);
                assertThat(t.get("seconds").asDouble()).isGreaterThanOrEqualTo(1.0);
                assertThat(t.get("state").asText()).isEqualTo("idle in transaction");
            });
            JsonNode quiet = admin.get("/debug/database/health", null).json();
            assertThat(quiet.get("longTransactions")).noneSatisfy(t -> assertThat(t.get("pid").asInt()).isEqualTo(pid));
            c.rollback();
        }
    }

    @Test
    void advice_gives_every_setting_with_its_reason_and_live_value() {
        var r = admin.get("/debug/database/advice?nodes=3", null);
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        JsonNode advice = r.json();
        JsonNode d = advice.get("deployment");
        assertThat(d.get("nodes").asInt()).isEqualTo(3);
        assertThat(d.get("perNode").asInt()).isEqualTo(8 + d.get("workflowsPool").asInt() + 1);
        assertThat(d.get("connections").asInt()).isEqualTo(3 * d.get("perNode").asInt() + d.get("headroom").asInt());
        assertThat(advice.get("host").get("cores").asInt()).isPositive();
        assertThat(advice.get("host").get("disk").asText()).isIn("ssd", "hdd");
        assertThat(advice.get("host").get("diskSource").asText()).isNotBlank();

        List<String> names = new ArrayList<>();
        advice.get("settings").forEach(s -> {
            names.add(s.get("name").asText());
            assertThat(s.get("reason").asText()).as(s.toString()).hasSizeGreaterThan(20);
            assertThat(s.get("advisedDisplay").asText()).isNotBlank();
            assertThat(s.get("current").isNull()).as(s.toString()).isFalse();
            assertThat(s.get("currentDisplay").asText()).isNotBlank();
            assertThat(s.get("matches").isBoolean()).isTrue();
            assertThat(s.get("applies").asText()).isIn("restart", "reload");
        });
        assertThat(names).contains("max_connections", "shared_buffers", "effective_cache_size", "maintenance_work_mem",
                "work_mem", "huge_pages", "wal_buffers", "min_wal_size", "max_wal_size", "checkpoint_completion_target",
                "random_page_cost", "effective_io_concurrency", "default_statistics_target",
                "max_parallel_workers_per_gather", "autovacuum", "track_counts");
        // Beside the live value, as SHOW gives it; ALTER SYSTEM offered when it is off (as on a CI machine).
        for (String name : List.of("autovacuum", "track_counts")) {
            JsonNode s = setting(advice, name);
            String live = show(name);
            assertThat(s.get("advised").asText()).isEqualTo("on");
            assertThat(s.get("current").asText()).isEqualTo(live);
            assertThat(s.get("applies").asText()).isEqualTo("reload");
            assertThat(s.get("matches").asBoolean()).as(name).isEqualTo(live.equals("on"));
            assertThat(advice.get("alterSystem").toString().contains("ALTER SYSTEM SET " + name + " = 'on';"))
                    .as(name).isEqualTo(!live.equals("on"));
        }
        JsonNode maxConnections = setting(advice, "max_connections");
        assertThat(maxConnections.get("advised").asInt()).isEqualTo(d.get("connections").asInt());
        assertThat(maxConnections.get("current").asInt()).isEqualTo(count("SHOW max_connections"));
        // Sizes are compared in bytes, whatever unit pg_settings keeps them in (8kB pages for shared_buffers).
        JsonNode sharedBuffers = setting(advice, "shared_buffers");
        assertThat(sharedBuffers.get("current").asLong() % 8192).isZero();
        int mismatches = 0;
        for (JsonNode s : advice.get("settings")) {
            mismatches += s.get("matches").asBoolean() ? 0 : 1;
        }
        assertThat(advice.get("alterSystem").size()).isEqualTo(mismatches);
    }

    @Test
    void queries_without_the_extension_say_how_to_turn_it_on() {
        try (TestServer bare = TestServer.start(Map.of("admin.port", Integer.toString(freePort())))) {
            Api bareAdmin = new Api("http://127.0.0.1:" + bare.arches().adminPort()).withoutContractCheck();
            var r = bareAdmin.get("/debug/queries", null);
            assertThat(r.status()).isEqualTo(503);
            assertThat(r.header("Content-Type")).startsWith("application/problem+json");
            assertThat(r.json().get("detail").asText()).contains("pg_stat_statements is not installed")
                    .contains(bare.database()).contains("make setup").contains("shared_preload_libraries");
            // The other reports do not need it.
            assertThat(bareAdmin.get("/debug/database/health", null).status()).isEqualTo(200);
        }
    }

    private static JsonNode setting(JsonNode advice, String name) {
        for (JsonNode s : advice.get("settings")) {
            if (s.get("name").asText().equals(name)) {
                return s;
            }
        }
        throw new AssertionError("no setting " + name);
    }

    private void execute(String... statements) throws SQLException {
        try (Connection c = TestDatabases.superuser(server.database()); Statement s = c.createStatement()) {
            for (String sql : statements) {
                s.execute(sql);
            }
        }
    }

    private int count(String sql) {
        return Integer.parseInt(one(sql));
    }

    private String show(String setting) {
        return one("SHOW " + setting);
    }

    /** The first column of the first row, as text. */
    private String one(String sql) {
        try (Connection c = TestDatabases.superuser(server.database()); Statement s = c.createStatement();
             var rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
