package ai.arches.workflows;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

/** A workflow: a named DAG of tool steps with a lifecycle status (draft, active, paused, archived). */
public record Workflow(UUID id, UUID organizationId, String name, String description, Definition definition,
                       String status, UUID createdBy, Instant createdAt, Instant updatedAt) {
    static final List<String> FIELDS = List.of("id", "organizationId", "name", "description", "definition",
            "status", "createdBy", "createdAt", "updatedAt");
}
