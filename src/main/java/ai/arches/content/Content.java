package ai.arches.content;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A document as the API shows it. The embedding vector itself is never part of it; only its
 * status (pending, processing, ready, failed) is.
 */
public record Content(UUID id, UUID organizationId, String title, String body, String type, String mimeType,
                      List<String> tags, ObjectNode metadata, String embeddingStatus, UUID createdBy,
                      Instant createdAt, Instant updatedAt) {
    static final List<String> FIELDS = List.of("id", "organizationId", "title", "body", "type", "mimeType", "tags",
            "metadata", "embeddingStatus", "createdBy", "createdAt", "updatedAt");
}
