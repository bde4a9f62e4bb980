package ai.arches.content;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import ai.arches.testing.ServerTest;

import org.junit.jupiter.api.Test;

class ContentApiTest extends ServerTest {

    @Test
    void create_read_update_delete() {
        var s = api.newUser("Writer");
        String base = "/api/v1/organizations/" + api.newOrg(s, "docs") + "/content";
        var created = api.post(base, s.token(), Map.of("title", "PostgreSQL tuning", "body", "shared_buffers...",
                "tags", List.of("db", "perf", "db"), "metadata", Map.of("source", "wiki", "stars", 5)));
        assertThat(created.status()).isEqualTo(201);
        var c = created.json();
        assertThat(c.get("embeddingStatus").asText()).isEqualTo("pending");
        assertThat(c.get("type").asText()).isEqualTo("document");
        assertThat(c.get("mimeType").asText()).isEqualTo("text/plain");
        assertThat(c.get("tags")).extracting(t -> t.asText()).containsExactly("db", "perf");
        assertThat(c.get("metadata").get("stars").asInt()).isEqualTo(5);
        assertThat(c.get("createdBy").asText()).isEqualTo(s.userId());
        String id = c.get("id").asText();
        assertThat(created.header("Location")).endsWith("/content/" + id);

        assertThat(api.get(base + "/" + id, s.token()).json()).isEqualTo(c);

        var patched = api.patch(base + "/" + id, s.token(), Map.of("tags", List.of("x")));
        assertThat(patched.status()).isEqualTo(200);
        assertThat(patched.json().get("title").asText()).isEqualTo("PostgreSQL tuning");
        assertThat(patched.json().get("tags")).extracting(t -> t.asText()).containsExactly("x");

        assertThat(api.delete(base + "/" + id, s.token()).status()).isEqualTo(204);
        assertThat(api.get(base + "/" + id, s.token()).status()).isEqualTo(404);
        assertThat(api.delete(base + "/" + id, s.token()).status()).isEqualTo(404);
        assertThat(api.get(base + "/not-a-uuid", s.token()).status()).isEqualTo(404);
    }

    @Test
    void list_filters_by_tag() {
        var s = api.newUser("Tagger");
        String base = "/api/v1/organizations/" + api.newOrg(s, "tags") + "/content";
        api.post(base, s.token(), Map.of("title", "a", "body", "", "tags", List.of("red")));
        api.post(base, s.token(), Map.of("title", "b", "body", "", "tags", List.of("blue")));
        api.post(base, s.token(), Map.of("title", "c", "body", "", "tags", List.of("red", "blue")));
        var red = api.get(base + "?tag=red", s.token()).json().get("data");
        assertThat(red).extracting(n -> n.get("title").asText()).containsExactly("c", "a");
        assertThat(api.get(base + "?tag=", s.token()).status()).isEqualTo(400);
    }

    @Test
    void viewers_read_members_write() {
        var owner = api.newUser("Boss");
        var viewer = api.newUser("Viewer");
        var member = api.newUser("Member");
        String org = api.newOrg(owner, "perm");
        api.addMember(owner, org, viewer, "viewer");
        api.addMember(owner, org, member, "member");
        String base = "/api/v1/organizations/" + org + "/content";
        var made = api.post(base, member.token(), Map.of("title", "t", "body", "b"));
        assertThat(made.status()).isEqualTo(201);
        String id = made.json().get("id").asText();
        assertThat(api.get(base + "/" + id, viewer.token()).status()).isEqualTo(200);
        assertThat(api.post(base, viewer.token(), Map.of("title", "t", "body", "b")).status()).isEqualTo(403);
        assertThat(api.patch(base + "/" + id, viewer.token(), Map.of("title", "x")).status()).isEqualTo(403);
        assertThat(api.delete(base + "/" + id, viewer.token()).status()).isEqualTo(403);
        assertThat(api.get(base + "/" + id, viewer.token()).json().get("title").asText()).isEqualTo("t");
    }

    @Test
    void invalid_input_is_400_naming_fields() {
        var s = api.newUser("Bad");
        String base = "/api/v1/organizations/" + api.newOrg(s, "bad") + "/content";
        var r = api.post(base, s.token(), Map.of("body", "no title", "type", "Not A Type", "mimeType", "nonsense"));
        assertThat(r.status()).isEqualTo(400);
        assertThat(r.json().get("errors")).extracting(e -> e.get("field").asText())
                .contains("title", "type", "mimeType");
        var nul = api.post(base, s.token(), Map.of("title", "nul\u0000byte", "body", "x"));
        assertThat(nul.status()).isEqualTo(400);
        var nulMeta = api.post(base, s.token(), Map.of("title", "ok", "body", "x", "metadata", Map.of("k", "a\u0000b")));
        assertThat(nulMeta.status()).isEqualTo(400);
        var tooMany = api.post(base, s.token(), Map.of("title", "ok", "body", "x",
                "tags", java.util.stream.IntStream.range(0, 51).mapToObj(i -> "t" + i).toList()));
        assertThat(tooMany.status()).isEqualTo(400);
        assertThat(api.get(base, s.token()).json().get("data")).isEmpty();
        assertThat(api.patch(base + "/00000000-0000-7000-8000-000000000000", s.token(), Map.of()).status())
                .isIn(400, 404);
    }

    @Test
    void changing_title_or_body_queues_the_document_for_embedding_again() throws Exception {
        var s = api.newUser("Embed");
        String base = "/api/v1/organizations/" + api.newOrg(s, "embed") + "/content";
        String id = api.post(base, s.token(), Map.of("title", "t", "body", "b")).json().get("id").asText();
        try (var c = ai.arches.testing.TestDatabases.superuser(server.database())) {
            c.createStatement().execute("UPDATE content SET embedding_status = 'ready' WHERE id = '" + id + "'");
        }
        assertThat(api.patch(base + "/" + id, s.token(), Map.of("tags", List.of("a"))).json()
                .get("embeddingStatus").asText()).isEqualTo("ready");
        assertThat(api.patch(base + "/" + id, s.token(), Map.of("body", "new body")).json()
                .get("embeddingStatus").asText()).isEqualTo("pending");
    }
}
