package ai.arches.workflows;

import java.time.Instant;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One node of a run as clients see it. {@code error} is the last attempt's error, also while a
 * retry waits ({@code status} pending, {@code nextAttemptAt} set).
 */
public record Step(String nodeId, String tool, String status, int attempts, Instant startedAt, Instant finishedAt,
                   Instant nextAttemptAt, JsonNode output, String error) {
    static final List<String> FIELDS = List.of("nodeId", "tool", "status", "attempts", "startedAt", "finishedAt",
            "nextAttemptAt", "output", "error");
}
