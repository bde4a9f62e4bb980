package ai.arches.common;

/** One invalid input field: {@code field} is a JSON path such as {@code definition.edges[2].to}. */
public record FieldError(String field, String message) {}
