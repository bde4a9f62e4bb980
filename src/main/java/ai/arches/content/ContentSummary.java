package ai.arches.content;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A document as a list page shows it: the first {@link #EXCERPT_CHARS} characters of the body
 * instead of the body, and {@code bodyLength} (in characters, Unicode code points) so a client
 * knows whether the excerpt is the whole body. {@code body} is present only when the list was
 * asked for it ({@code fields=body}); the full document is always at {@code GET …/content/{id}}.
 */
public record ContentSummary(UUID id, UUID organizationId, String title, String excerpt, int bodyLength,
                             @JsonInclude(JsonInclude.Include.NON_NULL) String body, String type, String mimeType,
                             List<String> tags, ObjectNode metadata, String embeddingStatus, UUID createdBy,
                             Instant createdAt, Instant updatedAt) {
    /** Enough to recognise a document in a list; cut at a character boundary (by PostgreSQL's left()). */
    public static final int EXCERPT_CHARS = 280;

    static final List<String> FIELDS = List.of("id", "organizationId", "title", "excerpt", "bodyLength", "body",
            "type", "mimeType", "tags", "metadata", "embeddingStatus", "createdBy", "createdAt", "updatedAt");
}
