package ai.arches.graphql;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import ai.arches.testing.Api;
import ai.arches.testing.Metrics;
import ai.arches.testing.ServerTest;

import com.fasterxml.jackson.databind.JsonNode;
import graphql.introspection.IntrospectionQuery;
import org.junit.jupiter.api.Test;

/**
 * GraphQL over HTTP: GET and POST, content negotiation, the limits that refuse a document before
 * any resolver runs, Automatic Persisted Queries, and hostile input, which gets a clear error and
 * never a 500.
 */
class GraphqlProtocolTest extends ServerTest {
    private static final String PATH = GraphqlApiTest.PATH;
    private static final String GRAPHQL_RESPONSE = "application/graphql-response+json";

    private Api.Response post(String token, Object body) {
        return api.post(PATH, token, body);
    }

    private Api.Response postAccepting(String token, Object body, String accept) {
        return api.send("POST", PATH, token, "application/json", Api.json(body), Map.of("Accept", accept));
    }

    private Api.Response get(String token, Map<String, String> params) {
        StringBuilder q = new StringBuilder();
        params.forEach((k, v) -> q.append(q.isEmpty() ? "?" : "&").append(k).append('=')
                .append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
        return api.get(PATH + q, token);
    }

    /** A request that failed as a whole: no data, one error with this classification and problem type. */
    private static JsonNode requestError(Api.Response r, String classification, String type) {
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        JsonNode body = r.json();
        assertThat(body.has("data")).as(r.toString()).isFalse();
        assertThat(body.get("errors")).as(r.toString()).hasSize(1);
        JsonNode e = body.get("errors").get(0);
        assertThat(e.get("extensions").get("classification").asText()).as(r.toString()).isEqualTo(classification);
        assertThat(e.get("extensions").get("type").asText()).isEqualTo(type);
        assertThat(e.get("extensions").get("status").asInt()).isEqualTo(400);
        return e;
    }

    private static final String INVALID = "urn:arches:problem:invalid-request";

    @Test
    void get_runs_queries_and_refuses_mutations_with_405() {
        var s = api.newUser("Getter");
        var r = get(s.token(), Map.of("query", "query Me { me { name } }", "operationName", "Me"));
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("Content-Type")).startsWith("application/json");
        assertThat(r.json().get("data").get("me").get("name").asText()).isEqualTo("Getter");

        String org = api.newOrg(s, "getter");
        var m = get(s.token(), Map.of("query", "mutation($o: String!) { createContent(org: $o, input: {title: \"t\", body: \"b\"}) { id } }",
                "variables", "{\"o\": \"" + org + "\"}"));
        assertThat(m.status()).isEqualTo(405);
        assertThat(m.header("Allow")).isEqualTo("POST");
        assertThat(m.json().get("type").asText()).isEqualTo("urn:arches:problem:method-not-allowed");
        assertThat(api.get("/api/v1/organizations/" + org + "/content", s.token()).json().get("data")).isEmpty();
        // The operation chosen decides: the query of a document that also holds a mutation may run by GET.
        var chosen = get(s.token(), Map.of("query", "query Q { me { id } } mutation M { deleteContent(org: \"x\", id: \"y\") }",
                "operationName", "Q"));
        assertThat(chosen.json().get("data").get("me").get("id").asText()).isEqualTo(s.userId());

        var badVariables = get(s.token(), Map.of("query", "{ me { id } }", "variables", "{not json"));
        assertThat(badVariables.status()).isEqualTo(400);
        assertThat(badVariables.json().get("errors").get(0).get("field").asText()).isEqualTo("variables");
        assertThat(get(s.token(), Map.of()).status()).isEqualTo(400);
    }

