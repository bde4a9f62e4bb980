package ai.arches.db;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;

import ai.arches.testing.Api;
import ai.arches.testing.Eventually;
import ai.arches.testing.ServerTest;
import ai.arches.testing.TestDatabases;

import org.junit.jupiter.api.Test;

/**
 * PostgreSQL dropping the platform's connections under load (what a restart does to them): the
 * requests caught get 503 with Retry-After, never 500; the pool reconnects by itself; and every
 * write that was acknowledged is there afterwards.
 */
class DatabaseOutageTest extends ServerTest {

    @Test
    void connections_killed_under_load_give_503_with_retry_after_then_the_node_recovers() throws Exception {
        var s = api.newUser("Outage");
        String org = api.newOrg(s, "outage");
        String path = "/api/v1/organizations/" + org + "/content";
        Api client = api.withoutContractCheck();
        AtomicBoolean stop = new AtomicBoolean();
        ConcurrentLinkedQueue<Api.Response> answers = new ConcurrentLinkedQueue<>();
        try (var writers = Executors.newVirtualThreadPerTaskExecutor();
             Connection admin = TestDatabases.superuser(server.database())) {
            for (int t = 0; t < 8; t++) {
                writers.submit(() -> {
                    for (int i = 0; !stop.get(); i++) {
                        answers.add(client.post(path, s.token(), Map.of("title", "write " + i, "body", "")));
                    }
                    return null;
                });
            }
            // Five times, 150 ms apart, every connection of the platform's pools is terminated,
            // as a restart of PostgreSQL would (statements in flight fail with 57P01 or 08006).
            for (int k = 0; k < 5; k++) {
                // Writers answered since the last kill: new connections with statements in flight.
                int seen = answers.size();
                Eventually.until("writes between kills", 10_000, () -> answers.size() >= seen + 8);
                try (Statement st = admin.createStatement()) {
                    st.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            + "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                            + "AND application_name LIKE 'arches%'");
                }
            }
            // Recovered: within 5 s of the last kill a write succeeds again.
            Eventually.status("a write within 5 s of the last kill", 201, 5_000,
                    () -> client.post(path, s.token(), Map.of("title", "after", "body", "")).status());
            stop.set(true);
        }

        List<String> created = new ArrayList<>();
        int unavailable = 0;
        for (Api.Response r : answers) {
            if (r.status() == 201) {
                created.add(r.json().get("id").asText());
                continue;
            }
            assertThat(r.status()).as(r.toString()).isEqualTo(503);
            assertThat(r.header("Retry-After")).isEqualTo("1");
            assertThat(r.header("Content-Type")).startsWith("application/problem+json");
            unavailable++;
        }
        assertThat(unavailable).as("requests caught by the kills").isPositive();
        assertThat(created).isNotEmpty();
        // Every acknowledged write is in the database.
        try (Connection c = TestDatabases.superuser(server.database());
             PreparedStatement q = c.prepareStatement("SELECT count(*) FROM content WHERE id = ANY(?::uuid[])")) {
            q.setArray(1, c.createArrayOf("text", created.toArray()));
            try (ResultSet rs = q.executeQuery()) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(created.size());
            }
        }
    }
}
