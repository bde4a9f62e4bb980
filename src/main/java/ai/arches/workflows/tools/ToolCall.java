package ai.arches.workflows.tools;

import java.util.UUID;

import ai.arches.organizations.Access;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One attempt of one step: {@code access} is the run's organization with the rights of whoever
 * started it (capped at member); {@code config} has its templates resolved; {@code input} is the
 * run's input for a node without predecessors, the predecessor's output for a node with one, and
 * an object of outputs keyed by node id for a node with several.
 */
public record ToolCall(Access access, UUID runId, String nodeId, int attempt, ObjectNode config, JsonNode input) {}
