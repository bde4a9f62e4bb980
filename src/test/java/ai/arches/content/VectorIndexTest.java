package ai.arches.content;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import ai.arches.testing.TestDatabases;
import ai.arches.testing.TestServer;

import org.junit.jupiter.api.Test;

/**
 * The vector index follows the configuration: HNSW by default, IVFFlat when asked, with the
 * parameters in its name; switching builds the new one and drops the old, and search keeps
 * answering through either (forced onto the index path with exact_threshold 0).
 */
class VectorIndexTest {

    @Test
    void switching_the_index_kind_replaces_the_index_and_search_still_answers() throws Exception {
        try (TestServer hnsw = TestServer.start(Map.of("embedding.workers", "1", "search.exact_threshold", "0",
                "search.cache_results", "false"))) {
            assertThat(hnsw.arches().vectorIndex().await(Duration.ofSeconds(60))).isTrue();
            assertThat(indexes(hnsw.database())).containsExactly("idx_passages_embedding_hnsw_m16_efc200");

            var api = hnsw.api();
            var s = api.newUser("Indexer");
            String base = "/api/v1/organizations/" + api.newOrg(s, "ix") + "/content";
            String id = api.post(base, s.token(), Map.of("title", "Vacuum and bloat",
                    "body", "Dead tuples accumulate until vacuum reclaims them.")).json().get("id").asText();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!api.get(base + "/" + id, s.token()).json().get("embeddingStatus").asText().equals("ready")) {
                assertThat(System.nanoTime()).as("embedding deadline").isLessThan(deadline);
            }

            try (TestServer ivf = TestServer.startOn(hnsw.database(), Map.of("search.index", "ivfflat",
                    "search.ivfflat.lists", "4", "search.ivfflat.probes", "4", "search.exact_threshold", "0",
                    "search.cache_results", "false"))) {
                assertThat(ivf.arches().vectorIndex().await(Duration.ofSeconds(60))).isTrue();
                assertThat(indexes(hnsw.database())).containsExactly("idx_passages_embedding_ivfflat_l4");
                var r = ivf.api().post(base + "/search", s.token(),
                        Map.of("query", "removing dead rows from tables", "mode", "semantic"));
                assertThat(r.status()).isEqualTo(200);
                assertThat(r.json().get("data").get(0).get("id").asText()).isEqualTo(id);
            }
        }
    }

    private static List<String> indexes(String database) throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = TestDatabases.superuser(database);
             ResultSet rs = c.createStatement().executeQuery("SELECT indexname FROM pg_indexes "
                     + "WHERE tablename = 'content_passages' AND indexname LIKE 'idx_passages_embedding_%'")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}
