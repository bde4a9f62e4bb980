package ai.arches.ratelimit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import ai.arches.testing.ServerTest;

import org.junit.jupiter.api.Test;

/** Guessing across many accounts from one address is stopped by the per-address limit. */
class LoginAddressLimitTest extends ServerTest {

    @Override
    protected Map<String, String> overrides() {
        return Map.of("rate_limit.login_max_failures_per_account", "100", "rate_limit.login_max_failures_per_address", "4");
    }

    @Test
    void failed_logins_are_limited_per_address_across_accounts() {
        var victim = api.newUser("Victim");
        for (int i = 0; i < 4; i++) {
            assertThat(api.post("/api/v1/auth/login", null,
                    Map.of("email", "nobody" + i + "@example.com", "password", "guess-" + i)).status()).isEqualTo(401);
        }
        var refused = api.post("/api/v1/auth/login", null, Map.of("email", victim.email(), "password", "guess"));
        assertThat(refused.status()).isEqualTo(429);
        assertThat(refused.json().get("detail").asText()).contains("address");
        assertThat(Long.parseLong(refused.header("Retry-After"))).isPositive();
    }
}
