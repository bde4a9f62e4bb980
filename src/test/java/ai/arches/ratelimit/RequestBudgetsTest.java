package ai.arches.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;

import ai.arches.cache.Redis;
import ai.arches.config.ConfigLoader;
import ai.arches.testing.MovableClock;

import org.junit.jupiter.api.Test;

class RequestBudgetsTest {
    private static final Duration WINDOW = Duration.ofSeconds(60);
    /** Long enough that the scheduled reconciler never runs: the tests call reconcile() themselves. */
    private static final Duration MANUAL = Duration.ofHours(1);

    /** 10 s into a window, so a test's takes all fall in one window. */
    private final MovableClock clock = new MovableClock(
            Instant.ofEpochMilli((System.currentTimeMillis() / 60_000 + 1) * 60_000 + 10_000));

    @Test
    void grants_up_to_the_limit_then_refuses_until_the_window_ends() {
        try (RequestBudgets budgets = new RequestBudgets(Optional.empty(), "t:", MANUAL, clock)) {
            for (long left = 2; left >= 0; left--) {
                RateLimiter.Decision d = budgets.consume("user:1", 3, WINDOW);
                assertThat(d.allowed()).isTrue();
                assertThat(d.status().remaining()).isEqualTo(left);
                assertThat(d.status().resetSeconds()).isEqualTo(50);
            }
            RateLimiter.Decision refused = budgets.consume("user:1", 3, WINDOW);
            assertThat(refused.allowed()).isFalse();
            assertThat(refused.status().remaining()).isZero();
            assertThat(refused.status().retryAfterSeconds()).isEqualTo(50);
            assertThat(budgets.consume("user:2", 3, WINDOW).allowed()).as("another caller's budget").isTrue();

            clock.now = clock.now.plusSeconds(49);
            assertThat(budgets.consume("user:1", 3, WINDOW).status().retryAfterSeconds()).isEqualTo(1);
            clock.now = clock.now.plusSeconds(1);
            RateLimiter.Decision next = budgets.consume("user:1", 3, WINDOW);
            assertThat(next.allowed()).as("a new window").isTrue();
            assertThat(next.status().remaining()).isEqualTo(2);
            assertThat(next.status().resetSeconds()).isEqualTo(60);
        }
    }

    @Test
    void concurrent_takes_on_one_node_never_pass_the_limit() throws Exception {
        try (RequestBudgets budgets = new RequestBudgets(Optional.empty(), "t:", MANUAL, clock)) {
            var granted = new java.util.concurrent.atomic.AtomicInteger();
            Thread[] threads = new Thread[8];
            for (int i = 0; i < threads.length; i++) {
                threads[i] = Thread.ofPlatform().start(() -> {
                    for (int j = 0; j < 1000; j++) {
                        if (budgets.consume("hot", 500, WINDOW).allowed()) {
                            granted.incrementAndGet();
                        }
                    }
                });
            }
            for (Thread t : threads) {
                t.join();
            }
            assertThat(granted.get()).isEqualTo(500);
        }
    }

    @Test
    void the_reconciler_merges_the_other_nodes_counts() {
        String prefix = "t-budgets-" + UUID.randomUUID() + ":";
        try (Redis redis = redis(ConfigLoader.load(java.util.Map.of(), java.util.Map.of()).redis().url());
             RequestBudgets a = new RequestBudgets(Optional.of(redis), prefix, MANUAL, clock);
             RequestBudgets b = new RequestBudgets(Optional.of(redis), prefix, MANUAL, clock)) {
            a.start();
            b.start();
            for (int i = 0; i < 3; i++) {
                assertThat(a.consume("user:1", 5, WINDOW).allowed()).isTrue();
            }
            a.reconcile();
            // B has not heard of A's takes until its own push answers the cluster total.
            assertThat(b.consume("user:1", 5, WINDOW).status().remaining()).isEqualTo(4);
            b.reconcile();
            RateLimiter.Decision last = b.consume("user:1", 5, WINDOW);
            assertThat(last.allowed()).isTrue();
            assertThat(last.status().remaining()).as("5 - A's 3 - B's 2").isZero();
            assertThat(b.consume("user:1", 5, WINDOW).allowed()).isFalse();
            b.reconcile();

            // A learns B's takes with its next push: the overshoot is what A granted in between.
            assertThat(a.consume("user:1", 5, WINDOW).allowed()).as("A's stale view: the slack").isTrue();
            a.reconcile();
            assertThat(a.consume("user:1", 5, WINDOW).allowed()).isFalse();

            // A new window starts from nothing on both nodes.
            clock.now = clock.now.plus(WINDOW);
            assertThat(a.consume("user:1", 5, WINDOW).status().remaining()).isEqualTo(4);
            assertThat(b.consume("user:1", 5, WINDOW).status().remaining()).isEqualTo(4);
        }
    }

    @Test
    void without_a_reachable_redis_each_node_keeps_its_own_limit() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // closed again: nothing listens there
        }
        try (Redis redis = redis("redis://127.0.0.1:" + port);
             RequestBudgets budgets = new RequestBudgets(Optional.of(redis), "t:", MANUAL, clock)) {
            budgets.start();
            for (int i = 0; i < 3; i++) {
                assertThat(budgets.consume("user:1", 3, WINDOW).allowed()).isTrue();
                budgets.reconcile();
            }
            assertThat(budgets.consume("user:1", 3, WINDOW).allowed()).isFalse();
            assertThat(redis.available()).as("failed pushes open the breaker").isFalse();
        }
    }

    private static Redis redis(String url) {
        return new Redis(url, Duration.ofMillis(200), "t-budgets", Clock.systemUTC(), m -> { }, s -> { }, () -> { });
    }
}
