package ai.arches.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import ai.arches.testing.OpenApiContract;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/**
 * The API reference (/docs) shows an example for every request body and every response of every
 * operation, and each example is what the API would really send or accept: it passes its own
 * schema. No server needed.
 */
class OpenApiExamplesTest {
    private static final Set<String> METHODS = Set.of("get", "post", "put", "patch", "delete");

    @Test
    void every_operation_has_valid_examples_for_its_request_and_responses() {
        List<String> missing = new ArrayList<>();
        List<String> invalid = new ArrayList<>();
        int checked = 0;
        for (Map.Entry<String, JsonNode> path : OpenApiContract.DOC.path("paths").properties()) {
            for (Map.Entry<String, JsonNode> method : path.getValue().properties()) {
                if (!METHODS.contains(method.getKey())) {
                    continue;
                }
                String op = method.getKey().toUpperCase() + " " + path.getKey();
                JsonNode body = OpenApiContract.resolved(method.getValue().path("requestBody"));
                checked += check(op + " request", body.path("content"), missing, invalid);
                for (Map.Entry<String, JsonNode> r : method.getValue().path("responses").properties()) {
                    checked += check(op + " " + r.getKey(), OpenApiContract.resolved(r.getValue()).path("content"), missing, invalid);
                }
            }
        }
        assertThat(missing).as("media types without an example").isEmpty();
        assertThat(invalid).as("examples that break their schema").isEmpty();
        assertThat(checked).isGreaterThan(300);
    }

    /** Checks each media type's examples; returns how many it checked. */
    private static int check(String where, JsonNode content, List<String> missing, List<String> invalid) {
        int n = 0;
        for (Map.Entry<String, JsonNode> media : content.properties()) {
            List<JsonNode> examples = new ArrayList<>();
            JsonNode m = media.getValue();
            if (m.has("example")) {
                examples.add(m.get("example"));
            }
            m.path("examples").forEach(e -> examples.add(OpenApiContract.resolved(e).path("value")));
            if (examples.isEmpty()) {
                missing.add(where + " " + media.getKey());
            }
            for (JsonNode example : examples) {
                n++;
                var errors = OpenApiContract.violations(m.path("schema"), example);
                if (!errors.isEmpty()) {
                    invalid.add(where + " " + media.getKey() + ": " + errors);
                }
            }
        }
        return n;
    }
}
