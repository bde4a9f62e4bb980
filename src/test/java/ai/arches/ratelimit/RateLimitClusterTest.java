package ai.arches.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

import ai.arches.testing.Api;
import ai.arches.testing.OwnRedis;
import ai.arches.testing.TestServer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two nodes on one database and one Redis share a caller's request budget: each counts in memory
 * and reconciles through Redis every sync interval, so together they grant the limit plus at most
 * the documented slack (nodes × rate per node × sync interval, twice that with the worst timing),
 * and far less than the limit per node they would grant without reconciling. The test runs its
 * own redis-server so it can kill it: the nodes then keep serving with per-node limits.
 */
class RateLimitClusterTest {
    private static final int LIMIT = 30;
    private static final long SYNC_MS = 50;
    /** Each node is sent a request every 25 ms (40/s): slow enough that the slack stays well below the limit. */
    private static final long PACE_NANOS = TimeUnit.MILLISECONDS.toNanos(25);
    private static final int ATTEMPTS_PER_NODE = 40;

    private OwnRedis redis;

    @BeforeEach
    void startRedis() throws Exception {
        redis = OwnRedis.start();
    }

    @AfterEach
    void stopRedis() {
        redis.close();
    }

    private Map<String, String> config() {
        return Map.of("redis.url", redis.url(), "rate_limit.max_requests", Integer.toString(LIMIT),
                "rate_limit.window", "1h", "rate_limit.sync_interval", SYNC_MS + "ms");
    }

    @Test
    void two_nodes_together_grant_the_limit_plus_at_most_the_documented_slack() throws Exception {
        try (TestServer a = TestServer.start(config()); TestServer b = TestServer.startOn(a.database(), config())) {
            Api.Session s = a.api().newUser("Shared");
            long window = System.currentTimeMillis() / 3_600_000;
            AtomicInteger granted = new AtomicInteger();
            AtomicInteger other = new AtomicInteger();
            long started = System.nanoTime();
            List<Thread> drivers = List.of(a.api(), b.api()).stream()
                    .map(node -> Thread.ofPlatform().start(() -> drive(node, s.token(), granted, other)))
                    .toList();
            for (Thread t : drivers) {
                t.join();
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            assumeTrue(System.currentTimeMillis() / 3_600_000 == window, "the run crossed a window boundary");
            // Each node's rate as sent (an upper bound on what it granted), times two intervals of staleness.
            double ratePerNode = ATTEMPTS_PER_NODE / seconds;
            long slack = 2 * (long) Math.ceil(ratePerNode * 2 * SYNC_MS / 1000.0) + 2;
            System.out.printf("two-node budget: %d granted of %d attempts, limit %d, %.0f req/s per node, slack bound %d%n",
                    granted.get(), 2 * ATTEMPTS_PER_NODE, LIMIT, ratePerNode, slack);
            assertThat(other.get()).as("answers other than 200 or 429").isZero();
            assertThat(granted.get()).isBetween(LIMIT, LIMIT + (int) slack);
            assertThat((int) slack).as("the test must tell reconciling from per-node limits").isLessThan(LIMIT);
            for (Api node : List.of(a.api(), b.api())) {
                var refused = node.get("/api/v1/users/me", s.token());
                assertThat(refused.status()).isEqualTo(429);
                assertThat(refused.header("RateLimit-Remaining")).isEqualTo("0");
                assertThat(refused.header("RateLimit-Limit")).isEqualTo(Integer.toString(LIMIT));
            }
        }
    }

    /** Sends ATTEMPTS_PER_NODE requests on a fixed schedule (pacing a load, not waiting for a state). */
    private static void drive(Api node, String token, AtomicInteger granted, AtomicInteger other) {
        long next = System.nanoTime();
        for (int i = 0; i < ATTEMPTS_PER_NODE; i++) {
            int status = node.get("/api/v1/users/me", token).status();
            if (status == 200) {
                granted.incrementAndGet();
            } else if (status != 429) {
                other.incrementAndGet();
            }
            next += PACE_NANOS;
            LockSupport.parkNanos(next - System.nanoTime());
        }
    }

    @Test
    void with_redis_stopped_each_node_still_serves_with_its_own_limit() throws Exception {
        try (TestServer a = TestServer.start(config()); TestServer b = TestServer.startOn(a.database(), config())) {
            Api.Session s = a.api().newUser("Alone");
            long window = System.currentTimeMillis() / 3_600_000;
            redis.kill();
            for (Api node : List.of(a.api(), b.api())) {
                for (int i = LIMIT - 1; i >= 0; i--) {
                    var r = node.get("/api/v1/users/me", s.token());
                    assertThat(r.status()).isEqualTo(200);
                    assertThat(r.header("RateLimit-Remaining")).isEqualTo(Integer.toString(i));
                }
                assertThat(node.get("/api/v1/users/me", s.token()).status()).isEqualTo(429);
            }
            assumeTrue(System.currentTimeMillis() / 3_600_000 == window, "the run crossed a window boundary");
        }
    }
}
