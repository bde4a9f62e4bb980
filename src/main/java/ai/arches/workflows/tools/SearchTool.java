package ai.arches.workflows.tools;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import ai.arches.common.FieldError;
import ai.arches.content.Search;
import ai.arches.content.SearchHit;
import ai.arches.content.SearchRequest;
import ai.arches.content.SearchResults;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * {@code search}: the content search of the API ({@code POST .../content/search}) for the run's
 * organization, with the API's bounds and defaults (no threshold, both hybrid weights 1).
 * {@code mode} in the output is the mode that answered: hybrid degrades to keyword while the
 * embedding provider is down.
 */
final class SearchTool implements Tool {
    static final int MAX_QUERY = 1000;
    static final int MAX_LIMIT = 100;
    static final int DEFAULT_LIMIT = 10;
    private static final Map<String, SearchRequest.Mode> MODES = Map.of("semantic", SearchRequest.Mode.SEMANTIC,
            "keyword", SearchRequest.Mode.KEYWORD, "hybrid", SearchRequest.Mode.HYBRID);

    private final Search search;
    private final ObjectMapper json;

    SearchTool(Search search, ObjectMapper json) {
        this.search = search;
        this.json = json;
    }

    @Override
    public String name() {
        return "search";
    }

    @Override
    public List<FieldError> check(ObjectNode config, String at) {
        Args a = Args.check(config, at);
        request(a);
        return a.done();
    }

    @Override
    public JsonNode run(ToolCall call) {
        Args a = Args.run(call.config());
        SearchRequest r = request(a);
        a.done();
        SearchResults found = search.search(call.access(), r);
        ObjectNode out = json.createObjectNode();
        ArrayNode results = out.putArray("results");
        for (SearchHit h : found.data()) {
            results.addObject().put("id", h.id().toString()).put("title", h.title()).put("snippet", h.snippet())
                    .put("score", h.score());
        }
        return out.put("mode", found.mode()).put("count", found.data().size());
    }

    private static SearchRequest request(Args a) {
        String query = a.string("query", true, MAX_QUERY);
        String mode = a.oneOf("mode", "hybrid", MODES.keySet());
        int limit = (int) a.number("limit", 1, MAX_LIMIT, DEFAULT_LIMIT);
        List<String> tags = a.strings("tags", 50, 64);
        var filters = tags == null || tags.isEmpty() ? SearchRequest.Filters.NONE
                : new SearchRequest.Filters(tags, Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());
        return new SearchRequest(query, MODES.get(mode), limit, Optional.empty(), filters, 1, 1);
    }
}
