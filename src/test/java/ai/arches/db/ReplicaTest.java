package ai.arches.db;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import ai.arches.testing.Api;
import ai.arches.testing.Eventually;
import ai.arches.testing.Prerequisites;
import ai.arches.testing.TestDatabases;
import ai.arches.testing.TestServer;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Reads on a real streaming replica of the test PostgreSQL (scripts/replica.sh, port 5433): the
 * replica serves reads, a caller reads its own writes through a lagging replica (replay paused)
 * on this node and on another one, a replica lagging past the bound or failing is left out with
 * /ready saying so, and a replica whose connections die fails no read.
 *
 * <p>Staleness is shown through the data: a row changed on the primary behind the platform's back
 * (no caller wrote it) while replay is paused is old on the replica, so a read that shows the old
 * value was served there.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReplicaTest {
    private static final String REPLICA_PORT = "5433";

    private boolean startedReplica;
    private String database;
    private TestServer node;
    private TestServer other;
    private Api api;

    @BeforeAll
    void start() throws Exception {
        if (run("status") != 0) {
            int started = run("start");
            Prerequisites.assume("REPLICA", started == 0, "no streaming replica could be started (scripts/replica.sh start)");
            startedReplica = true;
        }
        database = TestDatabases.create();
        Map<String, String> o = new HashMap<>();
        o.put("database.replicas", "jdbc:postgresql://127.0.0.1:" + REPLICA_PORT + "/" + database);
        o.put("database.replica_max_lag", "1s");
        o.put("database.replica_wait", "20ms");
        node = TestServer.startOn(database, o);
        other = TestServer.startOn(database, o);
        api = node.api();
    }

    @AfterAll
    void stop() throws Exception {
        try {
            if (database != null) {
                resumeReplay();
            }
        } finally {
            if (other != null) {
                other.close();
            }
            if (node != null) {
                node.close();
            }
            if (database != null) {
                TestDatabases.drop(database);
            }
            if (startedReplica) {
                run("stop");
            }
        }
    }

    @BeforeEach
    void healthy() {
        // The replica has replayed the database's creation and both nodes use it.
        for (TestServer s : new TestServer[] {node, other}) {
            Eventually.until("replica up on " + s.api().base(), 30_000, () -> readyChecks(s.api()).path("replica").asText().equals("up"));
        }
    }

    @AfterEach
    void resume() throws SQLException {
        if (database != null) {
            resumeReplay();
        }
    }

    @Test
    void reads_go_to_the_replica_and_may_be_stale_for_others() throws SQLException {
        Api.Session owner = api.newUser("Owner");
        Api.Session member = api.newUser("Member");
        String org = api.newOrg(owner, "stale");
        api.addMember(owner, org, member, "member");
        caughtUp();
        double before = replicaReads(api);

        pauseReplay();
        primary("UPDATE organizations SET name = 'renamed behind its back' WHERE id = '" + org + "'");
        // Neither caller wrote it: both read the replica, which has not replayed the change.
        assertThat(orgName(api, owner, org)).isNotEqualTo("renamed behind its back");
        assertThat(orgName(api, member, org)).isNotEqualTo("renamed behind its back");
        assertThat(replicaReads(api)).isGreaterThanOrEqualTo(before + 2);

        resumeReplay();
        Eventually.until("the replica replays the change", 10_000,
                () -> orgName(api, member, org).equals("renamed behind its back"));
    }

    @Test
    void a_caller_reads_its_own_writes_on_every_node_while_the_replica_lags() throws SQLException {
        Api.Session owner = api.newUser("Writer");
        Api.Session member = api.newUser("Reader");
        String org = api.newOrg(owner, "ryw");
        api.addMember(owner, org, member, "member");
        caughtUp();

        pauseReplay();
        var renamed = api.patch("/api/v1/organizations/" + org, owner.token(), Map.of("name", "written by the owner"));
        assertThat(renamed.status()).as(renamed.toString()).isEqualTo(200);
        // The writer sees its write at once, on this node and on the other (the position is in Redis)...
        assertThat(orgName(api, owner, org)).isEqualTo("written by the owner");
        assertThat(orgName(other.api(), owner, org)).isEqualTo("written by the owner");
        // ...while another caller is still served by the replica, which has not replayed it.
        assertThat(orgName(api, member, org)).isNotEqualTo("written by the owner");
        assertThat(readyChecks(api).path("replica").asText()).isEqualTo("up");

        resumeReplay();
        Eventually.until("the replica replays the write", 10_000,
                () -> orgName(other.api(), member, org).equals("written by the owner"));
    }

    @Test
    void a_replica_lagging_past_the_bound_is_left_out_until_it_catches_up() throws SQLException {
        Api.Session owner = api.newUser("Lagging");
        String org = api.newOrg(owner, "lag");
        caughtUp();

        pauseReplay();
        primary("UPDATE organizations SET name = 'changed while lagging' WHERE id = '" + org + "'");
        // The primary moves on, the replica does not: past replica_max_lag (1 s) it is left out.
        Eventually.until("replica degraded", 15_000, () -> {
            try {
                primary("SELECT txid_current()");
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
            return readyChecks(api).path("replica").asText().equals("degraded");
        });
        var ready = api.get("/ready", null);
        assertThat(ready.status()).isEqualTo(200);
        assertThat(ready.json().get("status").asText()).isEqualTo("degraded");
        // Reads now go to the primary: fresh, though the caller did not write.
        assertThat(orgName(api, owner, org)).isEqualTo("changed while lagging");

        resumeReplay();
        Eventually.until("replica back", 15_000, () -> readyChecks(api).path("replica").asText().equals("up"));
    }

    @Test
    void a_replica_whose_connections_die_fails_no_read() throws SQLException {
        Api.Session owner = api.newUser("Survivor");
        String org = api.newOrg(owner, "dying");
        caughtUp();
        for (int i = 0; i < 5; i++) {
            replica("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + database
                    + "' AND pid <> pg_backend_pid()");
            for (int j = 0; j < 5; j++) {
                var r = api.get("/api/v1/organizations", owner.token());
                assertThat(r.status()).as(r.toString()).isEqualTo(200);
            }
        }
        assertThat(orgName(api, owner, org)).isNotBlank();
        Eventually.until("replica back", 15_000, () -> readyChecks(api).path("replica").asText().equals("up"));
    }

    @Test
    void an_unreachable_replica_leaves_reads_on_the_primary_and_ready_degraded() {
        try (TestServer lone = TestServer.startOn(database, Map.of("database.replicas",
                "jdbc:postgresql://127.0.0.1:1/" + database))) {
            Api a = lone.api();
            Eventually.until("replica degraded", 15_000, () -> readyChecks(a).path("replica").asText().equals("degraded"));
            Api.Session s = a.newUser("Primary only");
            String org = a.newOrg(s, "lone");
            var list = a.get("/api/v1/organizations", s.token());
            assertThat(list.status()).isEqualTo(200);
            assertThat(list.json().get("data")).anySatisfy(o -> assertThat(o.get("id").asText()).isEqualTo(org));
            assertThat(replicaReads(a)).isZero();
        }
    }

    private static JsonNode readyChecks(Api a) {
        return a.get("/ready", null).json().path("checks");
    }

    private static String orgName(Api a, Api.Session s, String org) {
        var r = a.get("/api/v1/organizations", s.token());
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        for (JsonNode o : r.json().get("data")) {
            if (o.get("id").asText().equals(org)) {
                return o.get("name").asText();
            }
        }
        throw new AssertionError("organization " + org + " not listed: " + r);
    }

    private static double replicaReads(Api a) {
        String text = a.get("/metrics", null).text();
        double sum = 0;
        for (String line : text.split("\n")) {
            if (line.startsWith("db_replica_reads_total{") && line.contains("target=\"replica\"")) {
                sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return sum;
    }

    /** Waits until the replica has replayed everything the primary has now. */
    private void caughtUp() throws SQLException {
        long target;
        try (Connection c = TestDatabases.superuser(database); Statement s = c.createStatement();
             var rs = s.executeQuery("SELECT pg_current_wal_lsn() - '0/0'")) {
            rs.next();
            target = rs.getLong(1);
        }
        Eventually.until("the replica replays to " + target, 15_000, () -> {
            try (Connection c = replicaConnection(); Statement s = c.createStatement();
                 var rs = s.executeQuery("SELECT pg_last_wal_replay_lsn() - '0/0'")) {
                rs.next();
                return rs.getLong(1) >= target;
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    private void pauseReplay() throws SQLException {
        replica("SELECT pg_wal_replay_pause()");
    }

    private void resumeReplay() throws SQLException {
        replica("SELECT pg_wal_replay_resume()");
    }

    private void primary(String sql) throws SQLException {
        try (Connection c = TestDatabases.superuser(database); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private void replica(String sql) throws SQLException {
        try (Connection c = replicaConnection(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private Connection replicaConnection() throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + REPLICA_PORT + "/" + database,
                TestDatabases.SUPERUSER, "");
    }

    /** Runs scripts/replica.sh with the argument; its exit code. */
    private static int run(String arg) throws IOException, InterruptedException {
        Process p = new ProcessBuilder("bash", Path.of("scripts", "replica.sh").toString(), arg)
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("scripts/replica.sh " + arg + " did not finish: " + out);
        }
        if (p.exitValue() != 0 && !arg.equals("status")) {
            System.err.println("scripts/replica.sh " + arg + ": " + out);
        }
        return p.exitValue();
    }
}
