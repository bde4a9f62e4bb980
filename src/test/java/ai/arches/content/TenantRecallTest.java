package ai.arches.content;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import ai.arches.testing.Api;
import ai.arches.testing.TestDatabases;
import ai.arches.testing.TestServer;

import com.pgvector.PGvector;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * A small organization inside a table whose vectors mostly belong to a large one, arranged
 * adversarially: every one of the large organization's vectors is nearer the query than any of
 * the small one's. A plain filtered HNSW scan then finds nothing for the small organization (its
 * candidate list holds only the large one's rows, which the tenant filter removes); the search
 * must still return the small organization's true best match, both through the index (iterative
 * scan, forced with exact_threshold 0) and through the exact path small organizations take.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TenantRecallTest {
    private static final String QUERY = "how do database indexes speed up lookups";
    private static final int LARGE = 6_000;

    private TestServer indexed;
    private TestServer exact;
    private String smallBase;
    private String smallOrg;
    private String largeOrg;
    private Api.Session owner;
    private String best;

    @BeforeAll
    void seed() throws Exception {
        indexed = TestServer.start(Map.of("embedding.workers", "1", "search.exact_threshold", "0",
                "search.hnsw.ef_search", "40", "search.max_scan_tuples", "20000", "search.cache_results", "false"));
        exact = TestServer.startOn(indexed.database(), Map.of("search.cache_results", "false"));
        Api api = indexed.api();
        owner = api.newUser("Tenant");
        smallOrg = api.newOrg(owner, "small");
        largeOrg = api.newOrg(owner, "large");
        smallBase = "/api/v1/organizations/" + smallOrg + "/content";
        best = api.post(smallBase, owner.token(), Map.of("title", "B-tree indexes in PostgreSQL",
                "body", "An index lets the database find matching rows without reading the whole table.")).json()
                .get("id").asText();
        List<String> others = List.of(
                api.post(smallBase, owner.token(), Map.of("title", "Sourdough starter", "body",
                        "Feed the starter with flour and water every day.")).json().get("id").asText(),
                api.post(smallBase, owner.token(), Map.of("title", "Tide tables", "body",
                        "High water comes about fifty minutes later each day.")).json().get("id").asText());
        awaitReady(api, best);
        others.forEach(id -> awaitReady(api, id));

        float[] q = TestServer.MODEL.embed(List.of(QUERY)).getFirst();
        try (Connection c = TestDatabases.superuser(indexed.database());
             PreparedStatement ps = c.prepareStatement("""
                     WITH docs AS (
                         INSERT INTO content (id, organization_id, title, body, type, mime_type, embedding_status,
                                              created_at, updated_at)
                         SELECT gen_random_uuid(), CAST(? AS uuid), 'near ' || g, '', 'document', 'text/plain',
                                'ready', now(), now()
                         FROM generate_series(1, ?) g RETURNING id)
                     INSERT INTO content_passages (content_id, ordinal, organization_id, text, embedding)
                     SELECT id, 0, CAST(? AS uuid), 'near',
                            CAST(? AS vector) + (SELECT CAST(array_agg((random() - 0.5) * 0.04) AS vector)
                                                 FROM generate_series(1, 384) WHERE docs.id IS NOT NULL)
                     FROM docs""")) {
            ps.setString(1, largeOrg);
            ps.setInt(2, LARGE);
            ps.setString(3, largeOrg);
            ps.setString(4, new PGvector(q).toString());
            assertThat(ps.executeUpdate()).isEqualTo(LARGE);
            c.createStatement().execute("ANALYZE content_passages");
        }
        assertThat(indexed.arches().vectorIndex().await(Duration.ofSeconds(60))).isTrue();
    }

    @AfterAll
    void stop() {
        if (exact != null) {
            exact.close();
        }
        if (indexed != null) {
            indexed.close();
        }
    }

    private void awaitReady(Api api, String id) {
        // The poll's own round trips pace it; the deadline bounds it.
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!api.get(smallBase + "/" + id, owner.token()).json().get("embeddingStatus").asText().equals("ready")) {
            assertThat(System.nanoTime()).as("embedding deadline for %s", id).isLessThan(deadline);
        }
    }

    @Test
    void the_arrangement_defeats_a_plain_filtered_index_scan() throws Exception {
        float[] q = TestServer.MODEL.embed(List.of(QUERY)).getFirst();
        try (Connection c = TestDatabases.superuser(indexed.database())) {
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                st.execute("SET LOCAL hnsw.iterative_scan = off");
                st.execute("SET LOCAL hnsw.ef_search = 40");
                // Sorting off: the HNSW index is then the only way to produce the order.
                st.execute("SET LOCAL enable_sort = off");
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM (SELECT content_id "
                    + "FROM content_passages WHERE organization_id = CAST(? AS uuid) "
                    + "ORDER BY embedding <=> CAST(? AS vector) LIMIT 10) t")) {
                ps.setString(1, smallOrg);
                ps.setString(2, new PGvector(q).toString());
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    assertThat(rs.getInt(1)).as("rows a non-iterative scan finds for the small org").isZero();
                }
            }
            c.rollback();
        }
    }

    @Test
    void the_index_path_finds_the_small_organizations_best_match() {
        assertBestFirst(indexed);
    }

    @Test
    void the_exact_path_finds_the_small_organizations_best_match() {
        assertBestFirst(exact);
    }

    @Test
    void the_large_organization_sees_only_its_own_documents() {
        var r = indexed.api().post("/api/v1/organizations/" + largeOrg + "/content/search", owner.token(),
                Map.of("query", QUERY, "mode", "semantic", "limit", 20));
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.json().get("data")).hasSize(20)
                .allSatisfy(h -> assertThat(h.get("organizationId").asText()).isEqualTo(largeOrg));
    }

    private void assertBestFirst(TestServer node) {
        for (String mode : List.of("semantic", "hybrid")) {
            var r = node.api().post(smallBase + "/search", owner.token(), Map.of("query", QUERY, "mode", mode));
            assertThat(r.status()).as(r.toString()).isEqualTo(200);
            var data = r.json().get("data");
            assertThat(data).as(mode).hasSize(3);
            assertThat(data.get(0).get("id").asText()).as(mode).isEqualTo(best);
            data.forEach(h -> assertThat(h.get("organizationId").asText()).isEqualTo(smallOrg));
        }
    }
}
