package ai.arches.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import ai.arches.testing.Api;
import ai.arches.testing.Eventually;
import ai.arches.testing.Prerequisites;
import ai.arches.testing.TestDatabases;
import ai.arches.testing.TestServer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The project's own deploy/haproxy/haproxy.cfg, run by Debian's HAProxy in front of real nodes
 * (only its ports rewritten, so tests and a running `make cluster` do not collide): a node that
 * does not answer costs no request, and a node stopped under load (the graceful stop: /ready 503,
 * drain, finish) fails no request, which is what a rolling restart of all nodes relies on.
 */
class HaproxyTest {
    private static final Path CONFIG = Path.of("deploy", "haproxy", "haproxy.cfg");

    private String database;
    private final List<TestServer> nodes = new ArrayList<>();
    private Process haproxy;
    private Path config;
    private int front;
    private int stats;

    @BeforeEach
    void requireHaproxy() {
        Prerequisites.assume("HAPROXY", new java.io.File("/usr/sbin/haproxy").canExecute(),
                "haproxy is not installed (Debian package haproxy; make test installs it)");
    }

    @AfterEach
    void stop() throws IOException {
        if (haproxy != null) {
            haproxy.destroy();
        }
        for (TestServer n : nodes) {
            n.close();
        }
        if (database != null) {
            TestDatabases.drop(database);
        }
        if (config != null) {
            Files.deleteIfExists(config);
        }
    }

    @Test
    void the_configuration_is_valid_as_shipped() throws Exception {
        Process p = new ProcessBuilder("haproxy", "-c", "-f", CONFIG.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).doesNotContain("[WARNING]");
    }

