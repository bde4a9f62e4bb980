package ai.arches.workflows;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import ai.arches.testing.Api;
import ai.arches.testing.ServerTest;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

class WorkflowApiTest extends ServerTest {

    private static Map<String, Object> node(String id) {
        return Map.of("id", id, "type", "tool", "tool", "summarize", "config", Map.of("maxWords", 50, "text", "{{input.text}}"));
    }

    private static Map<String, Object> edge(String from, String to) {
        return Map.of("from", from, "to", to);
    }

    private String base(Api.Session s) {
        return "/api/v1/organizations/" + api.newOrg(s, "flows") + "/workflows";
    }

    @Test
    void a_valid_dag_is_created_as_draft_and_reads_back_unchanged() {
        var s = api.newUser("Flow");
        String base = base(s);
        Map<String, Object> def = Map.of("nodes", List.of(node("fetch"), node("sum"), Map.of("id", "store", "type", "sink")),
                "edges", List.of(edge("fetch", "sum"), edge("sum", "store")));
        var r = api.post(base, s.token(), Map.of("name", "Digest", "description", "daily", "definition", def));
        assertThat(r.status()).isEqualTo(201);
        assertThat(r.json().get("status").asText()).isEqualTo("draft");
        JsonNode got = api.get(base + "/" + r.json().get("id").asText(), s.token()).json();
        assertThat(got.get("definition")).isEqualTo(r.json().get("definition"));
        assertThat(got.get("definition").get("nodes").get(2).has("tool")).isFalse();
        assertThat(got.get("definition").get("nodes").get(0).get("config").get("maxWords").asInt()).isEqualTo(50);
    }

    @Test
    void a_cycle_is_422_naming_its_path() {
        var s = api.newUser("Cycle");
        var r = api.post(base(s), s.token(), Map.of("name", "loop", "definition", Map.of(
                "nodes", List.of(node("a"), node("b"), node("c")),
                "edges", List.of(edge("a", "b"), edge("b", "c"), edge("c", "a")))));
        assertThat(r.status()).isEqualTo(422);
        JsonNode err = r.json().get("errors").get(0);
        assertThat(err.get("field").asText()).isEqualTo("definition.edges");
        assertThat(err.get("message").asText()).contains("cycle").contains("a").contains("b").contains("c");
        var self = api.post(base(s), s.token(), Map.of("name", "self", "definition", Map.of(
                "nodes", List.of(node("a")), "edges", List.of(edge("a", "a")))));
        assertThat(self.status()).isEqualTo(422);
    }

    @Test
    void duplicate_ids_and_dangling_edges_are_422_each_named() {
        var s = api.newUser("Dup");
        var r = api.post(base(s), s.token(), Map.of("name", "bad", "definition", Map.of(
                "nodes", List.of(node("a"), node("a"), node("b")),
                "edges", List.of(edge("a", "ghost"), edge("nobody", "b")))));
        assertThat(r.status()).isEqualTo(422);
        assertThat(r.json().get("errors")).extracting(e -> e.get("field").asText())
                .contains("definition.nodes[1].id", "definition.edges[0].to", "definition.edges[1].from");
    }

    @Test
    void malformed_definitions_are_400() {
        var s = api.newUser("Shape");
        String base = base(s);
        assertThat(api.post(base, s.token(), Map.of("name", "x")).status()).isEqualTo(400);
        assertThat(api.post(base, s.token(), Map.of("name", "x", "definition", Map.of("nodes", "a"))).status()).isEqualTo(400);
        assertThat(api.post(base, s.token(), Map.of("name", "x", "definition",
                Map.of("nodes", List.of(Map.of("id", 1, "type", "t"))))).status()).isEqualTo(400);
        assertThat(api.post(base, s.token(), Map.of("name", "x", "definition",
                Map.of("nodes", List.of(Map.of("type", "t"))))).status()).isEqualTo(400);
        assertThat(api.get(base, s.token()).json().get("data")).isEmpty();
    }

    @Test
    void status_changes_and_status_filter() {
        var s = api.newUser("Status");
        String base = base(s);
        Map<String, Object> def = Map.of("nodes", List.of(node("a")));
        String a = api.post(base, s.token(), Map.of("name", "one", "definition", def)).json().get("id").asText();
        api.post(base, s.token(), Map.of("name", "two", "definition", def));
        var activated = api.patch(base + "/" + a, s.token(), Map.of("status", "active"));
        assertThat(activated.status()).isEqualTo(200);
        assertThat(activated.json().get("status").asText()).isEqualTo("active");
        assertThat(api.get(base + "?status=active", s.token()).json().get("data"))
                .extracting(w -> w.get("name").asText()).containsExactly("one");
        assertThat(api.get(base + "?status=draft", s.token()).json().get("data"))
                .extracting(w -> w.get("name").asText()).containsExactly("two");
        assertThat(api.get(base + "?status=running", s.token()).status()).isEqualTo(400);
        assertThat(api.patch(base + "/" + a, s.token(), Map.of("status", "deleted")).status()).isEqualTo(400);
        assertThat(api.delete(base + "/" + a, s.token()).status()).isEqualTo(204);
        assertThat(api.get(base + "/" + a, s.token()).status()).isEqualTo(404);
    }

    @Test
    void viewers_cannot_change_workflows() {
        var owner = api.newUser("WfOwner");
        var viewer = api.newUser("WfViewer");
        String org = api.newOrg(owner, "wfperm");
        api.addMember(owner, org, viewer, "viewer");
        String base = "/api/v1/organizations/" + org + "/workflows";
        String id = api.post(base, owner.token(), Map.of("name", "w", "definition", Map.of("nodes", List.of(node("a")))))
                .json().get("id").asText();
        assertThat(api.get(base + "/" + id, viewer.token()).status()).isEqualTo(200);
        assertThat(api.patch(base + "/" + id, viewer.token(), Map.of("name", "x")).status()).isEqualTo(403);
        assertThat(api.delete(base + "/" + id, viewer.token()).status()).isEqualTo(403);
        assertThat(api.post(base, viewer.token(), Map.of("name", "w", "definition", Map.of("nodes", List.of(node("a")))))
                .status()).isEqualTo(403);
    }
}
