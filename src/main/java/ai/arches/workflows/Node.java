package ai.arches.workflows;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** One step of a workflow; {@code tool} and {@code config} are optional and omitted when absent. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Node(String id, String type, String tool, ObjectNode config) {}