    @Test
    void each_request_is_counted_by_the_callers_rate_limit_as_a_rest_request_is() {
        var s = api.newUser("Counted");
        var first = post(s.token(), Map.of("query", "{ me { id } a: me { id } b: me { id } }"));
        var second = post(s.token(), Map.of("query", "{ me { id } }"));
        assertThat(first.header("RateLimit-Limit")).isNotNull();
        assertThat(Long.parseLong(second.header("RateLimit-Remaining")))
                .isEqualTo(Long.parseLong(first.header("RateLimit-Remaining")) - 1);
        var rest = api.get("/api/v1/users/me", s.token());
        assertThat(Long.parseLong(rest.header("RateLimit-Remaining")))
                .isEqualTo(Long.parseLong(second.header("RateLimit-Remaining")) - 1);
    }

    @Test
    void graphql_response_json_is_sent_when_asked_and_request_errors_are_400_then() {
        var s = api.newUser("Modern");
        var ok = postAccepting(s.token(), Map.of("query", "{ me { id } }"), GRAPHQL_RESPONSE + ", application/json;q=0.9");
        assertThat(ok.status()).isEqualTo(200);
        assertThat(ok.header("Content-Type")).startsWith(GRAPHQL_RESPONSE);
        assertThat(ok.json().get("data").get("me").get("id").asText()).isEqualTo(s.userId());

        var invalid = postAccepting(s.token(), Map.of("query", "{ me { nope } }"), GRAPHQL_RESPONSE);
        assertThat(invalid.status()).isEqualTo(400);
        assertThat(invalid.header("Content-Type")).startsWith(GRAPHQL_RESPONSE);
        assertThat(invalid.json().get("errors").get(0).get("extensions").get("type").asText()).isEqualTo(INVALID);

        // A field error is still 200: the request ran, and data says what did not.
        var field = postAccepting(s.token(), Map.of("query", "{ organization(ref: \"nobody\") { id } }"), GRAPHQL_RESPONSE);
        assertThat(field.status()).isEqualTo(200);
        assertThat(field.json().get("data").get("organization").isNull()).isTrue();

        var legacy = postAccepting(s.token(), Map.of("query", "{ me { id } }"), "application/json, " + GRAPHQL_RESPONSE + ";q=0.5");
        assertThat(legacy.header("Content-Type")).startsWith("application/json");
        assertThat(postAccepting(s.token(), Map.of("query", "{ me { id } }"), "*/*").header("Content-Type"))
                .startsWith("application/json");
    }

    @Test
    void the_standard_introspection_query_passes_the_limits() {
        var s = api.newUser("Introspector");
        var r = post(s.token(), Map.of("query", IntrospectionQuery.INTROSPECTION_QUERY));
        assertThat(r.json().has("errors")).as(r.toString()).isFalse();
        JsonNode types = r.json().get("data").get("__schema").get("types");
        assertThat(types).extracting(t -> t.get("name").asText())
                .contains("Organization", "Member", "User", "Content", "SearchResults", "Workflow", "Run", "Step");
    }

    @Test
    void introspection_nested_deeper_than_max_depth_is_refused() {
        var s = api.newUser("Diver");
        // Only introspection nests this deep here (the schema has no cycles); graphql-java's
        // good-faith check holds it to graphql.max_depth. GraphqlEngineTest covers plain fields.
        String deep = "{ __schema { types { fields { type " + "{ ofType ".repeat(11) + "{ name }" + " }".repeat(11)
                + " } } } }";
        JsonNode e = requestError(post(s.token(), Map.of("query", deep)), "BadFaithIntrospection", INVALID);
        assertThat(e.get("message").asText()).contains("depth 16 exceeds maximum allowed depth 15");
        String fine = "{ __schema { types { fields { type " + "{ ofType ".repeat(9) + "{ name }" + " }".repeat(9)
                + " } } } }";
        assertThat(post(s.token(), Map.of("query", fine)).json().has("errors")).isFalse();
    }

    @Test
    void a_document_with_more_than_max_fields_is_refused() {
        var s = api.newUser("Greedy");
        StringBuilder q = new StringBuilder("fragment U on User { id email name createdAt updatedAt } {");
        for (int i = 0; i < 200; i++) {
            q.append(" a").append(i).append(": me { ...U }");
        }
        JsonNode e = requestError(post(s.token(), Map.of("query", q.append(" }").toString())), "ValidationError", INVALID);
        assertThat(e.get("message").asText()).containsIgnoringCase("field");
    }

