package ai.arches.workflows;

import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import ai.arches.http.Json;
import ai.arches.workflows.tools.ToolException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Data flow between steps: string values of a node's config may hold {@code {{input.a.b}}} (the
 * run's input) and {@code {{steps.<nodeId>.a.0.b}}} (an earlier step's output); a path segment
 * that is a number indexes an array. A string that is exactly one template becomes the value it
 * names, whatever its type (so objects and numbers pass through); inside longer text a value is
 * written as text (strings as they are, anything else as JSON). A path that names nothing fails
 * the step: a silent null would only surface steps later, far from the typo.
 */
final class Templates {
    private static final Pattern TEMPLATE = Pattern.compile("\\{\\{\\s*([A-Za-z0-9_.\\-]+)\\s*}}");

    private Templates() {}

    static JsonNode resolve(JsonNode value, JsonNode input, Map<String, JsonNode> outputs) {
        if (value instanceof ObjectNode o) {
            ObjectNode out = Json.MAPPER.createObjectNode();
            Iterator<Map.Entry<String, JsonNode>> it = o.fields();
            while (it.hasNext()) {
                var e = it.next();
                out.set(e.getKey(), resolve(e.getValue(), input, outputs));
            }
            return out;
        }
        if (value instanceof ArrayNode a) {
            ArrayNode out = Json.MAPPER.createArrayNode();
            a.forEach(v -> out.add(resolve(v, input, outputs)));
            return out;
        }
        if (value == null || !value.isTextual() || !value.textValue().contains("{{")) {
            return value;
        }
        String text = value.textValue();
        Matcher m = TEMPLATE.matcher(text);
        if (m.matches()) {
            return lookup(m.group(1), input, outputs);
        }
        StringBuilder sb = new StringBuilder();
        m.reset();
        while (m.find()) {
            JsonNode v = lookup(m.group(1), input, outputs);
            m.appendReplacement(sb, Matcher.quoteReplacement(v.isTextual() ? v.textValue() : v.toString()));
        }
        m.appendTail(sb);
        return Json.MAPPER.getNodeFactory().textNode(sb.toString());
    }

    /** The node ids a config's templates read ({@code steps.<id>...}), to check against the graph when saved. */
    static Set<String> stepsReferenced(JsonNode value) {
        Set<String> out = new LinkedHashSet<>();
        collect(value, out);
        return out;
    }

    private static void collect(JsonNode value, Set<String> out) {
        if (value == null) {
            return;
        }
        if (value.isContainerNode()) {
            value.forEach(v -> collect(v, out));
            return;
        }
        if (value.isTextual()) {
            Matcher m = TEMPLATE.matcher(value.textValue());
            while (m.find()) {
                String[] path = m.group(1).split("\\.");
                if (path[0].equals("steps") && path.length > 1) {
                    out.add(path[1]);
                }
            }
        }
    }

    private static JsonNode lookup(String path, JsonNode input, Map<String, JsonNode> outputs) {
        String[] parts = path.split("\\.");
        JsonNode at;
        int i;
        if (parts[0].equals("input")) {
            at = input;
            i = 1;
        } else if (parts[0].equals("steps") && parts.length > 1) {
            at = outputs.get(parts[1]);
            if (at == null) {
                throw new ToolException("template {{" + path + "}}: step '" + parts[1] + "' has no output (it is "
                        + "not an earlier step of this run, or it has not succeeded)");
            }
            i = 2;
        } else {
            throw new ToolException("template {{" + path + "}}: must start with input. or steps.<nodeId>");
        }
        for (; i < parts.length; i++) {
            JsonNode next = at == null ? null : at.isArray() && parts[i].matches("\\d{1,9}")
                    ? at.get(Integer.parseInt(parts[i])) : at.get(parts[i]);
            if (next == null || next.isMissingNode()) {
                throw new ToolException("template {{" + path + "}}: nothing at '" + parts[i] + "'");
            }
            at = next;
        }
        return at == null ? Json.MAPPER.nullNode() : at;
    }
}