    @Test
    void a_node_that_is_down_or_stopping_fails_no_request() throws Exception {
        database = TestDatabases.create();
        // As make cluster runs them: a drain longer than HAProxy's two failed checks a second apart.
        Map<String, String> o = Map.of("server.drain_delay", "3s", "server.trusted_proxies", "127.0.0.1/32");
        nodes.add(TestServer.startOn(database, o));
        nodes.add(TestServer.startOn(database, o));
        int dead = freePort(); // node3: nothing listens there
        start(nodes.get(0).arches().port(), nodes.get(1).arches().port(), dead);
        Api lb = new Api("http://127.0.0.1:" + front);
        Eventually.until("node1 and node2 up, node3 down", 20_000,
                () -> state("node1").equals("UP") && state("node2").equals("UP") && state("node3").startsWith("DOWN"));

        Api.Session s = lb.newUser("Balanced");
        String org = lb.newOrg(s, "lb");
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        Map<String, AtomicInteger> outcomes = new ConcurrentHashMap<>();
        AtomicBoolean running = new AtomicBoolean(true);
        List<Thread> load = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            load.add(Thread.ofVirtual().start(() -> {
                while (running.get()) {
                    String outcome;
                    try {
                        var r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + front
                                        + "/api/v1/organizations/" + org + "/members"))
                                        .header("Authorization", "Bearer " + s.token()).timeout(Duration.ofSeconds(20)).build(),
                                HttpResponse.BodyHandlers.discarding());
                        outcome = Integer.toString(r.statusCode());
                    } catch (IOException e) {
                        outcome = e.getClass().getSimpleName();
                    } catch (InterruptedException e) {
                        return;
                    }
                    outcomes.computeIfAbsent(outcome, k -> new AtomicInteger()).incrementAndGet();
                }
            }));
        }
        // Writes too, without an Idempotency-Key: HAProxy never retries these once sent, so only the
        // drain (the node out of rotation before it closes a connection) keeps them from failing.
        load.add(Thread.ofVirtual().start(() -> {
            int i = 0;
            while (running.get()) {
                String outcome;
                try {
                    var r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + front
                                    + "/api/v1/organizations/" + org + "/content"))
                                    .header("Authorization", "Bearer " + s.token())
                                    .header("Content-Type", "application/json")
                                    .POST(HttpRequest.BodyPublishers.ofString("{\"title\":\"w" + i++ + "\",\"body\":\"b\"}"))
                                    .timeout(Duration.ofSeconds(20)).build(),
                            HttpResponse.BodyHandlers.discarding());
                    outcome = "POST " + r.statusCode();
                } catch (IOException e) {
                    outcome = "POST " + e.getClass().getSimpleName();
                } catch (InterruptedException e) {
                    return;
                }
                outcomes.computeIfAbsent(outcome, k -> new AtomicInteger()).incrementAndGet();
            }
        }));
        Eventually.until("requests served on both nodes", 20_000, () -> served("node1") > 20 && served("node2") > 20);

        // node1 stops as SIGTERM stops it: HAProxy takes it out during the drain, in-flight requests finish.
        long servedBefore = served("node1");
        nodes.removeFirst().close();
        int after = total(outcomes);
        Eventually.until("more requests after the stop", 20_000, () -> total(outcomes) > after + 50);
        running.set(false);
        for (Thread t : load) {
            t.join(30_000);
        }
        assertThat(served("node1")).isGreaterThan(servedBefore); // it served during its drain
        assertThat(outcomes.keySet()).as("outcomes %s", outcomes).containsOnly("200", "POST 201");
        assertThat(state("node1")).startsWith("DOWN");

        // A write reaches a live node even though one of three is gone.
        var doc = lb.post("/api/v1/organizations/" + org + "/content", s.token(), Map.of("title", "t", "body", "b"));
        assertThat(doc.status()).isEqualTo(201);
    }

    private static int total(Map<String, AtomicInteger> outcomes) {
        return outcomes.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    /** The project's configuration with this test's ports; everything else as shipped. */
    private void start(int node1, int node2, int node3) throws IOException {
        front = freePort();
        stats = freePort();
        String text = Files.readString(CONFIG)
                .replace("bind :8000", "bind 127.0.0.1:" + front)
                .replace("stats socket ipv4@127.0.0.1:8001 level admin", "")
                .replace("bind 127.0.0.1:8404", "bind 127.0.0.1:" + stats)
                .replace("127.0.0.1:8081", "127.0.0.1:" + node1)
                .replace("127.0.0.1:8082", "127.0.0.1:" + node2)
                .replace("127.0.0.1:8083", "127.0.0.1:" + node3)
                .replace("log stdout format raw local0 info", "");
        assertThat(text).contains("127.0.0.1:" + node3, "bind 127.0.0.1:" + front, "bind 127.0.0.1:" + stats);
        config = Files.createTempFile("arches-haproxy", ".cfg");
        Files.writeString(config, text);
        haproxy = new ProcessBuilder("haproxy", "-W", "-db", "-f", config.toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        Eventually.until("HAProxy answers", 10_000, () -> {
            try {
                return !state("node1").isEmpty();
            } catch (RuntimeException e) {
                return false;
            }
        });
    }

    /** A server's status on HAProxy's stats page (UP, DOWN, MAINT, "UP 1/2", ...). */
    private String state(String server) {
        return statsField(server, "status");
    }

    /** Requests a server was sent (stats column stot: sessions). */
    private long served(String server) {
        String v = statsField(server, "stot");
        return v.isEmpty() ? 0 : Long.parseLong(v);
    }

    private String statsField(String server, String field) {
        try {
            var r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + stats + "/stats;csv")).build(), HttpResponse.BodyHandlers.ofString());
            String[] lines = r.body().split("\n");
            List<String> header = List.of(lines[0].replaceFirst("^# ", "").split(","));
            int col = header.indexOf(field);
            for (String line : lines) {
                String[] f = line.split(",", -1);
                if (f.length > col && f[0].equals("nodes") && f[1].equals(server)) {
                    return f[col];
                }
            }
            return "";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
