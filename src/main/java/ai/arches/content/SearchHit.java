package ai.arches.content;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One search result: the document's fields (never its body) with the passage that matched best
 * as the snippet. {@code score} is on the scale of the mode (see {@link Search});
 * {@code semanticScore} and {@code keywordScore} show the parts hybrid fused, null where a
 * side did not find the document.
 */
public record SearchHit(UUID id, UUID organizationId, String title, String snippet, double score,
                        Double semanticScore, Double keywordScore, String type, String mimeType, List<String> tags,
                        ObjectNode metadata, String embeddingStatus, UUID createdBy, Instant createdAt,
                        Instant updatedAt) {
    static final List<String> FIELDS = List.of("id", "organizationId", "title", "snippet", "score", "semanticScore",
            "keywordScore", "type", "mimeType", "tags", "metadata", "embeddingStatus", "createdBy", "createdAt",
            "updatedAt");
}
