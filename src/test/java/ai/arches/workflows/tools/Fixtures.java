package ai.arches.workflows.tools;

import java.time.Duration;
import java.util.List;
import java.util.UUID;

import ai.arches.config.ArchesConfig;
import ai.arches.config.Cidr;
import ai.arches.http.Json;
import ai.arches.organizations.Access;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** Config and calls for tool tests that need no database. */
final class Fixtures {
    private Fixtures() {}

    static ArchesConfig.Workflows workflows(List<Cidr> allow, long maxResponseBytes, String summarizeUrl) {
        return new ArchesConfig.Workflows(1, 1, 10, 100, Duration.ofSeconds(30), Duration.ofMillis(100),
                Duration.ofSeconds(30), new ArchesConfig.Http(allow, Duration.ofSeconds(5), maxResponseBytes),
                new ArchesConfig.Summarize(summarizeUrl, "test-model", "sk-test", Duration.ofSeconds(5)));
    }

    static ArchesConfig.Workflows workflows() {
        return workflows(List.of(), 1 << 20, "");
    }

    static ObjectNode config(String json) {
        try {
            return (ObjectNode) Json.MAPPER.readTree(json);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException(json, e);
        }
    }

    static ToolCall call(String configJson) {
        return call(null, configJson, null);
    }

    static ToolCall call(Access access, String configJson, JsonNode input) {
        return new ToolCall(access, UUID.randomUUID(), "node-1", 1, config(configJson), input);
    }
}
