package ai.arches.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import ai.arches.testing.Api;
import ai.arches.testing.Eventually;
import ai.arches.testing.TestServer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Session checks fail closed: with Redis dead, a node that held the session in its in-process
 * cache still refuses it once it is revoked (it reads PostgreSQL instead). The test runs its own
 * redis-server so it can kill it without touching the Redis other tests use.
 */
class SessionRedisOutageTest {
    private Process redis;
    private int port;
    private Path dir;

    @BeforeEach
    void startRedis() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        dir = Files.createTempDirectory("arches-redis");
        redis = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", dir.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("redis.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!ping()) {
            assertThat(System.nanoTime()).as("redis-server did not start").isLessThan(deadline);
            LockSupport.parkNanos(20_000_000);
        }
    }

    private boolean ping() {
        try {
            Process p = new ProcessBuilder("redis-cli", "-p", Integer.toString(port), "PING").redirectErrorStream(true)
                    .start();
            p.waitFor(10, TimeUnit.SECONDS);
            return new String(p.getInputStream().readAllBytes()).contains("PONG");
        } catch (Exception e) {
            return false;
        }
    }

    @AfterEach
    void stopRedis() throws Exception {
        redis.destroyForcibly();
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void with_redis_dead_a_revoked_session_is_still_refused_on_every_node() throws Exception {
        Map<String, String> cfg = Map.of("redis.url", "redis://127.0.0.1:" + port);
        try (TestServer a = TestServer.start(cfg); TestServer b = TestServer.startOn(a.database(), cfg)) {
            Api.Session s = a.api().newUser("Outage");
            Api.Session other = a.api().login(s.email(), "correct horse", s.userId());
            for (Api node : List.of(a.api(), b.api())) {
                assertThat(node.get("/api/v1/users/me", s.token()).status()).isEqualTo(200);
                assertThat(node.get("/api/v1/users/me", other.token()).status()).isEqualTo(200);
            }
            redis.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            assertThat(a.api().post("/api/v1/auth/logout", s.token(), null).status()).isEqualTo(204);
            for (Api node : List.of(a.api(), b.api())) {
                long ms = Eventually.status("revoked session with redis dead", 401, 1_000,
                        () -> node.get("/api/v1/users/me", s.token()).status());
                System.out.println("redis dead: revoked session refused after " + ms + " ms");
                assertThat(node.get("/api/v1/users/me", other.token()).status()).isEqualTo(200);
            }
        }
    }
}
