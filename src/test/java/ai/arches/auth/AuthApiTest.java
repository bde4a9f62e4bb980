package ai.arches.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.util.Map;
import java.util.UUID;

import ai.arches.testing.ServerTest;
import ai.arches.testing.TestDatabases;

import org.junit.jupiter.api.Test;

class AuthApiTest extends ServerTest {

    private static String email() {
        return "u-" + UUID.randomUUID().toString().substring(0, 8) + "@Example.com";
    }

    @Test
    void register_returns_201_user_without_secrets_and_stores_an_argon2id_hash() throws Exception {
        String email = email();
        var r = api.post("/api/v1/auth/register", null, Map.of("email", email, "name", "Ada", "password", "s3cret-pass"));
        assertThat(r.status()).isEqualTo(201);
        assertThat(r.json().get("email").asText()).isEqualTo(email.toLowerCase());
        assertThat(r.text()).doesNotContain("s3cret").doesNotContain("password");
        try (Connection c = TestDatabases.superuser(server.database());
             ResultSet rs = c.createStatement().executeQuery(
                     "SELECT password_hash FROM users WHERE id = '" + r.json().get("id").asText() + "'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).startsWith("$argon2id$v=19$").doesNotContain("s3cret");
        }
    }

    @Test
    void duplicate_email_is_409_whatever_its_case() {
        String email = email();
        assertThat(api.post("/api/v1/auth/register", null, Map.of("email", email, "name", "A", "password", "password1"))
                .status()).isEqualTo(201);
        var dup = api.post("/api/v1/auth/register", null,
                Map.of("email", email.toUpperCase(), "name", "B", "password", "password1"));
        assertThat(dup.status()).isEqualTo(409);
    }

    @Test
    void invalid_registration_is_400_naming_each_field() {
        var r = api.post("/api/v1/auth/register", null, Map.of("email", "not-an-email", "name", "", "password", "short"));
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.json().get("errors")).extracting(e -> e.get("field").asText())
                .containsExactlyInAnyOrder("email", "name", "password");
    }

    @Test
    void login_succeeds_with_the_right_password_only() {
        var s = api.newUser("Login");
        var ok = api.post("/api/v1/auth/login", null, Map.of("email", s.email(), "password", "correct horse"));
        assertThat(ok.status()).isEqualTo(200);
        assertThat(ok.json().get("tokenType").asText()).isEqualTo("Bearer");
        assertThat(ok.json().get("expiresIn").asLong()).isEqualTo(900);
        var wrong = api.post("/api/v1/auth/login", null, Map.of("email", s.email(), "password", "wrong horse"));
        assertThat(wrong.status()).isEqualTo(401);
        assertThat(wrong.header("WWW-Authenticate")).startsWith("Bearer");
        var unknown = api.post("/api/v1/auth/login", null, Map.of("email", email(), "password", "whatever1"));
        assertThat(unknown.status()).isEqualTo(401);
        assertThat(unknown.json().get("detail").asText()).isEqualTo(wrong.json().get("detail").asText());
    }

    @Test
    void refresh_rotates_and_the_old_token_stops_working() {
        var s = api.newUser("Rotate");
        var first = api.post("/api/v1/auth/refresh", null, Map.of("refreshToken", s.refreshToken()));
        assertThat(first.status()).isEqualTo(200);
        String next = first.json().get("refreshToken").asText();
        assertThat(next).isNotEqualTo(s.refreshToken());
        assertThat(api.get("/api/v1/users/me", first.json().get("accessToken").asText()).status()).isEqualTo(200);
        assertThat(api.post("/api/v1/auth/refresh", null, Map.of("refreshToken", s.refreshToken())).status())
                .isEqualTo(401);
    }

    @Test
    void reusing_a_rotated_refresh_token_revokes_the_whole_session() {
        var s = api.newUser("Reuse");
        String next = api.post("/api/v1/auth/refresh", null, Map.of("refreshToken", s.refreshToken()))
                .json().get("refreshToken").asText();
        var reuse = api.post("/api/v1/auth/refresh", null, Map.of("refreshToken", s.refreshToken()));
        assertThat(reuse.status()).isEqualTo(401);
        assertThat(reuse.json().get("detail").asText()).contains("already used");
        assertThat(api.post("/api/v1/auth/refresh", null, Map.of("refreshToken", next)).status()).isEqualTo(401);
    }

    @Test
    void logout_ends_the_session_so_its_refresh_token_fails() {
        var s = api.newUser("Logout");
        var out = api.post("/api/v1/auth/logout", s.token(), null);
        assertThat(out.status()).isEqualTo(204);
        assertThat(api.post("/api/v1/auth/refresh", null, Map.of("refreshToken", s.refreshToken())).status())
                .isEqualTo(401);
        assertThat(api.post("/api/v1/auth/logout", null, null).status()).isEqualTo(401);
    }

    @Test
    void logout_with_only_a_refresh_token_revokes_it() {
        var s = api.newUser("LogoutRt");
        assertThat(api.post("/api/v1/auth/logout", null, Map.of("refreshToken", s.refreshToken())).status())
                .isEqualTo(204);
        assertThat(api.post("/api/v1/auth/refresh", null, Map.of("refreshToken", s.refreshToken())).status())
                .isEqualTo(401);
    }

    @Test
    void me_needs_a_valid_token() {
        var s = api.newUser("Me");
        var me = api.get("/api/v1/users/me", s.token());
        assertThat(me.status()).isEqualTo(200);
        assertThat(me.json().get("id").asText()).isEqualTo(s.userId());
        assertThat(api.get("/api/v1/users/me", null).status()).isEqualTo(401);
        assertThat(api.get("/api/v1/users/me", "garbage").status()).isEqualTo(401);
        assertThat(api.get("/api/v1/users/me", s.token() + "x").status()).isEqualTo(401);
        var basic = api.send("GET", "/api/v1/users/me", null, null, null, Map.of("Authorization", "Basic Zm9vOmJhcg=="));
        assertThat(basic.status()).isEqualTo(401);
    }

    @Test
    void patch_me_renames_and_validates() {
        var s = api.newUser("Old Name");
        var r = api.patch("/api/v1/users/me", s.token(), Map.of("name", "New Name"));
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("name").asText()).isEqualTo("New Name");
        assertThat(api.get("/api/v1/users/me", s.token()).json().get("name").asText()).isEqualTo("New Name");
        assertThat(api.patch("/api/v1/users/me", s.token(), Map.of()).status()).isEqualTo(400);
        assertThat(api.patch("/api/v1/users/me", s.token(), Map.of("name", "")).status()).isEqualTo(400);
        assertThat(api.patch("/api/v1/users/me", s.token(), Map.of("email", "x@y.z")).status()).isEqualTo(400);
    }
}
