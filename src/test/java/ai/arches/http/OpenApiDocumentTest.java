package ai.arches.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Set;
import java.util.TreeSet;

import ai.arches.testing.OpenApiContract;
import ai.arches.testing.ServerTest;

import org.junit.jupiter.api.Test;

class OpenApiDocumentTest extends ServerTest {

    @Test
    void every_served_route_is_documented_and_every_documented_route_is_served() {
        Set<String> served = new TreeSet<>();
        server.arches().routes().forEach(r -> served.add(r.method() + " " + r.template()));
        Set<String> documented = OpenApiContract.documentedRoutes();
        assertThat(documented).as("documented but not served").isSubsetOf(served);
        assertThat(served).as("served but not documented").isSubsetOf(documented);
    }

    @Test
    void the_document_is_served_and_is_openapi_3_1() {
        var r = api.get("/api/v1/openapi.json", null);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("openapi").asText()).startsWith("3.1");
        assertThat(r.json()).isEqualTo(OpenApiContract.DOC);
    }
}
