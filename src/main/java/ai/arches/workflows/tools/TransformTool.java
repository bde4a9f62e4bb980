package ai.arches.workflows.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * {@code transform}: reshapes data with templates. Returns {@code value} (any JSON, its strings
 * already resolved) when given, else the whole config without the executor's keys. Any key is
 * accepted: the config is the output.
 */
final class TransformTool implements Tool {
    @Override
    public String name() {
        return "transform";
    }

    @Override
    public JsonNode run(ToolCall call) {
        ObjectNode config = call.config();
        if (config == null) {
            return JsonNodeFactory.instance.objectNode();
        }
        if (config.has("value")) {
            return config.get("value").deepCopy();
        }
        ObjectNode out = config.deepCopy();
        out.remove(Tool.EXECUTOR_KEYS);
        return out;
    }
}
