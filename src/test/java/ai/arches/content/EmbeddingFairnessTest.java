package ai.arches.content;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import ai.arches.config.ArchesConfig;
import ai.arches.embedding.Passages;
import ai.arches.testing.Api;
import ai.arches.testing.TestDatabases;
import ai.arches.testing.TestServer;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

/**
 * Issue 10's embedding defects, each driven against real servers over a real database with a stub
 * model: one organization's large documents must not starve another's small one; a dead node's
 * claims come back within a short lease while a live node's are renewed; re-queueing a document
 * being embedded does not embed it twice; a query that cannot get its vector in time is refused
 * (semantic) or answered by keyword (hybrid) instead of waiting.
 */
class EmbeddingFairnessTest {
    private static final Duration DEADLINE = Duration.ofSeconds(60);

    @Test
    void a_small_organizations_document_is_embedded_while_a_large_organizations_documents_wait_their_turn()
            throws Exception {
        // 2 ms of "model time" per passage: org A's three documents are about 20 s of work.
        StubModel stub = new StubModel();
        stub.perPassage = Duration.ofMillis(2);
        try (TestServer server = TestServer.start(Map.of("embedding.workers", "1"), stub)) {
            Api api = server.api();
            Org a = org(api, "Bulk");
            Org b = org(api, "Small");
            List<String> large = new java.util.ArrayList<>();
            for (int i = 0; i < 3; i++) {
                large.add(create(api, a, "Large document " + i, largeBody(i)));
            }
            long start = System.nanoTime();
            String small = create(api, b, "One line", "A single short line from a small organization.");
            eventually("the small organization's document ready", () -> status(api, b, small).equals("ready"));
            double seconds = (System.nanoTime() - start) / 1e9;
            long largeReady = large.stream().filter(id -> status(api, a, id).equals("ready")).count();
            System.out.printf("fairness: small document ready after %.2f s; large documents ready then: %d of 3%n",
                    seconds, largeReady);
            assertThat(largeReady).as("the large organization's documents are still being embedded").isLessThan(3);
            assertThat(seconds).as("seconds until the small document was ready").isLessThan(5.0);
        }
    }

    @Test
    void a_dead_nodes_claim_is_taken_over_within_its_lease_while_a_live_nodes_claim_is_renewed() throws Exception {
        Map<String, String> shortLease = Map.of("embedding.workers", "1", "embedding.lease", "2s");
        StubModel stub1 = new StubModel();
        StubModel.Hold hold = stub1.holdFirstCall(texts -> true);
        StubModel stub2 = new StubModel();
        // The API node embeds nothing; node 1 is a bare worker pool on the same database, which the
        // test kills; node 2 is a full server that should take the dead node's work over.
        try (TestServer api = TestServer.start(); Sql sql = new Sql(api.database())) {
            ArchesConfig.Embedding cfg = TestServer.config(api.database(), shortLease).embedding();
            EmbeddingWorker node1 = new EmbeddingWorker(new EmbeddingQueue(api.arches().database()), (o, d) -> {},
                    stub1, new Passages(cfg.passageWords(), cfg.passageOverlap()), cfg, new SimpleMeterRegistry());
            try {
                Org o = org(api.api(), "Crash");
                String id = create(api.api(), o, "Crash victim", "Claimed by a node that dies in the model.");
                assertThat(hold.holding().await(DEADLINE.toSeconds(), TimeUnit.SECONDS)).as("node 1 in the model").isTrue();
                UUID claim = sql.claim(id);
                assertThat(claim).isNotNull();

                try (TestServer node2 = TestServer.startOn(api.database(), shortLease, stub2)) {
                    // Node 1 is alive, only slow: three leases later its claim still stands (renewed).
                    long until = System.nanoTime() + Duration.ofSeconds(6).toNanos();
                    while (System.nanoTime() < until) {
                        assertThat(sql.claim(id)).as("live claim renewed, not taken over").isEqualTo(claim);
                        pause();
                    }
                    assertThat(stub2.calls).as("node 2 left the live claim alone").isEmpty();

                    // SIGKILL, as far as the database can tell: no more heartbeats, no release, no result.
                    node1.halt();
                    long killed = System.nanoTime();
                    eventually("dead node's document embedded by node 2", () -> "ready".equals(sql.status(id)));
                    double seconds = (System.nanoTime() - killed) / 1e9;
                    System.out.printf("crash: claim of a killed node taken over and embedded after %.2f s (lease 2 s)%n",
                            seconds);
                    assertThat(seconds).as("seconds from kill to embedded (lease 2 s)").isLessThan(5.0);
                    assertThat(stub2.titles()).containsExactly("Crash victim");
                }
            } finally {
                hold.release().countDown();
                node1.close();
            }
        }
    }

