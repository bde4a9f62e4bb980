package ai.arches.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import ai.arches.config.ArchesConfig;

import org.junit.jupiter.api.Test;

class PasswordsTest {
    private final Passwords cheap = new Passwords(new ArchesConfig.Password(64, 1, 1, 2, Duration.ofSeconds(2)));

    @Test
    void a_hash_verifies_its_password_and_no_other() {
        String h = cheap.hash("correct horse battery");
        assertThat(h).startsWith("$argon2id$v=19$m=64,t=1,p=1$");
        assertThat(cheap.verify("correct horse battery", h)).isTrue();
        assertThat(cheap.verify("correct horse batterz", h)).isFalse();
        assertThat(cheap.hash("correct horse battery")).isNotEqualTo(h);
    }

    @Test
    void verification_uses_the_cost_stored_in_the_hash_so_raising_cost_keeps_old_users() {
        String old = cheap.hash("pässwörd ✓");
        Passwords stronger = new Passwords(new ArchesConfig.Password(128, 2, 1, 2, Duration.ofSeconds(2)));
        assertThat(stronger.verify("pässwörd ✓", old)).isTrue();
        assertThat(stronger.hash("x")).contains("m=128,t=2,p=1");
    }

    @Test
    void garbage_hashes_never_verify() {
        assertThat(cheap.verify("x", "$2a$10$abcdefghijklmnopqrstuv")).isFalse();
        assertThat(cheap.verify("x", "")).isFalse();
    }
}
