package ai.arches.content;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

import ai.arches.auth.Role;
import ai.arches.common.FieldError;
import ai.arches.common.Ids;
import ai.arches.common.InvalidInputException;
import ai.arches.http.ApiRouter;
import ai.arches.http.Input;
import ai.arches.http.JsonIo;
import ai.arches.organizations.Access;
import ai.arches.organizations.OrgGuard;

import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/** Search over an organization's content, and documents similar to one. Viewers may search. */
public final class SearchRoutes {
    private static final Pattern TYPE = Pattern.compile("^[a-z][a-z0-9_-]{0,49}$");
    private static final Map<String, SearchRequest.Mode> MODES = new java.util.TreeMap<>(Map.of(
            "semantic", SearchRequest.Mode.SEMANTIC, "keyword", SearchRequest.Mode.KEYWORD,
            "hybrid", SearchRequest.Mode.HYBRID));
    static final int MAX_LIMIT = 100;
    static final int DEFAULT_LIMIT = 10;

    private final Search search;
    private final OrgGuard orgGuard;
    private final JsonIo io;

    public SearchRoutes(Search search, OrgGuard orgGuard, JsonIo io) {
        this.search = search;
        this.orgGuard = orgGuard;
        this.io = io;
    }

    public void register(ApiRouter r, String base) {
        String content = base + "/organizations/{org}/content";
        r.post(content + "/search", orgGuard.at(Role.VIEWER, this::search));
        r.get(content + "/{id}/similar", orgGuard.at(Role.VIEWER, this::similar));
    }

    private void search(Access access, ServerRequest req, ServerResponse res) {
        // Fields are checked before the body is read, so a bad ?fields= costs no search.
        JsonIo.fields(req, SearchHit.FIELDS);
        SearchRequest r = parse(io.readInput(req));
        io.send(req, res, Status.OK_200, search.search(access, r), SearchHit.FIELDS);
    }

    private void similar(Access access, ServerRequest req, ServerResponse res) {
        UUID id = Ids.parse(req.path().pathParameters().get("id")).orElseThrow(Contents::notFound);
        int limit = limit(req.query().first("limit").orElse(null));
        JsonIo.fields(req, SearchHit.FIELDS);
        io.send(req, res, Status.OK_200, search.similar(access, id, limit), SearchHit.FIELDS);
    }

    static SearchRequest parse(Input in) {
        String query = in.requiredString("query", 1, 1000);
        var mode = in.optionalEnum("mode", SearchRequest.Mode.class, MODES).orElse(SearchRequest.Mode.HYBRID);
        int limit = in.optionalInt("limit", 1, MAX_LIMIT).orElse(DEFAULT_LIMIT);
        Optional<Double> threshold = in.optionalDouble("threshold", 0, 1);
        SearchRequest.Filters filters = in.optionalObjectInput("filters").map(f -> {
            var parsed = new SearchRequest.Filters(
                    f.optionalStringList("tags", 50, 64).orElse(List.of()),
                    f.optionalString("type", 1, 50, TYPE),
                    f.optionalInstant("createdAfter"),
                    f.optionalInstant("createdBefore"),
                    f.optionalObject("metadata"));
            f.rejectUnknown();
            return parsed;
        }).orElse(SearchRequest.Filters.NONE);
        double[] weights = {1, 1};
        in.optionalObjectInput("weights").ifPresent(w -> {
            weights[0] = w.optionalDouble("semantic", 0, 100).orElse(1.0);
            weights[1] = w.optionalDouble("keyword", 0, 100).orElse(1.0);
            w.rejectUnknown();
            if (weights[0] == 0 && weights[1] == 0) {
                w.error("semantic", "and weights.keyword must not both be 0");
            }
        });
        in.validate();
        return new SearchRequest(query, mode, limit, threshold, filters, weights[0], weights[1]);
    }

    private static int limit(String raw) {
        if (raw == null) {
            return DEFAULT_LIMIT;
        }
        try {
            int n = Integer.parseInt(raw.strip());
            if (n >= 1 && n <= MAX_LIMIT) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new InvalidInputException("limit must be a whole number from 1 to " + MAX_LIMIT,
                List.of(new FieldError("limit", "must be a whole number from 1 to " + MAX_LIMIT)));
    }
}