    @Test
    void re_queueing_a_document_being_embedded_does_not_embed_it_twice() throws Exception {
        StubModel stub = new StubModel();
        StubModel.Hold hold = stub.holdFirstCall(texts -> texts.getFirst().equals("In flight"));
        try (TestServer server = TestServer.start(Map.of("embedding.workers", "1"), stub)) {
            Api api = server.api();
            Org o = org(api, "Requeue");
            String id = create(api, o, "In flight", "Being embedded when the embed request arrives.");
            assertThat(hold.holding().await(DEADLINE.toSeconds(), TimeUnit.SECONDS)).as("model call under way").isTrue();
            Api.Response queued;
            try {
                queued = api.post(o.base() + "/" + id + "/embed", o.s().token(), null);
            } finally {
                hold.release().countDown();
            }
            assertThat(queued.status()).as(queued.toString()).isEqualTo(202);
            assertThat(queued.json().get("embeddingStatus").asText()).isEqualTo("processing");
            eventually("document ready", () -> status(api, o, id).equals("ready"));
            // Anything re-queued would be claimed at once by the idle worker: give it the chance.
            long until = System.nanoTime() + Duration.ofMillis(500).toNanos();
            while (System.nanoTime() < until) {
                assertThat(status(api, o, id)).isEqualTo("ready");
                pause();
            }
            long calls = stub.titles().stream().filter("In flight"::equals).count();
            System.out.println("re-queue while processing: model calls for the document: " + calls);
            assertThat(calls).as("model calls for the document").isEqualTo(1);
        }
    }

    @Test
    void a_query_not_embedded_in_time_is_503_with_retry_after_for_semantic_and_keyword_only_for_hybrid()
            throws Exception {
        StubModel stub = new StubModel();
        CountDownLatch release = new CountDownLatch(1);
        stub.hook = texts -> {
            if (texts.getFirst().contains("slow query")) {
                StubModel.await(release);
            }
        };
        try (TestServer server = TestServer.start(Map.of(), stub)) {
            Api api = server.api();
            Org o = org(api, "Queries");
            create(api, o, "Keyword match", "A slow query finds this by its words.");
            String marker = UUID.randomUUID().toString();
            try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
                CountDownLatch go = new CountDownLatch(1);
                Future<Api.Response> semantic = pool.submit(() -> {
                    go.await();
                    return api.post(o.base() + "/search", o.s().token(),
                            Map.of("query", "slow query " + marker + " a", "mode", "semantic"));
                });
                Future<Api.Response> hybrid = pool.submit(() -> {
                    go.await();
                    return api.post(o.base() + "/search", o.s().token(),
                            Map.of("query", "slow query " + marker + " b", "mode", "hybrid"));
                });
                long start = System.nanoTime();
                go.countDown();
                Api.Response s;
                Api.Response h;
                try {
                    // The default timeout is 2 s; 8 s leaves room for a loaded machine, far below
                    // the 30 s the stub would hold the model.
                    s = semantic.get(8, TimeUnit.SECONDS);
                    h = hybrid.get(8, TimeUnit.SECONDS);
                } finally {
                    release.countDown();
                }
                System.out.printf("query timeout: answers after %.2f s: semantic %d, hybrid %d%n",
                        (System.nanoTime() - start) / 1e9, s.status(), h.status());
                assertThat(s.status()).as(s.toString()).isEqualTo(503);
                assertThat(s.header("Content-Type")).startsWith("application/problem+json");
                assertThat(s.header("Retry-After")).as("Retry-After").isNotNull();
                assertThat(Long.parseLong(s.header("Retry-After"))).isPositive();
                assertThat(h.status()).as(h.toString()).isEqualTo(200);
                assertThat(h.json().get("mode").asText()).isEqualTo("keyword");
            }
        }
    }

    // ---- helpers ----

    record Org(Api.Session s, String id, String base) {}

    /** Reads queue state the API does not show. */
    private static final class Sql implements AutoCloseable {
        private final Connection c;

        Sql(String database) throws SQLException {
            this.c = TestDatabases.superuser(database);
        }

        UUID claim(String id) {
            String v = one("SELECT embedding_claim::text FROM content WHERE id = ?::uuid", id);
            return v == null ? null : UUID.fromString(v);
        }

        String status(String id) {
            return one("SELECT embedding_status FROM content WHERE id = ?::uuid", id);
        }

        private String one(String statement, String id) {
            try (PreparedStatement s = c.prepareStatement(statement)) {
                s.setString(1, id);
                try (ResultSet rs = s.executeQuery()) {
                    assertThat(rs.next()).as("document %s exists", id).isTrue();
                    return rs.getString(1);
                }
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void close() throws SQLException {
            c.close();
        }
    }

    /** Just under the 1,000,000-character body limit: about 3,000 passages of 64 words. */
    private static String largeBody(int seed) {
        Random r = new Random(seed);
        StringBuilder sb = new StringBuilder(1_000_000);
        while (sb.length() < 990_000) {
            sb.append("word").append(r.nextInt(100_000)).append(' ');
        }
        return sb.toString().strip();
    }

    private static Org org(Api api, String name) {
        Api.Session s = api.newUser(name);
        String id = api.newOrg(s, "fair");
        return new Org(s, id, "/api/v1/organizations/" + id + "/content");
    }

    private static String create(Api api, Org o, String title, String body) {
        var r = api.post(o.base(), o.s().token(), Map.of("title", title, "body", body));
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        return r.json().get("id").asText();
    }

    private static String status(Api api, Org o, String id) {
        var r = api.get(o.base() + "/" + id + "?fields=id,embeddingStatus", o.s().token());
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        return r.json().get("embeddingStatus").asText();
    }

    private static void eventually(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("deadline passed waiting for: %s", what).isLessThan(deadline);
            pause();
        }
    }

    private static void pause() {
        try {
            Thread.sleep(20);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

}
