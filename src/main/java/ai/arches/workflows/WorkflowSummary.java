package ai.arches.workflows;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * A workflow as a list page shows it: the size of its graph ({@code nodeCount}, {@code edgeCount})
 * instead of the graph, which can be as large as a request body. {@code definition} is present
 * only when the list was asked for it ({@code fields=definition}); it is always at
 * {@code GET …/workflows/{id}}.
 */
public record WorkflowSummary(UUID id, UUID organizationId, String name, String description, int nodeCount,
                              int edgeCount, @JsonInclude(JsonInclude.Include.NON_NULL) Definition definition,
                              String status, UUID createdBy, Instant createdAt, Instant updatedAt) {
    static final List<String> FIELDS = List.of("id", "organizationId", "name", "description", "nodeCount",
            "edgeCount", "definition", "status", "createdBy", "createdAt", "updatedAt");
}
