package ai.arches.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;

import ai.arches.testing.Api;
import ai.arches.testing.ServerTest;
import ai.arches.testing.TestServer;

import org.junit.jupiter.api.Test;

/**
 * Per-address login limits key on the real client: behind a trusted proxy (the test client's
 * 127.0.0.1), from X-Forwarded-For; from an untrusted peer, from the peer whatever it claims.
 */
class TrustedProxyTest extends ServerTest {
    private static final int PER_ADDRESS = 3;

    @Override
    protected Map<String, String> overrides() {
        return Map.of("server.trusted_proxies", "127.0.0.1/32, ::1/128",
                "rate_limit.login_max_failures_per_account", "1000",
                "rate_limit.login_max_failures_per_address", Integer.toString(PER_ADDRESS));
    }

    private static Api.Response login(Api api, String email, String password, Map<String, String> headers) {
        return api.send("POST", "/api/v1/auth/login", null, "application/json",
                Api.json(Map.of("email", email, "password", password)), headers);
    }

    @Test
    void one_client_locking_out_its_address_does_not_lock_out_another_behind_the_same_proxy() {
        Api.Session b = api.newUser("ClientB");
        Map<String, String> fromA = Map.of("X-Forwarded-For", "203.0.113.5");
        for (int i = 0; i < PER_ADDRESS; i++) {
            assertThat(login(api, "nobody" + i + "@example.com", "guess", fromA).status()).isEqualTo(401);
        }
        Api.Response refused = login(api, b.email(), "guess", fromA);
        assertThat(refused.status()).isEqualTo(429);
        assertThat(refused.json().get("detail").asText()).contains("address");

        assertThat(login(api, b.email(), "correct horse", Map.of("X-Forwarded-For", "198.51.100.7")).status())
                .isEqualTo(200);
        assertThat(login(api, b.email(), "correct horse", Map.of("Forwarded", "for=\"198.51.100.8:5555\"")).status())
                .isEqualTo(200);
    }

    @Test
    void a_client_cannot_name_another_address_through_an_untrusted_peer() {
        Map<String, String> o = Map.of("server.trusted_proxies", "10.0.0.0/8",
                "rate_limit.login_max_failures_per_account", "1000",
                "rate_limit.login_max_failures_per_address", Integer.toString(PER_ADDRESS));
        try (TestServer direct = TestServer.start(o)) {
            Api.Session victim = direct.api().newUser("Spoofed");
            for (int i = 0; i < PER_ADDRESS; i++) {
                assertThat(login(direct.api(), victim.email(), "guess-" + i,
                        Map.of("X-Forwarded-For", "192.0.2." + i, "Forwarded", "for=198.51.100." + i)).status())
                        .isEqualTo(401);
            }
            assertThat(login(direct.api(), victim.email(), "guess-x",
                    Map.of("X-Forwarded-For", "192.0.2.99", "Forwarded", "for=198.51.100.99")).status())
                    .isEqualTo(429);
        }
    }
}
