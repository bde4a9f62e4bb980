package ai.arches.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import ai.arches.testing.Api;
import ai.arches.testing.Burst;
import ai.arches.testing.Metrics;
import ai.arches.testing.ServerTest;
import ai.arches.testing.TestServer;

import org.junit.jupiter.api.Test;

/**
 * The failed-login limit holds under concurrency: attempts reserve a failure before hashing, so
 * a burst gets exactly the limit evaluated, on one node, across nodes sharing Redis, and on
 * per-node buckets; a success gives its reservation back.
 */
class LoginBurstTest extends ServerTest {
    private static final int LIMIT = 5;
    private static final String LOGIN = "/api/v1/auth/login";

    @Override
    protected Map<String, String> overrides() {
        return limits();
    }

    private static Map<String, String> limits() {
        // A hash costing milliseconds, as real ones do, so the attempts of a burst overlap (the
        // test default hashes in microseconds, which all but serializes them).
        // A Redis timeout well above a loaded machine's stalls: past it a node falls back to its
        // own bucket by design (degraded, not exact), which a full suite beside other work tripped once.
        return Map.of("rate_limit.login_max_failures_per_account", Integer.toString(LIMIT),
                "rate_limit.login_max_failures_per_address", "1000000",
                "auth.password.memory_kib", "8192", "auth.password.iterations", "2", "redis.timeout", "3s");
    }

    private static Api.Response login(Api api, String email, String password) {
        return api.post(LOGIN, null, Map.of("email", email, "password", password));
    }

    @Test
    void forty_concurrent_wrong_logins_get_exactly_the_limit_evaluated_and_no_more_hashes() {
        Api.Session victim = api.newUser("Burst");
        double hashesBefore = Metrics.unlabelled(api, "auth_password_hashes_total");

        List<Api.Response> burst = Burst.of(40, i -> login(api, victim.email(), "wrong-" + i));

        assertThat(Burst.statuses(burst)).isEqualTo(Map.of(401, LIMIT, 429, 40 - LIMIT));
        assertThat(Metrics.unlabelled(api, "auth_password_hashes_total") - hashesBefore).isEqualTo(LIMIT);
        burst.stream().filter(r -> r.status() == 429).forEach(r -> {
            assertThat(Long.parseLong(r.header("Retry-After"))).isPositive();
            assertThat(r.json().get("detail").asText()).contains("account");
        });
        assertThat(login(api, victim.email(), "correct horse").status()).isEqualTo(429);
    }

    @Test
    void the_right_password_in_the_burst_gets_in_only_while_failures_are_left() {
        Api.Session victim = api.newUser("BurstRight");

        List<Api.Response> burst = Burst.of(41, i -> login(api, victim.email(), i == 20 ? "correct horse" : "wrong-" + i));

        Api.Response right = burst.get(20);
        List<Api.Response> wrong = burst.stream().filter(r -> r != right).toList();
        long evaluated = wrong.stream().filter(r -> r.status() == 401).count();
        assertThat(evaluated).isLessThanOrEqualTo(LIMIT);
        assertThat(wrong).allMatch(r -> r.status() == 401 || r.status() == 429);
        assertThat(right.status()).isIn(200, 429);
        // The budget is spent exactly when LIMIT failures were evaluated; then the right password
        // is refused too, and otherwise the success's reservation was given back.
        assertThat(login(api, victim.email(), "correct horse").status()).isEqualTo(evaluated == LIMIT ? 429 : 200);
    }

    @Test
    void a_correct_login_gives_its_reservation_back() {
        Api.Session user = api.newUser("Refund");
        for (int i = 0; i < LIMIT - 2; i++) {
            assertThat(login(api, user.email(), "wrong-" + i).status()).isEqualTo(401);
        }
        for (int i = 0; i < 2 * LIMIT; i++) {
            assertThat(login(api, user.email(), "correct horse").status()).isEqualTo(200);
        }
        assertThat(login(api, user.email(), "wrong-a").status()).isEqualTo(401);
        assertThat(login(api, user.email(), "wrong-b").status()).isEqualTo(401);
        assertThat(login(api, user.email(), "wrong-c").status()).isEqualTo(429);
    }

    @Test
    void two_nodes_sharing_redis_evaluate_the_limit_once_between_them() {
        Api.Session victim = api.newUser("TwoNodes");
        try (TestServer second = TestServer.startOn(server.database(), limits())) {
            Api other = second.api();
            List<Api.Response> burst = Burst.of(40, i -> login(i % 2 == 0 ? api : other, victim.email(), "wrong-" + i));
            assertThat(Burst.statuses(burst)).isEqualTo(Map.of(401, LIMIT, 429, 40 - LIMIT));
        }
    }

    @Test
    void per_node_buckets_hold_exactly_when_redis_is_not_configured() {
        Map<String, String> noRedis = new HashMap<>(limits());
        noRedis.put("redis.url", "");
        try (TestServer alone = TestServer.start(noRedis)) {
            Api.Session victim = alone.api().newUser("NoRedis");
            List<Api.Response> burst = Burst.of(40, i -> login(alone.api(), victim.email(), "wrong-" + i));
            assertThat(Burst.statuses(burst)).isEqualTo(Map.of(401, LIMIT, 429, 40 - LIMIT));
        }
    }
}
