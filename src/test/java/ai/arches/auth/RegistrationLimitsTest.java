package ai.arches.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import ai.arches.testing.Api;
import ai.arches.testing.Burst;
import ai.arches.testing.Metrics;
import ai.arches.testing.ServerTest;
import ai.arches.testing.TestServer;

import org.junit.jupiter.api.Test;

/**
 * Registration cannot starve logins: it is limited per client address, a taken email is refused
 * before any hashing, and a request that cannot get a hash slot within auth.password.max_wait is
 * refused with 503 and Retry-After. Refused registrations store nothing.
 */
class RegistrationLimitsTest extends ServerTest {
    private static final int PER_ADDRESS = 3;
    private static final String REGISTER = "/api/v1/auth/register";

    @Override
    protected Map<String, String> overrides() {
        // The test client is the trusted proxy, so each test names its own client address.
        return Map.of("server.trusted_proxies", "127.0.0.1",
                "rate_limit.register_max_per_address", Integer.toString(PER_ADDRESS),
                "rate_limit.register_window", "1h");
    }

    private static String email(String tag) {
        return tag + "-" + UUID.randomUUID().toString().substring(0, 8) + "@example.com";
    }

    private static Api.Response register(Api api, String email, String from) {
        return api.send("POST", REGISTER, null, "application/json",
                Api.json(Map.of("email", email, "name", "N", "password", "correct horse")),
                Map.of("X-Forwarded-For", from));
    }

    private static long stored(TestServer s, String email) {
        return s.arches().database().withHandle(h -> h.createQuery("SELECT count(*) FROM users WHERE email = :e")
                .bind("e", email).mapTo(Long.class).one());
    }

    @Test
    void the_registration_past_the_limit_from_one_address_is_429_and_stores_nothing() {
        for (int i = 0; i < PER_ADDRESS; i++) {
            assertThat(register(api, email("ok" + i), "203.0.113.20").status()).isEqualTo(201);
        }
        String refusedEmail = email("refused");
        Api.Response refused = register(api, refusedEmail, "203.0.113.20");
        assertThat(refused.status()).isEqualTo(429);
        assertThat(refused.header("Content-Type")).startsWith("application/problem+json");
        assertThat(Long.parseLong(refused.header("Retry-After"))).isBetween(1L, 3600L);
        assertThat(refused.header("RateLimit-Limit")).isEqualTo(Integer.toString(PER_ADDRESS));
        assertThat(refused.header("RateLimit-Remaining")).isEqualTo("0");
        assertThat(refused.json().get("detail").asText()).contains("registrations from this address");
        assertThat(stored(server, refusedEmail)).isZero();

        assertThat(register(api, email("other"), "203.0.113.21").status()).isEqualTo(201);
    }

    @Test
    void a_duplicate_email_is_409_without_computing_a_hash() {
        String taken = email("dup");
        double before = Metrics.unlabelled(api, "auth_password_hashes_total");
        assertThat(register(api, taken, "198.51.100.30").status()).isEqualTo(201);
        double afterFirst = Metrics.unlabelled(api, "auth_password_hashes_total");
        assertThat(afterFirst - before).isEqualTo(1);

        Api.Response dup = register(api, taken.toUpperCase(java.util.Locale.ROOT), "198.51.100.31");
        assertThat(dup.status()).isEqualTo(409);
        assertThat(Metrics.unlabelled(api, "auth_password_hashes_total")).isEqualTo(afterFirst);
        assertThat(stored(server, taken)).isEqualTo(1);
    }

    @Test
    void a_flood_past_the_hash_gate_is_refused_with_503_and_retry_after_and_stores_nothing() {
        Map<String, String> slow = Map.of("auth.password.max_concurrent", "1",
                "auth.password.memory_kib", "32768", "auth.password.iterations", "3",
                "auth.password.max_wait", "5ms");
        try (TestServer node = TestServer.start(slow)) {
            List<String> emails = java.util.stream.IntStream.range(0, 12).mapToObj(i -> email("flood" + i)).toList();
            List<Api.Response> burst = Burst.of(emails.size(), i -> node.api().post(REGISTER, null,
                    Map.of("email", emails.get(i), "name", "N", "password", "correct horse")));

            Map<Integer, Integer> statuses = Burst.statuses(burst);
            assertThat(statuses.keySet()).containsOnly(201, 503);
            assertThat(statuses.get(503)).isPositive();
            assertThat(statuses.get(201)).isPositive();
            for (int i = 0; i < emails.size(); i++) {
                Api.Response r = burst.get(i);
                assertThat(stored(node, emails.get(i))).isEqualTo(r.status() == 201 ? 1 : 0);
                if (r.status() == 503) {
                    assertThat(r.header("Content-Type")).startsWith("application/problem+json");
                    assertThat(Long.parseLong(r.header("Retry-After"))).isPositive();
                }
            }
            assertThat(Metrics.unlabelled(node.api(), "auth_password_refused_total")).isEqualTo(statuses.get(503).doubleValue());
        }
    }
}
