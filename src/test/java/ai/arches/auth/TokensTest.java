package ai.arches.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.UUID;

import ai.arches.testing.MovableClock;

import org.junit.jupiter.api.Test;

/** Access tokens verify in memory: no database is involved anywhere in this test. */
class TokensTest {
    private static final byte[] SECRET = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8);
    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void a_token_verifies_until_it_expires() {
        MovableClock clock = new MovableClock(T0);
        Tokens tokens = new Tokens(SECRET, "arches", Duration.ofMinutes(15), clock);
        UUID user = UUID.randomUUID();
        UUID session = UUID.randomUUID();
        String t = tokens.issueAccess(user, session);
        assertThat(tokens.verifyAccess(t)).contains(new Principal.User(user, session));
        clock.now = T0.plus(Duration.ofMinutes(14));
        assertThat(tokens.verifyAccess(t)).isPresent();
        clock.now = T0.plus(Duration.ofMinutes(16));
        assertThat(tokens.verifyAccess(t)).isEmpty();
    }

    @Test
    void other_secrets_issuers_and_tampering_are_rejected() {
        Clock clock = Clock.fixed(T0, ZoneOffset.UTC);
        Tokens tokens = new Tokens(SECRET, "arches", Duration.ofMinutes(15), clock);
        String t = tokens.issueAccess(UUID.randomUUID(), UUID.randomUUID());
        Tokens otherSecret = new Tokens("another-secret-another-secret-xx".getBytes(), "arches", Duration.ofMinutes(15), clock);
        Tokens otherIssuer = new Tokens(SECRET, "someone-else", Duration.ofMinutes(15), clock);
        assertThat(otherSecret.verifyAccess(t)).isEmpty();
        assertThat(otherIssuer.verifyAccess(t)).isEmpty();
        String[] parts = t.split("\\.");
        String forged = parts[0] + "." + parts[1].substring(0, parts[1].length() - 2) + "AA." + parts[2];
        assertThat(tokens.verifyAccess(forged)).isEmpty();
        assertThat(tokens.verifyAccess("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")).isEmpty();
        assertThat(tokens.verifyAccess("")).isEmpty();
    }

}
