package ai.arches.http;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

import ai.arches.common.FieldError;
import ai.arches.common.InvalidInputException;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Reads fields from a JSON object body, collecting every problem before failing, so a client
 * learns all that is wrong with one request. Wrong types and broken bounds are 400 with one
 * {@link FieldError} each; fields the endpoint does not know are rejected too.
 *
 * <p>Usage: read all fields, then call {@link #validate()} before using any value.
 */
public final class Input {
    private final ObjectNode body;
    private final String prefix;
    private final List<FieldError> errors;
    private final Set<String> known = new LinkedHashSet<>();

    public Input(ObjectNode body) {
        this(body, "", new ArrayList<>());
    }

    private Input(ObjectNode body, String prefix, List<FieldError> errors) {
        this.body = body;
        this.prefix = prefix;
        this.errors = errors;
    }

    public boolean has(String field) {
        known.add(field);
        return body.has(field);
    }

    /** A required string, trimmed, with a length bound in characters. */
    public String requiredString(String field, int min, int max) {
        return requiredString(field, min, max, null);
    }

    /** An optional string: absent gives empty; null is refused unless the field is nullable. */
    public Optional<String> optionalString(String field, int min, int max) {
        return optionalString(field, min, max, null);
    }

    public Optional<String> optionalString(String field, int min, int max, Pattern pattern) {
        JsonNode n = optional(field);
        return n == null ? Optional.empty() : Optional.ofNullable(check(field, n, min, max, pattern, true));
    }

    public String requiredString(String field, int min, int max, Pattern pattern) {
        JsonNode n = required(field);
        return n == null ? null : check(field, n, min, max, pattern, true);
    }

    /** Like {@link #requiredString} but kept exactly as sent (document text is not trimmed). */
    public String requiredText(String field, int min, int max) {
        JsonNode n = required(field);
        return n == null ? null : check(field, n, min, max, null, false);
    }

    /** Like {@link #optionalString} but kept exactly as sent. */
    public Optional<String> optionalText(String field, int min, int max) {
        JsonNode n = optional(field);
        return n == null ? Optional.empty() : Optional.ofNullable(check(field, n, min, max, null, false));
    }

    /** A required string that must be one of the given values. */
    public <E extends Enum<E>> Optional<E> optionalEnum(String field, Class<E> type, Map<String, E> values) {
        known.add(field);
        JsonNode n = body.get(field);
        if (n == null) {
            return Optional.empty();
        }
        if (!n.isTextual() || !values.containsKey(n.textValue())) {
            error(field, "must be one of " + String.join(", ", values.keySet()));
            return Optional.empty();
        }
        return Optional.of(values.get(n.textValue()));
    }

    public <E extends Enum<E>> E requiredEnum(String field, Class<E> type, Map<String, E> values) {
        if (!body.has(field) || body.get(field).isNull()) {
            known.add(field);
            error(field, "is required (one of " + String.join(", ", values.keySet()) + ")");
            return null;
        }
        return optionalEnum(field, type, values).orElse(null);
    }

    /** An optional array of strings, each trimmed and bounded; duplicates are dropped, order kept. */
    public Optional<List<String>> optionalStringList(String field, int maxItems, int maxLength) {
        known.add(field);
        JsonNode n = body.get(field);
        if (n == null) {
            return Optional.empty();
        }
        if (!n.isArray()) {
            error(field, "must be an array of strings");
            return Optional.empty();
        }
        if (n.size() > maxItems) {
            error(field, "must have at most " + maxItems + " items");
            return Optional.empty();
        }
        Set<String> out = new LinkedHashSet<>();
        for (int i = 0; i < n.size(); i++) {
            String s = check(field + "[" + i + "]", n.get(i), 1, maxLength, null, true);
            if (s != null) {
                out.add(s);
            }
        }
        return Optional.of(List.copyOf(out));
    }

    /** An optional JSON object (kept as a tree). */
    public Optional<ObjectNode> optionalObject(String field) {
        known.add(field);
        JsonNode n = body.get(field);
        if (n == null) {
            return Optional.empty();
        }
        if (!n.isObject()) {
            error(field, "must be a JSON object");
            return Optional.empty();
        }
        if (containsNul(n)) {
            error(field, "must not contain NUL characters (PostgreSQL cannot store them)");
            return Optional.empty();
        }
        return Optional.of((ObjectNode) n);
    }

    /** An optional whole number within bounds (JSON integers only; 10.0 or "10" are refused). */
    public Optional<Integer> optionalInt(String field, int min, int max) {
        JsonNode n = optional(field);
        if (n == null) {
            return Optional.empty();
        }
        if (!n.isIntegralNumber() || !n.canConvertToLong() || n.longValue() < min || n.longValue() > max) {
            error(field, "must be a whole number from " + min + " to " + max);
            return Optional.empty();
        }
        return Optional.of(n.intValue());
    }

    /** An optional finite number within bounds. */
    public Optional<Double> optionalDouble(String field, double min, double max) {
        JsonNode n = optional(field);
        if (n == null) {
            return Optional.empty();
        }
        if (!n.isNumber() || !Double.isFinite(n.doubleValue()) || n.doubleValue() < min || n.doubleValue() > max) {
            error(field, "must be a number from " + min + " to " + max);
            return Optional.empty();
        }
        return Optional.of(n.doubleValue());
    }

    /** An optional RFC 3339 timestamp with an offset, such as 2026-01-31T12:00:00Z. */
    public Optional<java.time.Instant> optionalInstant(String field) {
        return optionalString(field, 1, 64).flatMap(v -> {
            try {
                return Optional.of(java.time.OffsetDateTime.parse(v).toInstant());
            } catch (java.time.format.DateTimeParseException e) {
                error(field, "must be an RFC 3339 timestamp such as 2026-01-31T12:00:00Z");
                return Optional.empty();
            }
        });
    }

    /**
     * An optional JSON object read field by field with a nested Input (same error list); call
     * {@link #rejectUnknown()} on it once its fields are read.
     */
    public Optional<Input> optionalObjectInput(String field) {
        JsonNode n = optional(field);
        if (n == null) {
            return Optional.empty();
        }
        if (!n.isObject()) {
            error(field, "must be a JSON object");
            return Optional.empty();
        }
        return Optional.of(new Input((ObjectNode) n, path(field) + ".", errors));
    }

    /** A required JSON object, read field by field with a nested Input (same error list). */
    public Optional<Input> requiredObject(String field) {
        known.add(field);
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            error(field, "is required");
            return Optional.empty();
        }
        if (!n.isObject()) {
            error(field, "must be a JSON object");
            return Optional.empty();
        }
        return Optional.of(new Input((ObjectNode) n, path(field) + ".", errors));
    }

    public ObjectNode raw() {
        return body;
    }

    public void error(String field, String message) {
        errors.add(new FieldError(path(field), message));
    }

    /** Fields present in the body that the endpoint never asked for. */
    public void rejectUnknown() {
        Iterator<String> names = body.fieldNames();
        while (names.hasNext()) {
            String name = names.next();
            if (!known.contains(name)) {
                error(name, "is not a known field");
            }
        }
    }

    /** Throws 400 with every collected error, if any; rejects unknown fields first. */
    public void validate() {
        rejectUnknown();
        if (!errors.isEmpty()) {
            throw new InvalidInputException(errors.size() == 1
                    ? errors.getFirst().field() + " " + errors.getFirst().message()
                    : errors.size() + " fields are invalid", errors);
        }
    }

    /** Requires that at least one of the fields is present (PATCH bodies). */
    public void requireAnyOf(String... fields) {
        for (String f : fields) {
            if (body.has(f)) {
                return;
            }
        }
        errors.add(new FieldError(prefix.isEmpty() ? "body" : prefix.substring(0, prefix.length() - 1),
                "must contain at least one of " + String.join(", ", fields)));
    }

    /** The field's node, or null after recording "is required" when absent or null. */
    private JsonNode required(String field) {
        known.add(field);
        JsonNode n = body.get(field);
        if (n == null || n.isNull()) {
            error(field, "is required");
            return null;
        }
        return n;
    }

    /** The field's node, or null when absent; an explicit null is an error. */
    private JsonNode optional(String field) {
        known.add(field);
        JsonNode n = body.get(field);
        if (n != null && n.isNull()) {
            error(field, "must not be null");
            return null;
        }
        return n;
    }

    private String check(String field, JsonNode n, int min, int max, Pattern pattern, boolean strip) {
        if (!n.isTextual()) {
            error(field, "must be a string");
            return null;
        }
        String s = strip ? n.textValue().strip() : n.textValue();
        int len = s.codePointCount(0, s.length());
        if (len < min) {
            error(field, min == 1 ? "must not be empty" : "must be at least " + min + " characters");
            return null;
        }
        if (len > max) {
            error(field, "must be at most " + max + " characters");
            return null;
        }
        if (s.indexOf('\u0000') >= 0) {
            error(field, "must not contain NUL characters");
            return null;
        }
        if (pattern != null && !pattern.matcher(s).matches()) {
            error(field, "must match " + pattern.pattern());
            return null;
        }
        return s;
    }

    /** True when any string or key in the tree holds U+0000, which PostgreSQL cannot store. */
    public static boolean containsNul(JsonNode n) {
        if (n.isTextual()) {
            return n.textValue().indexOf('\u0000') >= 0;
        }
        if (n.isObject()) {
            var it = n.properties().iterator();
            while (it.hasNext()) {
                var e = it.next();
                if (e.getKey().indexOf('\u0000') >= 0 || containsNul(e.getValue())) {
                    return true;
                }
            }
        } else if (n.isArray()) {
            for (JsonNode c : n) {
                if (containsNul(c)) {
                    return true;
                }
            }
        }
        return false;
    }

    private String path(String field) {
        return prefix + field;
    }
}
