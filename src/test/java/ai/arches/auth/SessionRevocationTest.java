package ai.arches.auth;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import ai.arches.testing.Api;
import ai.arches.testing.Eventually;
import ai.arches.testing.ServerTest;
import ai.arches.testing.TestServer;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Access tokens die with their session, within a second, on every node. */
class SessionRevocationTest extends ServerTest {
    private static final long BOUND_MS = 1_000;
    private static final String ME = "/api/v1/users/me";
    private static final String PASSWORD = "/api/v1/users/me/password";
    private static final String SESSIONS = "/api/v1/users/me/sessions";

    private TestServer second;
    private List<Api> nodes;

    @BeforeAll
    void startSecondNode() {
        second = TestServer.startOn(server.database(), Map.of());
        nodes = List.of(api, second.api());
    }

    @AfterAll
    void stopSecondNode() {
        if (second != null) {
            second.close();
        }
    }

    /** Warms both nodes' caches with the token, then waits until each refuses it. */
    private void diesEverywhere(String what, String token) {
        for (Api node : nodes) {
            long ms = Eventually.status(what, 401, BOUND_MS, () -> node.get(ME, token).status());
            System.out.println(what + ": access token refused after " + ms + " ms");
        }
    }

    private void warm(String... tokens) {
        for (Api node : nodes) {
            for (String t : tokens) {
                assertThat(node.get(ME, t).status()).isEqualTo(200);
            }
        }
    }

    private Api.Session again(Api.Session s, String password) {
        return api.login(s.email(), password, s.userId());
    }

    private int refresh(String refreshToken) {
        return api.post("/api/v1/auth/refresh", null, Map.of("refreshToken", refreshToken)).status();
    }

    @Test
    void logout_kills_the_access_token_on_every_node() {
        var s = api.newUser("Logout");
        warm(s.token());
        assertThat(api.post("/api/v1/auth/logout", s.token(), null).status()).isEqualTo(204);
        diesEverywhere("logout", s.token());
    }

    @Test
    void a_reused_refresh_token_kills_the_familys_access_tokens() {
        var s = api.newUser("Reuse");
        var next = api.post("/api/v1/auth/refresh", null, Map.of("refreshToken", s.refreshToken())).json();
        String rotated = next.get("accessToken").asText();
        warm(s.token(), rotated);
        assertThat(refresh(s.refreshToken())).isEqualTo(401);
        diesEverywhere("refresh reuse (first token)", s.token());
        diesEverywhere("refresh reuse (rotated token)", rotated);
        assertThat(refresh(next.get("refreshToken").asText())).isEqualTo(401);
    }

    @Test
    void changing_the_password_ends_every_other_session_and_keeps_the_callers() {
        var s = api.newUser("Password");
        var other = again(s, "correct horse");
        warm(s.token(), other.token());
        var wrong = api.post(PASSWORD, s.token(), Map.of("currentPassword", "wrong horse", "newPassword", "battery staple"));
        assertThat(wrong.status()).isEqualTo(403);
        assertThat(wrong.header("Content-Type")).startsWith("application/problem+json");
        var tooShort = api.post(PASSWORD, s.token(), Map.of("currentPassword", "correct horse", "newPassword", "short"));
        assertThat(tooShort.status()).isEqualTo(400);
        assertThat(tooShort.text()).contains("newPassword");
        warm(other.token());

        assertThat(api.post(PASSWORD, s.token(), Map.of("currentPassword", "correct horse",
                "newPassword", "battery staple")).status()).isEqualTo(204);
        diesEverywhere("password change (other session)", other.token());
        assertThat(refresh(other.refreshToken())).isEqualTo(401);
        for (Api node : nodes) {
            assertThat(node.get(ME, s.token()).status()).isEqualTo(200);
        }
        assertThat(refresh(s.refreshToken())).isEqualTo(200);
        assertThat(api.post("/api/v1/auth/login", null, Map.of("email", s.email(), "password", "correct horse"))
                .status()).isEqualTo(401);
        assertThat(again(s, "battery staple").token()).isNotBlank();
    }

    @Test
    void signing_out_everywhere_ends_every_session() {
        var s = api.newUser("Everywhere");
        var other = again(s, "correct horse");
        warm(s.token(), other.token());
        assertThat(api.delete(SESSIONS, s.token()).status()).isEqualTo(204);
        diesEverywhere("sign out everywhere (caller)", s.token());
        diesEverywhere("sign out everywhere (other)", other.token());
        assertThat(refresh(s.refreshToken())).isEqualTo(401);
        assertThat(refresh(other.refreshToken())).isEqualTo(401);
        assertThat(again(s, "correct horse").token()).isNotBlank();
    }

    @Test
    void api_keys_have_no_session_to_change_or_end() {
        var s = api.newUser("KeyHolder");
        String org = api.newOrg(s, "sessionkeys");
        String key = api.post("/api/v1/organizations/" + org + "/api-keys", s.token(),
                Map.of("name", "k", "role", "admin")).json().get("key").asText();
        assertThat(api.post(PASSWORD, key, Map.of("currentPassword", "correct horse", "newPassword", "battery staple"))
                .status()).isEqualTo(403);
        assertThat(api.delete(SESSIONS, key).status()).isEqualTo(403);
        assertThat(api.get(ME, s.token()).status()).isEqualTo(200);
    }

    @Test
    void token_responses_are_never_stored() {
        var reg = api.post("/api/v1/auth/register", null, Map.of("email",
                "nostore-" + java.util.UUID.randomUUID() + "@example.com", "name", "n", "password", "correct horse"));
        var login = api.post("/api/v1/auth/login", null, Map.of("email", reg.json().get("email").asText(),
                "password", "correct horse"));
        assertThat(login.header("Cache-Control")).isEqualTo("no-store");
        assertThat(login.header("Pragma")).isEqualTo("no-cache");
        var refreshed = api.post("/api/v1/auth/refresh", null,
                Map.of("refreshToken", login.json().get("refreshToken").asText()));
        assertThat(refreshed.status()).isEqualTo(200);
        assertThat(refreshed.header("Cache-Control")).isEqualTo("no-store");
        String token = login.json().get("accessToken").asText();
        String org = api.newOrg(new Api.Session(null, null, token, null), "nostore");
        var key = api.post("/api/v1/organizations/" + org + "/api-keys", token, Map.of("name", "k", "role", "viewer"));
        assertThat(key.header("Cache-Control")).isEqualTo("no-store");
    }
}
