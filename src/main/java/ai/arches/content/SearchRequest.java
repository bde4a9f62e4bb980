package ai.arches.content;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** A validated search: see {@link Search} for what each part means. */
public record SearchRequest(String query, Mode mode, int limit, Optional<Double> threshold, Filters filters,
                            double semanticWeight, double keywordWeight) {

    public enum Mode {
        SEMANTIC, KEYWORD, HYBRID;

        public String wire() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** Conditions every result meets; empty parts do not filter. */
    public record Filters(List<String> tags, Optional<String> type, Optional<Instant> createdAfter,
                          Optional<Instant> createdBefore, Optional<ObjectNode> metadata) {
        public static final Filters NONE = new Filters(List.of(), Optional.empty(), Optional.empty(),
                Optional.empty(), Optional.empty());

        boolean any() {
            return !tags.isEmpty() || type.isPresent() || createdAfter.isPresent() || createdBefore.isPresent()
                    || metadata.isPresent();
        }
    }
}
