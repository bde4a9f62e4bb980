package ai.arches.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import ai.arches.testing.Api;
import ai.arches.testing.ServerTest;

import org.junit.jupiter.api.Test;

class RateLimitTest extends ServerTest {

    @Override
    protected Map<String, String> overrides() {
        // A Redis timeout above a loaded machine's stalls: past it a node counts alone (by design), which lets one more through.
        return Map.of("rate_limit.max_requests", "5", "rate_limit.window", "60s", "redis.timeout", "3s",
                "rate_limit.login_max_failures_per_account", "3", "rate_limit.login_max_failures_per_address", "6");
    }

    @Test
    void each_user_gets_its_own_budget_and_then_429_with_retry_after() {
        Api.Session a = api.newUser("Limited");
        Api.Session b = api.newUser("Other");
        for (int i = 5; i >= 1; i--) {
            var r = api.get("/api/v1/users/me", a.token());
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.header("RateLimit-Limit")).isEqualTo("5");
            assertThat(r.header("RateLimit-Remaining")).isEqualTo(Integer.toString(i - 1));
            assertThat(Long.parseLong(r.header("RateLimit-Reset"))).isBetween(0L, 60L);
        }
        var refused = api.get("/api/v1/users/me", a.token());
        assertThat(refused.status()).isEqualTo(429);
        assertThat(refused.header("Content-Type")).startsWith("application/problem+json");
        assertThat(Long.parseLong(refused.header("Retry-After"))).isBetween(1L, 60L);
        assertThat(refused.header("RateLimit-Remaining")).isEqualTo("0");
        assertThat(api.get("/api/v1/users/me", b.token()).status()).isEqualTo(200);
    }

    @Test
    void graphql_requests_spend_the_same_budget_and_the_429_is_a_problem() {
        Api.Session s = api.newUser("GraphLimited");
        for (int i = 0; i < 3; i++) {
            assertThat(api.post("/api/v1/graphql", s.token(), Map.of("query", "{ me { id } }")).status()).isEqualTo(200);
        }
        assertThat(api.get("/api/v1/users/me", s.token()).status()).isEqualTo(200);
        assertThat(api.get("/api/v1/graphql?query=%7Bme%7Bid%7D%7D", s.token()).status()).isEqualTo(200);
        var refused = api.post("/api/v1/graphql", s.token(), Map.of("query", "{ me { id } }"));
        assertThat(refused.status()).isEqualTo(429);
        assertThat(refused.header("Content-Type")).startsWith("application/problem+json");
        assertThat(refused.json().get("type").asText()).isEqualTo("urn:arches:problem:rate-limited");
        assertThat(refused.header("Retry-After")).isNotNull();
    }

    @Test
    void api_keys_are_limited_apart_from_their_creator() {
        Api.Session owner = api.newUser("KeyLimit");
        String org = api.newOrg(owner, "keylimit");
        String key = api.post("/api/v1/organizations/" + org + "/api-keys", owner.token(),
                Map.of("name", "k", "role", "viewer")).json().get("key").asText();
        for (int i = 0; i < 5; i++) {
            assertThat(api.get("/api/v1/organizations/" + org, key).status()).isEqualTo(200);
        }
        assertThat(api.get("/api/v1/organizations/" + org, key).status()).isEqualTo(429);
    }

    @Test
    void failed_logins_are_limited_per_account_even_for_the_right_password() {
        Api.Session s = api.newUser("Guessed");
        for (int i = 0; i < 3; i++) {
            assertThat(api.post("/api/v1/auth/login", null, Map.of("email", s.email(), "password", "wrong-" + i))
                    .status()).isEqualTo(401);
        }
        var refused = api.post("/api/v1/auth/login", null, Map.of("email", s.email(), "password", "correct horse"));
        assertThat(refused.status()).isEqualTo(429);
        assertThat(refused.header("Retry-After")).isNotNull();
        assertThat(refused.json().get("detail").asText()).contains("account");
    }
}
