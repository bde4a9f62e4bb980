package ai.arches.workflows;

/** "{@code to} runs after {@code from}", by node id. */
public record Edge(String from, String to) {}
