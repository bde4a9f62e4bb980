package ai.arches.workflows;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * A workflow run. {@code progress} is the share of its steps that have finished (0 to 1);
 * {@code output} holds the outputs of its sink nodes keyed by node id once it succeeded.
 * {@code steps} is absent in list pages.
 */
public record Run(UUID id, UUID organizationId, UUID workflowId, String status, JsonNode input, JsonNode output,
                  String error, double progress, UUID createdBy, Instant createdAt, Instant startedAt,
                  Instant finishedAt, Instant updatedAt, @JsonInclude(JsonInclude.Include.NON_NULL) List<Step> steps) {
    static final List<String> FIELDS = List.of("id", "organizationId", "workflowId", "status", "input", "output",
            "error", "progress", "createdBy", "createdAt", "startedAt", "finishedAt", "updatedAt", "steps");

    Run withoutSteps() {
        return new Run(id, organizationId, workflowId, status, input, output, error, progress, createdBy, createdAt,
                startedAt, finishedAt, updatedAt, null);
    }
}
