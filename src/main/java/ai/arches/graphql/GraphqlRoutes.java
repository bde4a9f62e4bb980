package ai.arches.graphql;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Pattern;

import ai.arches.common.FieldError;
import ai.arches.common.InvalidInputException;
import ai.arches.http.ApiRouter;
import ai.arches.http.Json;
import ai.arches.http.JsonIo;
import ai.arches.http.Problems;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * /graphql over HTTP, per the GraphQL-over-HTTP spec: POST with an {@code application/json}
 * body, or GET with {@code query}, {@code operationName}, {@code variables} and
 * {@code extensions} (JSON) parameters, which may not run a mutation (405). The response is
 * {@code application/graphql-response+json} when the Accept header prefers it (then a request
 * that fails as a whole, by syntax, validation or a limit, is 400), else {@code application/json}
 * (always 200 once the request is read). What fails before GraphQL runs (credentials, rate
 * limit, body size or type, a body that is not a GraphQL request) is a problem+json, as for
 * every other route.
 */
public final class GraphqlRoutes {
    public static final String GRAPHQL_RESPONSE = "application/graphql-response+json";
    private static final Pattern SHA256 = Pattern.compile("^[0-9a-fA-F]{64}$");
    private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {};

    /** A handler that needs the authenticated caller, whatever its type (the auth feature's). */
    @FunctionalInterface
    public interface CallerHandler {
        void handle(Object caller, ServerRequest req, ServerResponse res);
    }

    private final Graphql graphql;
    private final JsonIo io;

    public GraphqlRoutes(Graphql graphql, JsonIo io) {
        this.graphql = graphql;
        this.io = io;
    }

    /** {@code authenticated} wraps a handler with the same authentication and rate limit as REST routes. */
    public void register(ApiRouter r, String base, Function<CallerHandler, Handler> authenticated) {
        r.get(base + "/graphql", authenticated.apply(this::get));
        r.post(base + "/graphql", authenticated.apply(this::post));
    }

    private void post(Object caller, ServerRequest req, ServerResponse res) {
        ObjectNode body = io.readObject(req);
        List<FieldError> errors = new ArrayList<>();
        String query = text(body.get("query"), "query", errors);
        String operationName = text(body.get("operationName"), "operationName", errors);
        Map<String, Object> variables = object(body.get("variables"), "variables", errors);
        Map<String, Object> extensions = object(body.get("extensions"), "extensions", errors);
        respond(caller, request(query, operationName, variables, extensions, errors), false, req, res);
    }

    private void get(Object caller, ServerRequest req, ServerResponse res) {
        List<FieldError> errors = new ArrayList<>();
        String query = req.query().first("query").orElse(null);
        String operationName = req.query().first("operationName").orElse(null);
        Map<String, Object> variables = object(parameter(req, "variables", errors), "variables", errors);
        Map<String, Object> extensions = object(parameter(req, "extensions", errors), "extensions", errors);
        respond(caller, request(query, operationName, variables, extensions, errors), true, req, res);
    }

    private void respond(Object caller, Graphql.Request request, boolean readOnly, ServerRequest req,
                         ServerResponse res) {
        boolean graphqlResponse = prefersGraphqlResponse(req.headers().first(HeaderNames.ACCEPT).orElse(null));
        Graphql.Response out = graphql.execute(caller, request, readOnly, Problems.requestId(req));
        byte[] bytes;
        try {
            bytes = Json.MAPPER.writeValueAsBytes(out.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Status status = graphqlResponse && out.requestError() ? Status.BAD_REQUEST_400 : Status.OK_200;
        io.write(req, res, status, graphqlResponse ? GRAPHQL_RESPONSE : JsonIo.JSON, bytes);
    }

    /** Checks what the engine cannot: a query or a persisted query's hash, and a sound hash. */
    private static Graphql.Request request(String query, String operationName, Map<String, Object> variables,
                                           Map<String, Object> extensions, List<FieldError> errors) {
        boolean persisted = false;
        if (extensions != null && extensions.containsKey("persistedQuery")) {
            persisted = true;
            if (!(extensions.get("persistedQuery") instanceof Map<?, ?> pq)) {
                errors.add(new FieldError("extensions.persistedQuery", "must be an object with version 1 and sha256Hash"));
            } else {
                if (!(pq.get("sha256Hash") instanceof String hash) || !SHA256.matcher(hash).matches()) {
                    errors.add(new FieldError("extensions.persistedQuery.sha256Hash",
                            "must be the hex SHA-256 of the query text (64 characters)"));
                }
                if (pq.containsKey("version") && !(pq.get("version") instanceof Number v && v.doubleValue() == 1)) {
                    errors.add(new FieldError("extensions.persistedQuery.version", "must be 1"));
                }
            }
        }
        if (!persisted && (query == null || query.isBlank()) && errors.stream().noneMatch(e -> e.field().equals("query"))) {
            errors.add(new FieldError("query", "is required (a GraphQL document), unless "
                    + "extensions.persistedQuery names a persisted one"));
        }
        if (!errors.isEmpty()) {
            throw new InvalidInputException(errors.size() == 1
                    ? errors.getFirst().field() + " " + errors.getFirst().message()
                    : errors.size() + " fields are invalid", errors);
        }
        String operation = operationName == null || operationName.isEmpty() ? null : operationName;
        return new Graphql.Request(query == null || query.isEmpty() ? null : query, operation,
                variables == null ? Map.of() : variables, extensions == null ? Map.of() : extensions);
    }

    private static String text(JsonNode n, String field, List<FieldError> errors) {
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isTextual()) {
            errors.add(new FieldError(field, "must be a string"));
            return null;
        }
        return n.textValue();
    }

    private static Map<String, Object> object(JsonNode n, String field, List<FieldError> errors) {
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isObject()) {
            errors.add(new FieldError(field, "must be a JSON object"));
            return null;
        }
        return Json.MAPPER.convertValue(n, MAP);
    }

    /** A GET parameter holding JSON; absent or empty is null. */
    private static JsonNode parameter(ServerRequest req, String name, List<FieldError> errors) {
        String raw = req.query().first(name).orElse("");
        if (raw.isBlank()) {
            return null;
        }
        try {
            return Json.MAPPER.readTree(raw);
        } catch (JacksonException e) {
            errors.add(new FieldError(name, "must be JSON (URL-encoded): " + e.getOriginalMessage()));
            return null;
        }
    }

    /**
     * True when the client lists {@code application/graphql-response+json} at least as highly as
     * {@code application/json}; wildcards alone keep the legacy {@code application/json}, which
     * every client reads.
     */
    static boolean prefersGraphqlResponse(String accept) {
        if (accept == null) {
            return false;
        }
        double graphql = 0;
        double json = -1;
        for (String range : accept.split(",")) {
            String[] parts = range.split(";");
            String type = parts[0].strip().toLowerCase(Locale.ROOT);
            double q = 1;
            for (int i = 1; i < parts.length; i++) {
                String p = parts[i].strip();
                if (p.startsWith("q=") || p.startsWith("Q=")) {
                    try {
                        q = Double.parseDouble(p.substring(2).strip());
                    } catch (NumberFormatException e) {
                        q = 0;
                    }
                }
            }
            if (type.equals(GRAPHQL_RESPONSE)) {
                graphql = Math.max(graphql, q);
            } else if (type.equals(JsonIo.JSON)) {
                json = Math.max(json, q);
            }
        }
        return graphql > 0 && graphql >= json;
    }
}
