package ai.arches.testing;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The contract check itself must catch what it claims to catch. */
class OpenApiContractTest {
    private static Api.Response response(String method, String path, int status, String type, String body) {
        HttpHeaders headers = HttpHeaders.of(type == null ? Map.of() : Map.of("Content-Type", List.of(type)), (a, b) -> true);
        return new Api.Response(status, headers, body.getBytes(StandardCharsets.UTF_8), method, path);
    }

    @Test
    void a_documented_response_passes() {
        assertThatCode(() -> OpenApiContract.check(response("GET", "/health", 200, "application/json", "{\"status\":\"ok\"}")))
                .doesNotThrowAnyException();
    }

    @Test
    void an_undocumented_status_fails() {
        assertThatThrownBy(() -> OpenApiContract.check(response("GET", "/health", 418, "application/json", "{}")))
                .isInstanceOf(AssertionError.class).hasMessageContaining("not documented");
    }

    @Test
    void a_body_that_breaks_the_schema_fails() {
        assertThatThrownBy(() -> OpenApiContract.check(response("GET", "/api/v1/users/me", 200, "application/json",
                "{\"id\":\"x\",\"email\":\"a@b.c\"}")))
                .isInstanceOf(AssertionError.class).hasMessageContaining("breaks its schema");
        assertThatThrownBy(() -> OpenApiContract.check(response("GET", "/api/v1/users/me", 401,
                "application/problem+json", "{\"title\":\"x\"}")))
                .isInstanceOf(AssertionError.class);
    }

    @Test
    void an_undocumented_operation_fails() {
        assertThatThrownBy(() -> OpenApiContract.check(response("GET", "/api/v1/secret", 200, "application/json", "{}")))
                .isInstanceOf(AssertionError.class).hasMessageContaining("undocumented operation");
    }
}
