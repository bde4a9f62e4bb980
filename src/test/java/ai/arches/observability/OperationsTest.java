package ai.arches.observability;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import ai.arches.testing.ServerTest;
import ai.arches.testing.TestServer;

import org.junit.jupiter.api.Test;

class OperationsTest extends ServerTest {

    @Test
    void health_is_200_without_credentials() {
        var r = api.get("/health", null);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("status").asText()).isEqualTo("ok");
    }

    @Test
    void ready_reports_postgres_and_redis() {
        var r = api.get("/ready", null);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("checks").get("postgres").asText()).isEqualTo("up");
        assertThat(r.json().get("checks").get("redis").asText()).isEqualTo("up");
    }

    @Test
    void ready_reports_redis_degraded_not_the_node_dead_when_redis_is_unreachable() throws IOException {
        int deadPort;
        try (ServerSocket s = new ServerSocket(0)) {
            deadPort = s.getLocalPort();
        }
        try (TestServer dead = TestServer.start(Map.of("redis.url", "redis://127.0.0.1:" + deadPort,
                "redis.timeout", "200ms"))) {
            var r = dead.api().get("/ready", null);
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.json().get("status").asText()).isEqualTo("degraded");
            assertThat(r.json().get("checks").get("redis").asText()).isEqualTo("degraded");
            assertThat(r.json().get("checks").get("postgres").asText()).isEqualTo("up");
            assertThat(dead.api().get("/health", null).status()).isEqualTo(200);
        }
    }

    @Test
    void metrics_use_route_templates_and_cover_http_db_pool_and_jvm() {
        var s = api.newUser("Metric");
        String org = api.newOrg(s, "metrics");
        api.get("/api/v1/organizations/" + org, s.token());
        var r = api.get("/metrics", null);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("Content-Type")).startsWith("text/plain");
        String m = r.text();
        assertThat(m).contains("http_request_duration_seconds_bucket{")
                .contains("endpoint=\"/api/v1/organizations/{org}\"")
                .doesNotContain("endpoint=\"/api/v1/organizations/" + org)
                .contains("db_query_duration_seconds_bucket{")
                .contains("query_type=\"orgs.insert\"")
                .contains("cache_gets_total{")
                .contains("hikaricp_connections_active")
                .contains("jvm_memory_used_bytes");
    }

    @Test
    void with_the_access_log_on_drops_are_exported_and_the_writer_stops_with_the_server() {
        assertThat(api.get("/metrics", null).text()).doesNotContain("access_log_dropped_total");
        assertThat(accessLogWriters()).isZero();
        try (TestServer logged = TestServer.startOn(server.database(), Map.of("log.access", "true"))) {
            assertThat(accessLogWriters()).isEqualTo(1);
            logged.api().get("/health", null);
            assertThat(logged.api().get("/metrics", null).text()).contains("access_log_dropped_total 0.0");
        }
        assertThat(accessLogWriters()).as("writer thread left running after close").isZero();
    }

    private static long accessLogWriters() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("arches-access-log") && t.isAlive()).count();
    }

    @Test
    void metrics_pass_promtool_when_it_is_installed() throws Exception {
        Path promtool = DeployFiles.promtool();
        api.get("/health", null);
        Path file = Files.createTempFile("metrics", ".txt");
        Files.writeString(file, api.get("/metrics", null).text());
        Process p = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectInput(file.toFile())
                .redirectErrorStream(true).start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.exitValue()).as(out).isZero();
        Files.delete(file);
    }

    @Test
    void connections_are_returned_to_the_pool_after_requests() throws InterruptedException {
        var s = api.newUser("Leak");
        String org = api.newOrg(s, "leak");
        for (int i = 0; i < 20; i++) {
            api.get("/api/v1/organizations/" + org + "/content", s.token());
            api.get("/api/v1/organizations/" + org + "/content/not-an-id", s.token());
            api.post("/api/v1/organizations/" + org + "/content", s.token(), "{broken");
        }
        Instant deadline = Instant.now().plus(Duration.ofSeconds(5));
        while (server.arches().database().activeConnections() > 0 && Instant.now().isBefore(deadline)) {
            java.util.concurrent.locks.LockSupport.parkNanos(10_000_000);
        }
        assertThat(server.arches().database().activeConnections()).isZero();
    }
}
