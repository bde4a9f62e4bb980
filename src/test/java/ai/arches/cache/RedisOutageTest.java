package ai.arches.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import ai.arches.testing.Api;
import ai.arches.testing.OwnRedis;
import ai.arches.testing.TestServer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Redis faults degrade service, never data. The test runs its own redis-server on a free port so
 * it can stall it (CLIENT PAUSE: Redis keeps its data but answers nothing, the nastiest failure)
 * and kill it without touching the Redis other tests use.
 */
class RedisOutageTest {
    private OwnRedis redis;

    @BeforeEach
    void startRedis() throws Exception {
        redis = OwnRedis.start();
    }

    @AfterEach
    void stopRedis() {
        redis.close();
    }

    private static String readiness(Api api) {
        return api.get("/ready", null).json().get("checks").get("redis").asText();
    }

    /** A request with Redis in trouble still answers from PostgreSQL within its budget. */
    private static Api.Response timed(java.util.function.Supplier<Api.Response> call) {
        long t = System.nanoTime();
        Api.Response r = call.get();
        assertThat(Duration.ofNanos(System.nanoTime() - t)).as("latency of %s", r).isLessThan(Duration.ofSeconds(2));
        return r;
    }

    @Test
    void a_stalled_redis_degrades_service_and_nothing_stale_survives_it() {
        try (TestServer node = TestServer.start(Map.of("redis.url", redis.url()))) {
            Api api = node.api();
            Api.Session s = api.newUser("Outage");
            String org = api.newOrg(s, "outage");
            String path = "/api/v1/organizations/" + org + "/content/" + api.post("/api/v1/organizations/" + org
                    + "/content", s.token(), Map.of("title", "before", "body", "")).json().get("id").asText();
            assertThat(api.get(path, s.token()).json().get("title").asText()).isEqualTo("before");
            assertThat(redis.cli("DBSIZE").trim()).isNotEqualTo("0");

            // Redis keeps "before" in memory but answers nothing for 6 s.
            redis.cli("CLIENT", "PAUSE", "6000", "ALL");
            assertThat(timed(() -> api.patch(path, s.token(), Map.of("title", "during"))).status()).isEqualTo(200);
            for (int i = 0; i < 10; i++) {
                assertThat(timed(() -> api.get(path, s.token())).json().get("title").asText()).isEqualTo("during");
            }
            var ready = api.get("/ready", null);
            assertThat(ready.status()).isEqualTo(200);
            assertThat(ready.json().get("checks").get("redis").asText()).isEqualTo("degraded");
            assertThat(ready.json().get("status").asText()).isEqualTo("degraded");

            // When Redis answers again the node recovers by itself and never serves "before".
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!readiness(api).equals("up")) {
                assertThat(api.get(path, s.token()).json().get("title").asText()).isEqualTo("during");
                assertThat(System.nanoTime()).as("redis never came back").isLessThan(deadline);
                java.util.concurrent.locks.LockSupport.parkNanos(100_000_000);
            }
            for (int i = 0; i < 10; i++) {
                assertThat(api.get(path, s.token()).json().get("title").asText()).isEqualTo("during");
            }
        }
    }

    @Test
    void with_redis_dead_every_request_still_succeeds() throws InterruptedException {
        try (TestServer node = TestServer.start(Map.of("redis.url", redis.url()))) {
            Api api = node.api();
            Api.Session s = api.newUser("Dead");
            String org = api.newOrg(s, "dead");
            String base = "/api/v1/organizations/" + org + "/content";
            redis.kill();
            for (int i = 0; i < 5; i++) {
                String id = timed(() -> api.post(base, s.token(), Map.of("title", "t", "body", ""))).json().get("id").asText();
                assertThat(timed(() -> api.get(base + "/" + id, s.token())).status()).isEqualTo(200);
                assertThat(timed(() -> api.get(base, s.token())).status()).isEqualTo(200);
            }
            assertThat(api.get("/ready", null).status()).isEqualTo(200);
            assertThat(readiness(api)).isEqualTo("degraded");
        }
    }
}
