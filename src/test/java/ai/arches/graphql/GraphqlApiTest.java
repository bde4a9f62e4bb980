package ai.arches.graphql;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import ai.arches.testing.Api;
import ai.arches.testing.Eventually;
import ai.arches.testing.ServerTest;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/**
 * /api/v1/graphql end to end: the schema's reads and mutations against a real server, with the
 * roles and tenancy REST has, and errors that carry REST's problem types.
 */
class GraphqlApiTest extends ServerTest {
    static final String PATH = "/api/v1/graphql";

    private Api.Response gql(String token, String query, Map<String, Object> variables) {
        return api.post(PATH, token, variables == null ? Map.of("query", query) : Map.of("query", query,
                "variables", variables));
    }

    /** The response's data, after checking the request succeeded without errors. */
    private JsonNode data(Api.Response r) {
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        assertThat(r.json().has("errors")).as(r.toString()).isFalse();
        return r.json().get("data");
    }

    /** The one error of a response, after checking there is exactly one. */
    private static JsonNode error(Api.Response r) {
        assertThat(r.json().get("errors")).as(r.toString()).hasSize(1);
        return r.json().get("errors").get(0);
    }

    private static String slugOf(Api api, Api.Session s, String org) {
        return api.get("/api/v1/organizations/" + org, s.token()).json().get("slug").asText();
    }

    @Test
    void me_is_the_signed_in_user() {
        var s = api.newUser("Grace");
        JsonNode me = data(gql(s.token(), "{ me { id email name createdAt } }", null)).get("me");
        assertThat(me.get("id").asText()).isEqualTo(s.userId());
        assertThat(me.get("email").asText()).isEqualTo(s.email());
        assertThat(me.get("name").asText()).isEqualTo("Grace");
        assertThat(me.get("createdAt").asText()).endsWith("Z");
    }

    @Test
    void organizations_list_the_callers_own_with_members_and_their_users() {
        var owner = api.newUser("Owner");
        var viewer = api.newUser("Viewer");
        var stranger = api.newUser("Stranger");
        String org = api.newOrg(owner, "acme");
        api.addMember(owner, org, viewer, "viewer");
        api.newOrg(stranger, "elsewhere");
        JsonNode page = data(gql(owner.token(), """
                { organizations { data { id slug role members { data { role joinedAt user { id email name } } } }
                                  nextCursor } }""", null)).get("organizations");
        assertThat(page.get("data")).hasSize(1);
        assertThat(page.get("nextCursor").isNull()).isTrue();
        JsonNode acme = page.get("data").get(0);
        assertThat(acme.get("id").asText()).isEqualTo(org);
        assertThat(acme.get("role").asText()).isEqualTo("OWNER");
        JsonNode members = acme.get("members").get("data");
        assertThat(members).extracting(m -> m.get("user").get("email").asText())
                .containsExactly(viewer.email(), owner.email());
        assertThat(members).extracting(m -> m.get("role").asText()).containsExactly("VIEWER", "OWNER");
        assertThat(members.get(0).get("user").get("id").asText()).isEqualTo(viewer.userId());

        String slug = slugOf(api, owner, org);
        JsonNode bySlug = data(gql(viewer.token(), "query($ref: String!) { organization(ref: $ref) { id role } }",
                Map.of("ref", slug))).get("organization");
        assertThat(bySlug.get("id").asText()).isEqualTo(org);
        assertThat(bySlug.get("role").asText()).isEqualTo("VIEWER");
    }

