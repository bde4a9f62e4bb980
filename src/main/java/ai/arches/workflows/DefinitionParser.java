package ai.arches.workflows;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import ai.arches.http.Input;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Reads the {@code definition} field of a request into a {@link Definition}, checking only its
 * shape: types, required keys, bounds, unknown keys. Problems go to the request's {@link Input}
 * under paths such as {@code definition.nodes[2].id}, so they surface as 400 together with the
 * other fields' problems when the caller validates. Whether the graph is a DAG is {@link Dag}'s
 * question (422), asked only of a well-formed definition.
 *
 * <p>Strings follow Input's rules: trimmed, bounded in code points, no NUL.
 */
final class DefinitionParser {
    static final int MAX_NODES = 500;
    static final int MAX_EDGES = 5000;
    private static final int MAX_ID = 100;
    private static final int MAX_TYPE = 100;
    private static final int MAX_TOOL = 200;
    private static final Set<String> DEFINITION_KEYS = Set.of("nodes", "edges");
    private static final Set<String> NODE_KEYS = Set.of("id", "type", "tool", "config");
    private static final Set<String> EDGE_KEYS = Set.of("from", "to");

    private final Input in;
    private boolean failed;

    private DefinitionParser(Input in) {
        this.in = in;
    }

    /** The required object field {@code field}; empty when absent or malformed (errors recorded). */
    static Optional<Definition> required(Input body, String field) {
        return body.requiredObject(field).flatMap(d -> new DefinitionParser(d).parse());
    }

    /** Like {@link #required} but absent is fine (PATCH); null is not. */
    static Optional<Definition> optional(Input body, String field) {
        if (!body.has(field)) {
            return Optional.empty();
        }
        if (body.raw().get(field).isNull()) {
            body.error(field, "must not be null");
            return Optional.empty();
        }
        return required(body, field);
    }

    private Optional<Definition> parse() {
        ObjectNode def = in.raw();
        rejectUnknown(def, "", DEFINITION_KEYS);
        List<Node> nodes = nodes(def.get("nodes"));
        List<Edge> edges = edges(def.get("edges"));
        return failed ? Optional.empty() : Optional.of(new Definition(nodes, edges));
    }

    private List<Node> nodes(JsonNode n) {
        if (n == null || n.isNull()) {
            error("nodes", "is required");
            return List.of();
        }
        if (!n.isArray()) {
            error("nodes", "must be an array of node objects");
            return List.of();
        }
        if (n.isEmpty() || n.size() > MAX_NODES) {
            error("nodes", "must have from 1 to " + MAX_NODES + " items");
            return List.of();
        }
        List<Node> out = new ArrayList<>(n.size());
        for (int i = 0; i < n.size(); i++) {
            String at = "nodes[" + i + "]";
            if (!(n.get(i) instanceof ObjectNode node)) {
                error(at, "must be a JSON object");
                continue;
            }
            rejectUnknown(node, at + ".", NODE_KEYS);
            String id = string(node, at, "id", MAX_ID, true);
            String type = string(node, at, "type", MAX_TYPE, true);
            String tool = string(node, at, "tool", MAX_TOOL, false);
            ObjectNode config = config(node, at);
            out.add(new Node(id, type, tool, config));
        }
        return out;
    }

    private List<Edge> edges(JsonNode n) {
        if (n == null) {
            return List.of();
        }
        if (!n.isArray()) {
            error("edges", n.isNull() ? "must not be null" : "must be an array of edge objects");
            return List.of();
        }
        if (n.size() > MAX_EDGES) {
            error("edges", "must have at most " + MAX_EDGES + " items");
            return List.of();
        }
        List<Edge> out = new ArrayList<>(n.size());
        for (int i = 0; i < n.size(); i++) {
            String at = "edges[" + i + "]";
            if (!(n.get(i) instanceof ObjectNode edge)) {
                error(at, "must be a JSON object");
                continue;
            }
            rejectUnknown(edge, at + ".", EDGE_KEYS);
            out.add(new Edge(string(edge, at, "from", MAX_ID, true), string(edge, at, "to", MAX_ID, true)));
        }
        return out;
    }

    private String string(ObjectNode obj, String at, String key, int max, boolean required) {
        String path = at + "." + key;
        JsonNode n = obj.get(key);
        if (n == null || (required && n.isNull())) {
            if (required) {
                error(path, "is required");
            }
            return null;
        }
        if (n.isNull()) {
            error(path, "must not be null");
            return null;
        }
        if (!n.isTextual()) {
            error(path, "must be a string");
            return null;
        }
        String s = n.textValue().strip();
        int len = s.codePointCount(0, s.length());
        if (len < 1) {
            error(path, "must not be empty");
        } else if (len > max) {
            error(path, "must be at most " + max + " characters");
        } else if (s.indexOf('\u0000') >= 0) {
            error(path, "must not contain NUL characters");
        } else {
            return s;
        }
        return null;
    }

    private ObjectNode config(ObjectNode node, String at) {
        JsonNode n = node.get("config");
        if (n == null) {
            return null;
        }
        if (!(n instanceof ObjectNode config)) {
            error(at + ".config", n.isNull() ? "must not be null" : "must be a JSON object");
            return null;
        }
        if (Input.containsNul(config)) {
            error(at + ".config", "must not contain NUL characters (PostgreSQL cannot store them)");
            return null;
        }
        return config;
    }

    private void rejectUnknown(ObjectNode obj, String at, Set<String> known) {
        Iterator<String> names = obj.fieldNames();
        while (names.hasNext()) {
            String name = names.next();
            if (!known.contains(name)) {
                error(at + name, "is not a known field");
            }
        }
    }

    private void error(String path, String message) {
        failed = true;
        in.error(path, message);
    }
}