    @Test
    void a_query_over_max_complexity_is_refused_before_any_statement() {
        var s = api.newUser("Heavy");
        api.newOrg(s, "heavy");
        double before = Metrics.queries(api, "orgs.list");
        String q = "query($n: Int) { organizations(limit: $n) { data { members(limit: 100) { data { role user { id email name } } } } } }";
        JsonNode e = requestError(post(s.token(), Map.of("query", q, "variables", Map.of("n", 100))), "ExecutionAborted", INVALID);
        assertThat(e.get("message").asText()).contains("complexity is 60201").contains("10000");
        assertThat(Metrics.queries(api, "orgs.list")).isEqualTo(before);
        // Even with limit far past REST's bound the cost is refused, not overflowed into a small one.
        requestError(post(s.token(), Map.of("query", q, "variables", Map.of("n", Integer.MAX_VALUE))), "ExecutionAborted", INVALID);
        // The same shape with small pages runs.
        var small = post(s.token(), Map.of("query", q.replace("limit: 100", "limit: 5"), "variables", Map.of("n", 5)));
        assertThat(small.json().has("errors")).as(small.toString()).isFalse();
    }

    @Test
    void a_document_past_the_parser_bounds_is_refused_while_parsing() {
        var s = api.newUser("Verbose");
        JsonNode chars = requestError(post(s.token(), Map.of("query", "{ me { id } }" + " ".repeat(40_000))),
                "InvalidSyntax", INVALID);
        assertThat(chars.get("message").asText()).containsPattern("32,?768 characters");
        JsonNode tokens = requestError(post(s.token(), Map.of("query", "{ me { " + "id ".repeat(6000) + "} }")),
                "InvalidSyntax", INVALID);
        assertThat(tokens.get("message").asText()).containsPattern("5,?000 'grammar' tokens");
    }

    @Test
    void page_limits_are_held_to_rests_bounds() {
        var s = api.newUser("Bounded");
        for (int limit : new int[] {0, 101}) {
            var r = post(s.token(), Map.of("query", "{ organizations(limit: " + limit + ") { data { id } } }"));
            JsonNode e = r.json().get("errors").get(0);
            assertThat(r.json().get("data").get("organizations").isNull()).isTrue();
            assertThat(e.get("extensions").get("type").asText()).isEqualTo(INVALID);
            assertThat(e.get("extensions").get("errors").get(0).get("field").asText()).isEqualTo("limit");
        }
    }

    @Test
    void automatic_persisted_queries_miss_then_register_then_hit() {
        var s = api.newUser("Persistent");
        String query = "query Persisted { me { id name } }";
        String hash = PersistedQueries.sha256(query);
        Map<String, Object> ext = Map.of("persistedQuery", Map.of("version", 1, "sha256Hash", hash));

        var miss = post(s.token(), Map.of("extensions", ext));
        JsonNode e = requestError(miss, "PersistedQueryNotFound", "urn:arches:problem:persisted-query-not-found");
        assertThat(e.get("message").asText()).isEqualTo("PersistedQueryNotFound");
        assertThat(e.get("extensions").get("code").asText()).isEqualTo("PERSISTED_QUERY_NOT_FOUND");

        var register = post(s.token(), Map.of("query", query, "extensions", ext));
        assertThat(register.json().get("data").get("me").get("id").asText()).isEqualTo(s.userId());

        var hit = post(s.token(), Map.of("extensions", ext));
        assertThat(hit.json().has("errors")).as(hit.toString()).isFalse();
        assertThat(hit.json().get("data").get("me").get("name").asText()).isEqualTo("Persistent");
        // By GET too (a CDN could cache it), and for another caller: the document is nobody's.
        var other = api.newUser("Other");
        var viaGet = get(other.token(), Map.of("extensions", "{\"persistedQuery\":{\"version\":1,\"sha256Hash\":\"" + hash + "\"}}"));
        assertThat(viaGet.json().get("data").get("me").get("id").asText()).isEqualTo(other.userId());

        // A text under another text's hash never runs, known hash or not.
        for (String wrong : List.of("query Persisted { me { email } }", "{ me { createdAt } }")) {
            JsonNode mismatch = requestError(post(s.token(), Map.of("query", wrong, "extensions", ext)),
                    "PersistedQueryIdInvalid", INVALID);
            assertThat(mismatch.get("extensions").get("errors").get(0).get("field").asText())
                    .isEqualTo("extensions.persistedQuery.sha256Hash");
        }
        var malformed = post(s.token(), Map.of("extensions", Map.of("persistedQuery", Map.of("version", 1, "sha256Hash", "abc"))));
        assertThat(malformed.status()).isEqualTo(400);
        assertThat(malformed.header("Content-Type")).startsWith("application/problem+json");
        assertThat(post(s.token(), Map.of("extensions", Map.of("persistedQuery", "x"))).status()).isEqualTo(400);
    }

