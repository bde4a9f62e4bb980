package ai.arches.content;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import ai.arches.config.ConfigLoader;
import ai.arches.testing.TestDatabases;

import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.Jdbi;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The nearest-passage statement once pgjdbc server-prepares it (from its fifth run; here from the
 * first): its vector parameter must be typed vector. A text parameter let PostgreSQL's generic plan
 * cast the vector for every row compared (an exact scan of 6,500 passages: 1,004 ms instead of 20).
 */
class SearchStatementTest {
    private static String database;

    @BeforeAll
    static void createDatabase() {
        database = TestDatabases.create();
    }

    @AfterAll
    static void dropDatabase() {
        TestDatabases.drop(database);
    }

    @Test
    void the_query_vector_is_a_vector_parameter_in_the_prepared_statement() {
        var cfg = ConfigLoader.load(Map.of(), Map.of()).search();
        SearchStore store = new SearchStore(cfg);
        String vector = "[" + String.join(",", java.util.Collections.nCopies(384, "0.05")) + "]";
        Jdbi jdbi = Jdbi.create(TestDatabases.url(database) + "?prepareThreshold=1", TestDatabases.APP_USER, "");
        try (Handle h = jdbi.open()) {
            UUID org = UUID.randomUUID();
            for (int i = 0; i < 3; i++) {
                assertThat(store.nearest(h, org, vector, SearchRequest.Filters.NONE, null, 10, true).result()).isEmpty();
                assertThat(store.nearestPage(h, org, vector, SearchRequest.Filters.NONE, 10, false, 5, -2.0)
                        .result()).isEmpty();
            }
            List<String> types = h.createQuery("SELECT parameter_types::text FROM pg_prepared_statements "
                    + "WHERE statement LIKE '%content_passages%embedding%' AND statement NOT LIKE '%pg_prepared_statements%'").mapTo(String.class).list();
            assertThat(types).hasSize(2).allSatisfy(t -> assertThat(t).startsWith("{vector,"));
        }
    }
}
