package ai.arches.workflows.tools;

import java.util.List;

import ai.arches.common.FieldError;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A built-in step a workflow node names with {@code "type": "tool", "tool": name}. A real
 * boundary: the executor runs any of them the same way (retries, timeout, cancel).
 */
public interface Tool {
    /** Keys of a node's config that belong to the executor, never to the tool. */
    List<String> EXECUTOR_KEYS = List.of("retry", "timeout");

    String name();

    /**
     * Problems with a node's config found when the workflow is saved (422), each under
     * {@code at} (e.g. {@code definition.nodes[2].config.ms}). String values holding templates
     * ({@code {{...}}}) are only known at run time and are not judged here.
     */
    default List<FieldError> check(ObjectNode config, String at) {
        return List.of();
    }

    /**
     * One attempt. Must stop promptly when its thread is interrupted (cancel, timeout). A
     * {@link ToolException}'s message becomes the step's error; any other exception is reported
     * by its class and message.
     */
    JsonNode run(ToolCall call) throws Exception;
}