    @Test
    void malformed_requests_are_400_or_415_problems() {
        var s = api.newUser("Hostile");
        var hostile = api.withoutContractCheck();
        var broken = api.send("POST", PATH, s.token(), "application/json", "{\"query\": ".getBytes(StandardCharsets.UTF_8), Map.of());
        assertThat(broken.status()).isEqualTo(400);
        assertThat(broken.json().get("type").asText()).isEqualTo(INVALID);
        assertThat(api.send("POST", PATH, s.token(), "application/graphql", "{ me { id } }".getBytes(StandardCharsets.UTF_8),
                Map.of()).status()).isEqualTo(415);
        assertThat(hostile.send("POST", PATH, s.token(), "application/json", "[{\"query\": \"{ me { id } }\"}]"
                .getBytes(StandardCharsets.UTF_8), Map.of()).status()).isEqualTo(400);
        var notString = post(s.token(), Map.of("query", 42, "variables", List.of(1), "operationName", false));
        assertThat(notString.status()).isEqualTo(400);
        assertThat(notString.json().get("errors")).extracting(f -> f.get("field").asText())
                .containsExactlyInAnyOrder("query", "variables", "operationName");
        assertThat(post(s.token(), Map.of("variables", Map.of())).status()).isEqualTo(400);
    }

    @Test
    void bad_documents_variables_and_operation_names_get_clear_errors_never_a_500() {
        var s = api.newUser("Clumsy");
        requestError(post(s.token(), Map.of("query", "{ me { id ")), "InvalidSyntax", INVALID);
        JsonNode unknownField = requestError(post(s.token(), Map.of("query", "{ me { password } }")), "ValidationError", INVALID);
        assertThat(unknownField.get("message").asText()).contains("password");

        String q = "query Orgs($n: Int) { organizations(limit: $n) { data { id } } } query Me { me { id } }";
        JsonNode wrongType = requestError(post(s.token(), Map.of("query", q, "operationName", "Orgs",
                "variables", Map.of("n", "ten"))), "ValidationError", INVALID);
        assertThat(wrongType.get("message").asText()).contains("n");
        JsonNode unknownOp = requestError(post(s.token(), Map.of("query", q, "operationName", "Nope")),
                "ValidationError", INVALID);
        assertThat(unknownOp.get("message").asText()).contains("Nope");
        requestError(post(s.token(), Map.of("query", q)), "ValidationError", INVALID);
        JsonNode missing = requestError(post(s.token(), Map.of("query", "mutation($in: CreateContentInput!) { createContent(org: \"x\", input: $in) { id } }",
                "variables", Map.of("in", Map.of("title", "no body")))), "ValidationError", INVALID);
        assertThat(missing.get("message").asText()).contains("body");
        var json = post(s.token(), Map.of("query", "mutation($m: JSON) { createContent(org: \"nowhere\", input: {title: \"t\", body: \"b\", metadata: $m}) { id } }",
                "variables", Map.of("m", Map.of("deep", List.of(Map.of("a", 1))))));
        assertThat(json.json().get("errors").get(0).get("extensions").get("status").asInt()).isEqualTo(404);
        assertThat(api.get("/health", null).status()).isEqualTo(200);
    }
}
