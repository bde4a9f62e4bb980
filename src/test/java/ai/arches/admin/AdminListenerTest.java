package ai.arches.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.List;
import java.util.Map;

import ai.arches.http.ApiRouter;
import ai.arches.testing.Api;
import ai.arches.testing.ServerTest;
import ai.arches.testing.TestServer;

import org.junit.jupiter.api.Test;

/** The operators' listener: its own port and token, and nothing of it on the API port. */
class AdminListenerTest extends ServerTest {
    private static final String TOKEN = "admin-token-for-tests-0123456789";

    @Test
    void is_off_unless_a_port_is_set() {
        assertThat(server.arches().adminPort()).isEqualTo(-1);
        assertThat(server.arches().adminRoutes()).isEmpty();
    }

    @Test
    void answers_on_its_own_port_with_the_token_and_refuses_without_it() throws IOException {
        try (TestServer s = TestServer.startOn(server.database(),
                Map.of("admin.port", Integer.toString(freePort()), "admin.token", TOKEN))) {
            Api admin = new Api("http://127.0.0.1:" + s.arches().adminPort()).withoutContractCheck();
            for (String path : List.of("/debug/pprof/", "/debug/threads", "/debug/database/health")) {
                var refused = admin.get(path, null);
                assertThat(refused.status()).as(path).isEqualTo(401);
                assertThat(refused.header("Content-Type")).startsWith("application/problem+json");
                assertThat(admin.get(path, "not-the-admin-token-at-all-000").status()).as(path).isEqualTo(401);
                assertThat(admin.get(path, TOKEN).status()).as(path).isEqualTo(200);
            }
            // The API's own routes are not served here.
            assertThat(admin.get("/health", TOKEN).status()).isEqualTo(404);
            assertThat(admin.get("/api/v1/auth/me", TOKEN).status()).isEqualTo(404);
        }
    }

    @Test
    void nothing_of_it_answers_on_the_api_port() throws IOException {
        try (TestServer s = TestServer.startOn(server.database(), Map.of("admin.port", Integer.toString(freePort())))) {
            // Every route the admin listener registers, as it registered them: nothing to keep in step here.
            List<ApiRouter.Route> routes = s.arches().adminRoutes();
            assertThat(routes).extracting(ApiRouter.Route::template).contains("/debug/pprof/", "/debug/pprof/profile",
                    "/debug/pprof/wall", "/debug/pprof/allocs", "/debug/pprof/mutex", "/debug/pprof/heap",
                    "/debug/pprof/goroutine", "/debug/pprof/continuous", "/debug/threads", "/debug/queries",
                    "/debug/database/health", "/debug/database/advice");
            Api api = s.api().withoutContractCheck();
            for (ApiRouter.Route route : routes) {
                String path = route.template();
                assertThat(route.method()).as("%s: this test sends GET only", path).isEqualTo("GET");
                assertThat(api.get(path, null).status()).as(path).isEqualTo(404);
                assertThat(api.get(path + "?seconds=1", TOKEN).status()).as(path).isEqualTo(404);
            }
            // Open (no token set): the same paths answer on the admin port.
            Api admin = new Api("http://127.0.0.1:" + s.arches().adminPort()).withoutContractCheck();
            assertThat(admin.get("/debug/threads", null).status()).isEqualTo(200);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
