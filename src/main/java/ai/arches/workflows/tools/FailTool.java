package ai.arches.workflows.tools;

import java.util.List;

import ai.arches.common.FieldError;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** {@code fail}: always fails with {@code message}; for testing retries and failure paths. */
final class FailTool implements Tool {
    static final String DEFAULT_MESSAGE = "failed on purpose";

    @Override
    public String name() {
        return "fail";
    }

    @Override
    public List<FieldError> check(ObjectNode config, String at) {
        Args a = Args.check(config, at);
        a.string("message", false, 1, 2000, false);
        return a.done();
    }

    @Override
    public JsonNode run(ToolCall call) {
        Args a = Args.run(call.config());
        String message = a.string("message", false, 1, 2000, false);
        a.done();
        throw new ToolException(message == null ? DEFAULT_MESSAGE : message);
    }
}
