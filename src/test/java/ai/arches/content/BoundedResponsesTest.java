package ai.arches.content;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import ai.arches.testing.ServerTest;
import ai.arches.testing.TestDatabases;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/**
 * Every response has a bounded size, with the defaults (server.max_page_bytes 1 MiB,
 * cache.l2_max_value_bytes 256 KiB): lists of 1 MB documents and workflows carry summaries,
 * whole values on request stop at the page budget, and Redis holds no value above its cap.
 */
class BoundedResponsesTest extends ServerTest {
    private static final int BUDGET = 1 << 20;
    private static final int L2_CAP = 256 << 10;
    private static final int DOCS = 40;
    /** Just under the 1,000,000-character document limit. */
    private static final int BODY_CHARS = 990_000;

    /** 40 documents of ~1 MB, straight into the table (the API would spend minutes on passages). */
    private Map<String, Integer> seedDocuments(String org) throws Exception {
        try (var c = TestDatabases.superuser(server.database())) {
            c.createStatement().execute("""
                    INSERT INTO content (id, organization_id, title, body, type, mime_type, created_at, updated_at)
                    SELECT gen_random_uuid(), '%s', 'large ' || g,
                           left('document ' || g || ' ' || repeat('lorem ipsum dolor sit amet ', 40000), %d),
                           'document', 'text/plain', now() - g * interval '1 second', now()
                    FROM generate_series(1, %d) g""".formatted(org, BODY_CHARS, DOCS));
            Map<String, Integer> lengths = new HashMap<>();
            try (var rs = c.createStatement().executeQuery(
                    "SELECT id, length(body) FROM content WHERE organization_id = '" + org + "'")) {
                while (rs.next()) {
                    lengths.put(rs.getString(1), rs.getInt(2));
                }
            }
            return lengths;
        }
    }

