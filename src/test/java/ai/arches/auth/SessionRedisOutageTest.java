package ai.arches.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import ai.arches.testing.Api;
import ai.arches.testing.Eventually;
import ai.arches.testing.OwnRedis;
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
    private OwnRedis redis;

    @BeforeEach
    void startRedis() throws Exception {
        redis = OwnRedis.start();
    }

    @AfterEach
    void stopRedis() {
        redis.close();
    }

    @Test
    void with_redis_dead_a_revoked_session_is_still_refused_on_every_node() throws Exception {
        Map<String, String> cfg = Map.of("redis.url", redis.url());
        try (TestServer a = TestServer.start(cfg); TestServer b = TestServer.startOn(a.database(), cfg)) {
            Api.Session s = a.api().newUser("Outage");
            Api.Session other = a.api().login(s.email(), "correct horse", s.userId());
            for (Api node : List.of(a.api(), b.api())) {
                assertThat(node.get("/api/v1/users/me", s.token()).status()).isEqualTo(200);
                assertThat(node.get("/api/v1/users/me", other.token()).status()).isEqualTo(200);
            }
            redis.kill();
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