    @Test
    void members_page_with_the_rest_cursor_and_a_foreign_cursor_is_an_invalid_request() {
        var owner = api.newUser("Pager");
        String org = api.newOrg(owner, "pages");
        for (int i = 0; i < 3; i++) {
            api.addMember(owner, org, api.newUser("M" + i), "member");
        }
        String q = "query($org: String!, $c: String) { organization(ref: $org) { members(limit: 2, cursor: $c) "
                + "{ data { user { name } } nextCursor } } }";
        JsonNode first = data(gql(owner.token(), q, Map.of("org", org))).get("organization").get("members");
        assertThat(first.get("data")).extracting(m -> m.get("user").get("name").asText()).containsExactly("M2", "M1");
        String cursor = first.get("nextCursor").asText();
        JsonNode second = data(gql(owner.token(), q, Map.of("org", org, "c", cursor))).get("organization").get("members");
        assertThat(second.get("data")).extracting(m -> m.get("user").get("name").asText()).containsExactly("M0", "Pager");
        assertThat(second.get("nextCursor").isNull()).isTrue();

        String other = api.newOrg(owner, "other");
        var r = gql(owner.token(), q, Map.of("org", other, "c", cursor));
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("data").get("organization").get("members").isNull()).isTrue();
        JsonNode e = error(r);
        assertThat(e.get("extensions").get("type").asText()).isEqualTo("urn:arches:problem:invalid-request");
        assertThat(e.get("extensions").get("status").asInt()).isEqualTo(400);
        assertThat(e.get("extensions").get("errors").get(0).get("field").asText()).isEqualTo("cursor");
        assertThat(e.get("path")).extracting(JsonNode::asText).containsExactly("organization", "members");
    }

    @Test
    void content_is_created_listed_read_searched_changed_and_deleted() {
        var owner = api.newUser("Writer");
        String org = api.newOrg(owner, "docs");
        JsonNode created = data(gql(owner.token(), """
                mutation($org: String!, $in: CreateContentInput!) {
                  createContent(org: $org, input: $in) { id title body tags metadata embeddingStatus createdBy }
                }""", Map.of("org", org, "in", Map.of("title", "Pelicans", "body", "Pelicans fish in flocks.",
                "tags", List.of("birds"), "metadata", Map.of("source", "field notes"))))).get("createContent");
        String id = created.get("id").asText();
        assertThat(created.get("tags")).extracting(JsonNode::asText).containsExactly("birds");
        assertThat(created.get("metadata").get("source").asText()).isEqualTo("field notes");
        assertThat(created.get("embeddingStatus").asText()).isEqualTo("PENDING");
        assertThat(created.get("createdBy").asText()).isEqualTo(owner.userId());
        // Created through GraphQL, seen by REST.
        assertThat(api.get("/api/v1/organizations/" + org + "/content/" + id, owner.token()).status()).isEqualTo(200);
        api.post("/api/v1/organizations/" + org + "/content", owner.token(), Map.of("title", "Other", "body", "x"));

        JsonNode o = data(gql(owner.token(), """
                query($org: String!, $id: ID!) { organization(ref: $org) {
                  birds: content(tag: "birds") { data { id excerpt bodyLength } nextCursor }
                  all: content(limit: 1) { data { title body } nextCursor }
                  document(id: $id) { title body }
                  search(query: "pelicans", mode: KEYWORD) { mode data { id title snippet score } }
                } }""", Map.of("org", org, "id", id))).get("organization");
        assertThat(o.get("birds").get("data")).extracting(d -> d.get("id").asText()).containsExactly(id);
        assertThat(o.get("birds").get("data").get(0).get("bodyLength").asInt()).isEqualTo(24);
        assertThat(o.get("all").get("data").get(0).get("title").asText()).isEqualTo("Other");
        assertThat(o.get("all").get("data").get(0).get("body").asText()).isEqualTo("x");
        assertThat(o.get("all").get("nextCursor").isNull()).isFalse();
        assertThat(o.get("document").get("body").asText()).isEqualTo("Pelicans fish in flocks.");
        assertThat(o.get("search").get("mode").asText()).isEqualTo("KEYWORD");
        assertThat(o.get("search").get("data")).extracting(h -> h.get("id").asText()).containsExactly(id);

        JsonNode updated = data(gql(owner.token(), """
                mutation($org: String!, $id: ID!) {
                  updateContent(org: $org, id: $id, input: {title: "Brown pelicans", tags: ["birds", "coast"]}) { title tags body }
                }""", Map.of("org", org, "id", id))).get("updateContent");
        assertThat(updated.get("title").asText()).isEqualTo("Brown pelicans");
        assertThat(updated.get("tags")).extracting(JsonNode::asText).containsExactly("birds", "coast");
        assertThat(updated.get("body").asText()).isEqualTo("Pelicans fish in flocks.");

        assertThat(data(gql(owner.token(), "mutation($org: String!, $id: ID!) { deleteContent(org: $org, id: $id) }",
                Map.of("org", org, "id", id))).get("deleteContent").asBoolean()).isTrue();
        var gone = gql(owner.token(), "query($org: String!, $id: ID!) { organization(ref: $org) { document(id: $id) { id } } }",
                Map.of("org", org, "id", id));
        assertThat(gone.json().get("data").get("organization").get("document").isNull()).isTrue();
        assertThat(error(gone).get("extensions").get("type").asText()).isEqualTo("urn:arches:problem:not-found");
    }

    @Test
    void invalid_mutation_input_gets_rests_field_errors_and_stores_nothing() {
        var owner = api.newUser("Sloppy");
        String org = api.newOrg(owner, "sloppy");
        var r = gql(owner.token(), """
                mutation($org: String!) {
                  createContent(org: $org, input: {title: "  ", body: "b", mimeType: "not a type", metadata: [1]}) { id }
                }""", Map.of("org", org));
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("data").get("createContent").isNull()).isTrue();
        JsonNode ext = error(r).get("extensions");
        assertThat(ext.get("type").asText()).isEqualTo("urn:arches:problem:invalid-request");
        assertThat(ext.get("status").asInt()).isEqualTo(400);
        assertThat(ext.get("errors")).extracting(e -> e.get("field").asText())
                .containsExactlyInAnyOrder("title", "mimeType", "metadata");
        assertThat(api.get("/api/v1/organizations/" + org + "/content", owner.token()).json().get("data")).isEmpty();
    }

    @Test
    void workflows_are_created_and_run_and_the_run_is_read_with_its_steps() {
        var owner = api.newUser("Runner");
        String org = api.newOrg(owner, "flows");
        Map<String, Object> definition = Map.of("nodes", List.of(
                Map.of("id", "greet", "type", "tool", "tool", "transform", "config", Map.of("value", "hi {{input.name}}")),
                Map.of("id", "end", "type", "noop")), "edges", List.of(Map.of("from", "greet", "to", "end")));
        JsonNode wf = data(gql(owner.token(), """
                mutation($org: String!, $def: JSON!) {
                  createWorkflow(org: $org, input: {name: "Greeter", definition: $def}) { id name status definition }
                }""", Map.of("org", org, "def", definition))).get("createWorkflow");
        String wfId = wf.get("id").asText();
        assertThat(wf.get("status").asText()).isEqualTo("DRAFT");
        assertThat(wf.get("definition").get("nodes")).hasSize(2);

        JsonNode active = data(gql(owner.token(), """
                mutation($org: String!, $id: ID!) {
                  updateWorkflow(org: $org, id: $id, input: {status: ACTIVE, description: "says hi"}) { status description }
                }""", Map.of("org", org, "id", wfId))).get("updateWorkflow");
        assertThat(active.get("status").asText()).isEqualTo("ACTIVE");
        assertThat(active.get("description").asText()).isEqualTo("says hi");

        JsonNode run = data(gql(owner.token(), """
                mutation($org: String!, $wf: ID!) { startRun(org: $org, workflowId: $wf, input: {name: "Ada"}) { id status input } }""",
                Map.of("org", org, "wf", wfId))).get("startRun");
        String runId = run.get("id").asText();
        assertThat(run.get("status").asText()).isEqualTo("QUEUED");
        assertThat(run.get("input").get("name").asText()).isEqualTo("Ada");

        String read = """
                query($org: String!, $run: ID!, $wf: ID!) { organization(ref: $org) {
                  run(id: $run) { status output steps { nodeId tool status attempts output } }
                  runs(workflowId: $wf, status: SUCCEEDED) { data { id steps { nodeId } } }
                  workflows { data { id nodeCount edgeCount status } }
                  workflow(id: $wf) { name }
                } }""";
        Map<String, Object> vars = Map.of("org", org, "run", runId, "wf", wfId);
        Eventually.until("the run succeeded", 30_000, () -> data(gql(owner.token(), read, vars))
                .get("organization").get("run").get("status").asText().equals("SUCCEEDED"));
        JsonNode o = data(gql(owner.token(), read, vars)).get("organization");
        assertThat(o.get("run").get("output").get("end").asText()).isEqualTo("hi Ada");
        assertThat(o.get("run").get("steps")).extracting(s -> s.get("nodeId").asText() + ":" + s.get("status").asText())
                .containsExactlyInAnyOrder("greet:SUCCEEDED", "end:SUCCEEDED");
        assertThat(o.get("runs").get("data")).extracting(r -> r.get("id").asText()).containsExactly(runId);
        assertThat(o.get("runs").get("data").get(0).get("steps").isNull()).isTrue();
        assertThat(o.get("workflows").get("data").get(0).get("nodeCount").asInt()).isEqualTo(2);
        assertThat(o.get("workflow").get("name").asText()).isEqualTo("Greeter");

        assertThat(data(gql(owner.token(), "mutation($org: String!, $id: ID!) { deleteWorkflow(org: $org, id: $id) }",
                Map.of("org", org, "id", wfId))).get("deleteWorkflow").asBoolean()).isTrue();
    }

    @Test
    void a_broken_workflow_definition_is_unprocessable_as_in_rest() {
        var owner = api.newUser("Cycler");
        String org = api.newOrg(owner, "cycles");
        Map<String, Object> cyclic = Map.of("nodes", List.of(Map.of("id", "a", "type", "noop"), Map.of("id", "b", "type", "noop")),
                "edges", List.of(Map.of("from", "a", "to", "b"), Map.of("from", "b", "to", "a")));
        var r = gql(owner.token(), "mutation($org: String!, $def: JSON!) { createWorkflow(org: $org, input: {name: \"x\", definition: $def}) { id } }",
                Map.of("org", org, "def", cyclic));
        JsonNode ext = error(r).get("extensions");
        assertThat(ext.get("status").asInt()).isEqualTo(422);
        assertThat(ext.get("type").asText()).isEqualTo("urn:arches:problem:unprocessable");
    }

    @Test
    void another_tenants_document_run_and_organization_are_not_found_and_show_no_data() {
        var victim = api.newUser("Victim");
        String theirs = api.newOrg(victim, "victim");
        String doc = api.post("/api/v1/organizations/" + theirs + "/content", victim.token(),
                Map.of("title", "secret", "body", "classified")).json().get("id").asText();
        String wf = api.post("/api/v1/organizations/" + theirs + "/workflows", victim.token(), Map.of("name", "wf",
                "definition", Map.of("nodes", List.of(Map.of("id", "a", "type", "noop"))))).json().get("id").asText();
        String run = api.post("/api/v1/organizations/" + theirs + "/workflows/" + wf + "/runs", victim.token(),
                Map.of()).json().get("id").asText();

        var attacker = api.newUser("Attacker");
        String mine = api.newOrg(attacker, "attacker");
        var r = gql(attacker.token(), """
                query($mine: String!, $doc: ID!, $run: ID!, $wf: ID!) { organization(ref: $mine) {
                  document(id: $doc) { title body } run(id: $run) { input } workflow(id: $wf) { definition } } }""",
                Map.of("mine", mine, "doc", doc, "run", run, "wf", wf));
        JsonNode o = r.json().get("data").get("organization");
        assertThat(o.get("document").isNull()).isTrue();
        assertThat(o.get("run").isNull()).isTrue();
        assertThat(o.get("workflow").isNull()).isTrue();
        assertThat(r.json().get("errors")).hasSize(3).allSatisfy(e -> {
            assertThat(e.get("extensions").get("type").asText()).isEqualTo("urn:arches:problem:not-found");
            assertThat(e.get("extensions").get("status").asInt()).isEqualTo(404);
        });
        assertThat(r.text()).doesNotContain("secret", "classified");

        var theirOrg = gql(attacker.token(), "query($o: String!) { organization(ref: $o) { name content { data { title } } } }",
                Map.of("o", theirs));
        assertThat(theirOrg.json().get("data").get("organization").isNull()).isTrue();
        assertThat(error(theirOrg).get("extensions").get("type").asText()).isEqualTo("urn:arches:problem:not-found");

        var write = gql(attacker.token(), "mutation($o: String!, $id: ID!) { deleteContent(org: $o, id: $id) }",
                Map.of("o", theirs, "id", doc));
        assertThat(error(write).get("extensions").get("status").asInt()).isEqualTo(404);
        assertThat(api.get("/api/v1/organizations/" + theirs + "/content/" + doc, victim.token()).status()).isEqualTo(200);
    }

    @Test
    void a_viewer_reads_but_cannot_mutate() {
        var owner = api.newUser("Boss");
        var viewer = api.newUser("Watcher");
        String org = api.newOrg(owner, "watched");
        api.addMember(owner, org, viewer, "viewer");
        assertThat(data(gql(viewer.token(), "query($o: String!) { organization(ref: $o) { content { data { id } } } }",
                Map.of("o", org))).get("organization").get("content").get("data")).isEmpty();
        var r = gql(viewer.token(), "mutation($o: String!) { createContent(org: $o, input: {title: \"t\", body: \"b\"}) { id } }",
                Map.of("o", org));
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("data").get("createContent").isNull()).isTrue();
        JsonNode e = error(r);
        assertThat(e.get("extensions").get("type").asText()).isEqualTo("urn:arches:problem:forbidden");
        assertThat(e.get("extensions").get("status").asInt()).isEqualTo(403);
        assertThat(e.get("message").asText()).contains("member");
        var run = gql(viewer.token(), "mutation($o: String!) { startRun(org: $o, workflowId: \"00000000-0000-0000-0000-000000000000\") { id } }",
                Map.of("o", org));
        assertThat(error(run).get("extensions").get("type").asText()).isEqualTo("urn:arches:problem:forbidden");
        assertThat(api.get("/api/v1/organizations/" + org + "/content", owner.token()).json().get("data")).isEmpty();
    }

    @Test
    void without_credentials_it_is_a_401_problem_and_bad_credentials_too() {
        var r = api.post(PATH, null, Map.of("query", "{ me { id } }"));
        assertThat(r.status()).isEqualTo(401);
        assertThat(r.header("Content-Type")).startsWith("application/problem+json");
        assertThat(r.header("WWW-Authenticate")).contains("Bearer");
        assertThat(r.json().get("type").asText()).isEqualTo("urn:arches:problem:unauthenticated");
        assertThat(api.get(PATH + "?query=%7Bme%7Bid%7D%7D", "not-a-token").status()).isEqualTo(401);
    }

    @Test
    void an_api_key_sees_its_organization_and_is_no_user() {
        var owner = api.newUser("KeyMaker");
        String org = api.newOrg(owner, "keyed");
        api.newOrg(owner, "unkeyed");
        String key = api.post("/api/v1/organizations/" + org + "/api-keys", owner.token(),
                Map.of("name", "ci", "role", "member")).json().get("key").asText();
        var r = gql(key, "{ organizations { data { id role } } me { id } }", null);
        assertThat(r.json().get("data").get("organizations").get("data")).extracting(o -> o.get("id").asText())
                .containsExactly(org);
        assertThat(r.json().get("data").get("organizations").get("data").get(0).get("role").asText()).isEqualTo("MEMBER");
        assertThat(r.json().get("data").get("me").isNull()).isTrue();
        assertThat(error(r).get("extensions").get("type").asText()).isEqualTo("urn:arches:problem:forbidden");
        JsonNode created = data(gql(key, "mutation($o: String!) { createContent(org: $o, input: {title: \"by key\", body: \"b\"}) { createdBy } }",
                Map.of("o", org))).get("createContent");
        assertThat(created.get("createdBy").isNull()).isTrue();
    }
}
