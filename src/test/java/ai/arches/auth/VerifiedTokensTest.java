package ai.arches.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;

import ai.arches.testing.Eventually;
import ai.arches.testing.Metrics;
import ai.arches.testing.ServerTest;
import ai.arches.testing.MovableClock;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A token's signature is verified once per node; its expiry and its session still hold on every use. */
class VerifiedTokensTest extends ServerTest {
    private static final byte[] SECRET = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8);
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
    private static final String ME = "/api/v1/users/me";
    private static final String VERIFIED = "auth_token_verifications_total";

    // One instance serves the whole class (one server): each test gets its own clock and meters.
    private MovableClock clock;
    private SimpleMeterRegistry meters;
    private Tokens tokens;

    @BeforeEach
    void freshClockAndMeters() {
        clock = new MovableClock(T0);
        meters = new SimpleMeterRegistry();
        tokens = new Tokens(SECRET, "arches", Duration.ofMinutes(15), clock);
    }

    private double verifications() {
        return meters.get("auth.token.verifications").counter().count();
    }

    @Test
    void a_second_use_of_a_token_does_not_verify_it_again() {
        var cache = new VerifiedTokens(tokens, 100, clock, meters);
        var user = new Principal.User(UUID.randomUUID(), UUID.randomUUID());
        String t = tokens.issueAccess(user.userId(), user.sessionId());
        assertThat(cache.verify(t)).contains(user);
        assertThat(cache.verify(t)).contains(user);
        assertThat(verifications()).isEqualTo(1);
    }

    @Test
    void an_expired_token_is_refused_even_if_cached() {
        var cache = new VerifiedTokens(tokens, 100, clock, meters);
        String t = tokens.issueAccess(UUID.randomUUID(), UUID.randomUUID());
        assertThat(cache.verify(t)).isPresent();
        clock.now = T0.plus(Duration.ofMinutes(14));
        assertThat(cache.verify(t)).isPresent();
        // Past exp and the verifier's one-second leeway: the cached entry must not answer.
        clock.now = T0.plus(Duration.ofMinutes(15)).plusSeconds(2);
        assertThat(cache.verify(t)).isEmpty();
        assertThat(verifications()).isEqualTo(2);
    }

    @Test
    void a_refused_token_is_not_cached_and_a_zero_size_cache_verifies_every_use() {
        var cache = new VerifiedTokens(tokens, 100, clock, meters);
        String forged = new Tokens("another-secret-another-secret-xx".getBytes(StandardCharsets.UTF_8), "arches",
                Duration.ofMinutes(15), clock).issueAccess(UUID.randomUUID(), UUID.randomUUID());
        assertThat(cache.verify(forged)).isEmpty();
        assertThat(cache.verify(forged)).isEmpty();
        assertThat(verifications()).isEqualTo(2);

        var off = new VerifiedTokens(tokens, 0, clock, meters);
        String t = tokens.issueAccess(UUID.randomUUID(), UUID.randomUUID());
        assertThat(off.verify(t)).isPresent();
        assertThat(off.verify(t)).isPresent();
        assertThat(verifications()).isEqualTo(4);
    }

    @Test
    void the_server_verifies_a_token_on_its_first_request_only() {
        var s = api.newUser("Cached");
        double before = Metrics.unlabelled(api, VERIFIED);
        assertThat(api.get(ME, s.token()).status()).isEqualTo(200);
        double afterFirst = Metrics.unlabelled(api, VERIFIED);
        assertThat(afterFirst).isEqualTo(before + 1);
        for (int i = 0; i < 5; i++) {
            assertThat(api.get(ME, s.token()).status()).isEqualTo(200);
        }
        assertThat(Metrics.unlabelled(api, VERIFIED)).isEqualTo(afterFirst);
    }

    @Test
    void a_cached_token_of_a_revoked_session_is_refused_within_a_second() {
        var s = api.newUser("Revoked");
        assertThat(api.get(ME, s.token()).status()).isEqualTo(200);
        assertThat(api.get(ME, s.token()).status()).isEqualTo(200);
        assertThat(api.post("/api/v1/auth/logout", s.token(), null).status()).isEqualTo(204);
        Eventually.status("token of a revoked session", 401, 1_000, () -> api.get(ME, s.token()).status());
    }

}