    @Test
    void a_page_of_large_documents_carries_excerpts_and_stays_small() throws Exception {
        var s = api.newUser("Excerpts");
        String org = api.newOrg(s, "excerpts");
        Map<String, Integer> lengths = seedDocuments(org);
        var r = api.get("/api/v1/organizations/" + org + "/content?limit=40", s.token());
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.bytes().length).as("bytes of a limit=40 page").isLessThan(64 << 10);
        JsonNode data = r.json().get("data");
        assertThat(data).hasSize(DOCS);
        assertThat(r.json().get("nextCursor").isNull()).isTrue();
        for (JsonNode item : data) {
            assertThat(item.has("body")).isFalse();
            assertThat(item.get("excerpt").asText()).hasSize(280).startsWith("document ");
            assertThat(item.get("bodyLength").asInt()).isEqualTo(lengths.get(item.get("id").asText()));
        }
    }

    @Test
    void whole_bodies_stop_at_the_page_budget_and_a_walk_sees_every_document_once() throws Exception {
        var s = api.newUser("Bodies");
        String org = api.newOrg(s, "bodies");
        Map<String, Integer> lengths = seedDocuments(org);
        String base = "/api/v1/organizations/" + org + "/content?fields=id,body&limit=40";
        List<String> seen = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
            var r = api.get(base + (cursor == null ? "" : "&cursor=" + cursor), s.token());
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bytes().length).as("bytes of page %d", pages).isLessThanOrEqualTo(BUDGET);
            for (JsonNode item : r.json().get("data")) {
                seen.add(item.get("id").asText());
                assertThat(item.get("body").asText().codePointCount(0, item.get("body").asText().length()))
                        .isEqualTo(lengths.get(item.get("id").asText()));
            }
            cursor = r.json().get("nextCursor").isNull() ? null : r.json().get("nextCursor").asText();
            pages++;
        } while (cursor != null && pages < 100);
        assertThat(seen).doesNotHaveDuplicates();
        assertThat(new HashSet<>(seen)).isEqualTo(lengths.keySet());
        assertThat(pages).isGreaterThan(1);
    }

    @Test
    void workflow_lists_carry_graph_sizes_and_whole_definitions_stop_at_the_budget() throws Exception {
        var s = api.newUser("Graphs");
        String org = api.newOrg(s, "graphs");
        int flows = 12;
        // 500 nodes of ~1.9 KB config each: about 1 MB per definition, the request body limit.
        try (var c = TestDatabases.superuser(server.database())) {
            c.createStatement().execute("""
                    INSERT INTO workflows (id, organization_id, name, definition, created_at, updated_at)
                    SELECT gen_random_uuid(), '%s', 'flow ' || g,
                           jsonb_build_object('nodes', (SELECT jsonb_agg(jsonb_build_object('id', 'n' || i,
                               'type', 'tool', 'config', jsonb_build_object('text', repeat('x', 1900))))
                               FROM generate_series(1, 500) i), 'edges', '[]'::jsonb),
                           now() - g * interval '1 second', now()
                    FROM generate_series(1, %d) g""".formatted(org, flows));
        }
        String base = "/api/v1/organizations/" + org + "/workflows";
        var summaries = api.get(base + "?limit=100", s.token());
        assertThat(summaries.status()).isEqualTo(200);
        assertThat(summaries.bytes().length).as("bytes of a workflow page").isLessThan(64 << 10);
        assertThat(summaries.json().get("data")).hasSize(flows);
        for (JsonNode w : summaries.json().get("data")) {
            assertThat(w.has("definition")).isFalse();
            assertThat(w.get("nodeCount").asInt()).isEqualTo(500);
            assertThat(w.get("edgeCount").asInt()).isZero();
        }
        Set<String> seen = new HashSet<>();
        String cursor = null;
        int pages = 0;
        do {
            var r = api.get(base + "?fields=id,definition&limit=100" + (cursor == null ? "" : "&cursor=" + cursor),
                    s.token());
            assertThat(r.status()).isEqualTo(200);
            assertThat(r.bytes().length).as("bytes of page %d", pages).isLessThanOrEqualTo(BUDGET);
            for (JsonNode w : r.json().get("data")) {
                assertThat(seen.add(w.get("id").asText())).as("seen once").isTrue();
                assertThat(w.get("definition").get("nodes")).hasSize(500);
            }
            cursor = r.json().get("nextCursor").isNull() ? null : r.json().get("nextCursor").asText();
            pages++;
        } while (cursor != null && pages < 100);
        assertThat(seen).hasSize(flows);
    }

    @Test
    void redis_holds_no_value_above_its_cap_and_large_values_are_still_served() throws Exception {
        var s = api.newUser("Cap");
        String org = api.newOrg(s, "cap");
        String base = "/api/v1/organizations/" + org + "/content";
        String large = "word ".repeat(80_000);
        String big = api.post(base, s.token(), Map.of("title", "big", "body", large)).json().get("id").asText();
        String small = api.post(base, s.token(), Map.of("title", "small", "body", "tiny")).json().get("id").asText();
        for (int i = 0; i < 2; i++) {
            assertThat(api.get(base + "/" + big, s.token()).json().get("body").asText()).isEqualTo(large);
            assertThat(api.get(base + "/" + small, s.token()).json().get("body").asText()).isEqualTo("tiny");
            assertThat(api.get(base + "?fields=id,body", s.token()).json().get("data")).hasSize(2);
            assertThat(api.get(base, s.token()).json().get("data")).hasSize(2);
        }
        String prefix = "t-" + server.database() + ":";
        List<String> keys = redis("--scan", "--pattern", prefix + "[0-9]*:content*");
        // The small document and the summary page are cached: the scan sees what was written.
        assertThat(keys).anyMatch(k -> k.endsWith(small));
        assertThat(keys).anyMatch(k -> k.contains(":content-pages:"));
        assertThat(keys).noneMatch(k -> k.endsWith(big));
        for (String key : keys) {
            assertThat(Long.parseLong(redis("STRLEN", key).getFirst())).as(key).isLessThanOrEqualTo(L2_CAP);
        }
    }

    @Test
    void search_results_with_large_metadata_stop_at_the_budget() {
        var s = api.newUser("Hits");
        String org = api.newOrg(s, "hits");
        String base = "/api/v1/organizations/" + org + "/content";
        for (int i = 0; i < 3; i++) {
            assertThat(api.post(base, s.token(), Map.of("title", "lighthouse " + i, "body", "keepers and lamps",
                    "metadata", Map.of("blob", "y".repeat(600_000)))).status()).isEqualTo(201);
        }
        var r = api.post(base + "/search", s.token(), Map.of("query", "lighthouse", "mode", "keyword"));
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.bytes().length).as("bytes of the results").isLessThanOrEqualTo(BUDGET);
        assertThat(r.json().get("data")).hasSize(1);
        assertThat(r.json().get("truncated").asBoolean()).isTrue();
    }

    private static List<String> redis(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("redis-cli", "-h", "127.0.0.1", "-p", "6379"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        List<String> lines = new String(p.getInputStream().readAllBytes()).lines().filter(l -> !l.isBlank()).toList();
        assertThat(p.waitFor()).as("redis-cli %s: %s", String.join(" ", args), lines).isZero();
        return lines;
    }
}
