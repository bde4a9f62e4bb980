package ai.arches.workflows.tools;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import ai.arches.common.FieldError;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A node's config read key by key with one set of rules for both moments a tool meets it, so
 * what a save accepts is what a run accepts. When checking a saved workflow, every problem is
 * collected under its JSON path and strings holding {@code {{...}}} are skipped: their value is only
 * known once the run resolves them. When running, templates are already resolved and the first
 * problem throws a {@link ToolException}. Getters return null (or the fallback) for a value that
 * is absent, wrong, or not yet known; callers in check mode go on with the next key.
 *
 * <p>Strings follow the API's input rules: trimmed (body texts excepted), bounded in code points,
 * no NUL (PostgreSQL cannot store it).
 */
final class Args {
    private static final ObjectNode EMPTY = JsonNodeFactory.instance.objectNode();

    private final ObjectNode config;
    private final String at;
    /** Null in run mode. */
    private final List<FieldError> errors;
    private final Set<String> known = new HashSet<>(Tool.EXECUTOR_KEYS);

    private Args(ObjectNode config, String at, List<FieldError> errors) {
        this.config = config == null ? EMPTY : config;
        this.at = at;
        this.errors = errors;
    }

    static Args run(ObjectNode config) {
        return new Args(config, "config", null);
    }

    static Args check(ObjectNode config, String at) {
        return new Args(config, at, new ArrayList<>());
    }

    boolean checking() {
        return errors != null;
    }

    /** Present and not JSON null. */
    boolean has(String key) {
        known.add(key);
        JsonNode n = config.get(key);
        return n != null && !n.isNull();
    }

    /** The raw value, or null when absent or JSON null. */
    JsonNode node(String key) {
        known.add(key);
        JsonNode n = config.get(key);
        return n == null || n.isNull() ? null : n;
    }

    /** True while checking a value whose templates the run has yet to fill in. */
    boolean pending(JsonNode n) {
        return checking() && n != null && n.isTextual() && n.textValue().contains("{{");
    }

    /** A string trimmed (unless {@code raw}) and bounded in code points. */
    String string(String key, boolean required, int min, int max, boolean raw) {
        JsonNode n = node(key);
        if (n == null) {
            if (required) {
                problem(key, "is required");
            }
            return null;
        }
        if (pending(n)) {
            return null;
        }
        return text(key, n, min, max, raw);
    }

    String string(String key, boolean required, int max) {
        return string(key, required, required ? 1 : 0, max, false);
    }

    /** A whole number, given as a JSON number or a numeric string (what a template yields). */
    long number(String key, long min, long max, long fallback) {
        JsonNode n = node(key);
        if (n == null || pending(n)) {
            return fallback;
        }
        Long v = null;
        if (n.isIntegralNumber() && n.canConvertToLong()) {
            v = n.longValue();
        } else if (n.isNumber() && n.doubleValue() == Math.rint(n.doubleValue()) && Math.abs(n.doubleValue()) < 1e15) {
            v = (long) n.doubleValue();
        } else if (n.isTextual()) {
            try {
                v = Long.parseLong(n.textValue().strip());
            } catch (NumberFormatException e) {
                v = null;
            }
        }
        if (v == null || v < min || v > max) {
            problem(key, "must be a whole number from " + min + " to " + max);
            return fallback;
        }
        return v;
    }

    /** true or false, as JSON or as a string. */
    boolean flag(String key, boolean fallback) {
        JsonNode n = node(key);
        if (n == null || pending(n)) {
            return fallback;
        }
        if (n.isBoolean()) {
            return n.booleanValue();
        }
        if (n.isTextual() && (n.textValue().strip().equals("true") || n.textValue().strip().equals("false"))) {
            return n.textValue().strip().equals("true");
        }
        problem(key, "must be true or false");
        return fallback;
    }

    /** One of {@code allowed} (compared as written). */
    String oneOf(String key, String fallback, Set<String> allowed) {
        JsonNode n = node(key);
        if (n == null || pending(n)) {
            return fallback;
        }
        if (!n.isTextual() || !allowed.contains(n.textValue().strip())) {
            problem(key, "must be one of " + String.join(", ", new java.util.TreeSet<>(allowed)));
            return fallback;
        }
        return n.textValue().strip();
    }

    /** An array of trimmed, non-empty strings, duplicates dropped; null when absent. */
    List<String> strings(String key, int maxItems, int maxLength) {
        JsonNode n = node(key);
        if (n == null || pending(n)) {
            return null;
        }
        if (!n.isArray()) {
            problem(key, "must be an array of strings");
            return null;
        }
        if (n.size() > maxItems) {
            problem(key, "must have at most " + maxItems + " items");
            return null;
        }
        Set<String> out = new LinkedHashSet<>();
        for (int i = 0; i < n.size(); i++) {
            if (pending(n.get(i))) {
                continue;
            }
            String s = text(key + "[" + i + "]", n.get(i), 1, maxLength, false);
            if (s != null) {
                out.add(s);
            }
        }
        return List.copyOf(out);
    }

    /** A JSON object; null when absent. */
    ObjectNode object(String key) {
        JsonNode n = node(key);
        if (n == null || pending(n)) {
            return null;
        }
        if (!(n instanceof ObjectNode o)) {
            problem(key, "must be a JSON object");
            return null;
        }
        return o;
    }

    /** Records (check) or throws (run) a problem with {@code key}. */
    void problem(String key, String message) {
        if (errors == null) {
            throw new ToolException("config." + key + " " + message);
        }
        errors.add(new FieldError(at + "." + key, message));
    }

    /** A problem of the config as a whole, such as two keys that exclude each other. */
    void problem(String message) {
        if (errors == null) {
            throw new ToolException("config " + message);
        }
        errors.add(new FieldError(at, message));
    }

    /**
     * Ends the reading: keys nobody asked for are problems (a typo such as {@code "limt"} would
     * otherwise be silently ignored). Returns what check mode collected.
     */
    List<FieldError> done() {
        Iterator<String> names = config.fieldNames();
        while (names.hasNext()) {
            String name = names.next();
            if (!known.contains(name)) {
                problem(name, "is not a known field");
            }
        }
        return errors == null ? List.of() : List.copyOf(errors);
    }

    private String text(String key, JsonNode n, int min, int max, boolean raw) {
        if (!n.isTextual()) {
            problem(key, "must be a string");
            return null;
        }
        String s = raw ? n.textValue() : n.textValue().strip();
        int len = s.codePointCount(0, s.length());
        if (len < min) {
            problem(key, min == 1 ? "must not be empty" : "must be at least " + min + " characters");
            return null;
        }
        if (len > max) {
            problem(key, "must be at most " + max + " characters");
            return null;
        }
        if (s.indexOf('\u0000') >= 0) {
            problem(key, "must not contain NUL characters");
            return null;
        }
        return s;
    }
}
