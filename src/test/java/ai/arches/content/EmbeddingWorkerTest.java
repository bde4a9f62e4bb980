package ai.arches.content;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import ai.arches.embedding.EmbeddingException;
import ai.arches.embedding.Passages;
import ai.arches.testing.Api;
import ai.arches.testing.Metrics;
import ai.arches.testing.TestDatabases;
import ai.arches.testing.TestServer;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/**
 * The background embedding queue end to end: real servers over a real database, with the model
 * replaced by a stub where the test needs to count, fail or hold its calls. State the API does not
 * show (claims, attempts, errors, vectors) is read with SQL. Nothing sleeps on a guess: every wait
 * polls for the expected state until a deadline.
 */
class EmbeddingWorkerTest {
    private static final Duration DEADLINE = Duration.ofSeconds(30);
    /** Far more than a test needs; a latch that times out fails the test instead of hanging it. */

    @Test
    void a_document_goes_pending_then_ready_and_edits_of_its_text_re_embed_it() throws Exception {
        try (TestServer server = TestServer.start(Map.of("embedding.workers", "2"));
             Sql sql = new Sql(server.database())) {
            Api api = server.api();
            Org o = org(api, "Lifecycle");
            String body = words("Lighthouses guide ships along dangerous coasts at night.", 20);
            JsonNode created = api.post(o.base(), o.s().token(), Map.of("title", "Lighthouse keeping", "body", body))
                    .json();
            assertThat(created.get("embeddingStatus").asText()).isEqualTo("pending");
            String id = created.get("id").asText();
            assertThat(apiStatus(api, o, id)).isIn("pending", "processing", "ready");
            eventually("document embedded", () -> apiStatus(api, o, id).equals("ready"));

            List<Passage> first = sql.passages(id);
            assertThat(first).hasSizeGreaterThan(2);
            assertThat(first.getFirst().text()).isEqualTo("Lighthouse keeping");
            assertThat(first).allSatisfy(p -> assertThat(p.vector()).as("passage %d", p.ordinal()).isNotNull());
            assertThat(first).extracting(Passage::ordinal).containsExactly(range(first.size()));
            assertThat(sql.row(id).embedded()).isTrue();

            // Tags are not embedded: the document keeps its vectors.
            var tagged = api.patch(o.base() + "/" + id, o.s().token(), Map.of("tags", List.of("coast")));
            assertThat(tagged.status()).as(tagged.toString()).isEqualTo(200);
            assertThat(tagged.json().get("embeddingStatus").asText()).isEqualTo("ready");
            assertThat(apiStatus(api, o, id)).isEqualTo("ready");
            assertThat(sql.row(id).status()).isEqualTo("ready");

            var edited = api.patch(o.base() + "/" + id, o.s().token(),
                    Map.of("body", "Automated lamps replaced the keepers. " + body));
            assertThat(edited.json().get("embeddingStatus").asText()).isEqualTo("pending");
            eventually("edited document embedded again", () -> apiStatus(api, o, id).equals("ready"));
            List<Passage> second = sql.passages(id);
            assertThat(second.get(1).text()).startsWith("Automated lamps replaced the keepers.");
            assertThat(second).allSatisfy(p -> assertThat(p.vector()).as("passage %d", p.ordinal()).isNotNull());

            var queued = api.post(o.base() + "/" + id + "/embed", o.s().token(), null);
            assertThat(queued.status()).as(queued.toString()).isEqualTo(202);
            // Idle workers may claim it before the response is read (Contents.requeue reads the row
            // after waking them); the exact answer is checked, with a busy worker, further down.
            assertThat(queued.json().get("embeddingStatus").asText()).isIn("pending", "processing");
            eventually("re-queued document embedded", () -> apiStatus(api, o, id).equals("ready"));
            assertThat(sql.passages(id)).allSatisfy(p -> assertThat(p.vector()).isNotNull());

            Api.Session viewer = api.newUser("Viewer");
            api.addMember(o.s(), o.id(), viewer, "viewer");
            assertThat(api.post(o.base() + "/" + id + "/embed", viewer.token(), null).status()).isEqualTo(403);
            assertThat(api.post(o.base() + "/" + UUID.randomUUID() + "/embed", o.s().token(), null).status())
                    .isEqualTo(404);
            Org other = org(api, "Elsewhere");
            assertThat(api.post(other.base() + "/" + id + "/embed", other.s().token(), null).status())
                    .as("another organization's document").isEqualTo(404);
        }
    }

    @Test
    void a_failing_document_is_retried_then_failed_with_its_error_and_re_queued_on_request() throws Exception {
        StubModel stub = new StubModel();
        AtomicInteger poisonCalls = new AtomicInteger();
        CountDownLatch secondAttempt = new CountDownLatch(1);
        CountDownLatch resume = new CountDownLatch(1);
        var healthy = new java.util.concurrent.atomic.AtomicBoolean(false);
        stub.hook = texts -> {
            if (healthy.get() || texts.stream().noneMatch(t -> t.contains("POISON"))) {
                return;
            }
            int call = poisonCalls.incrementAndGet();
            if (call == 2) {
                // StubModel.Hold the retry so the test can look at the state the first failure left.
                secondAttempt.countDown();
                StubModel.await(resume);
            }
            throw new EmbeddingException("stub model refused the input (call " + call + ")");
        };
        try (TestServer server = TestServer.start(Map.of("embedding.workers", "2", "embedding.max_attempts", "3",
                "embedding.retry_backoff", "10ms"), stub);
             Sql sql = new Sql(server.database())) {
            Api api = server.api();
            Org o = org(api, "Failures");
            String bad = create(api, o, "Bad apple", "This text carries a POISON marker.");
            List<String> good = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                good.add(create(api, o, "Good apple " + i, "A perfectly ordinary text."));
            }

            assertThat(secondAttempt.await(DEADLINE.toSeconds(), TimeUnit.SECONDS)).as("second attempt").isTrue();
            Row retrying = sql.row(bad);
            assertThat(retrying.status()).isEqualTo("processing");
            assertThat(retrying.attempts()).isEqualTo(2);
            assertThat(retrying.error()).isEqualTo("stub model refused the input (call 1)");
            assertThat(Metrics.value(api, "embedding_documents_total", "result=\"retry\"")).isEqualTo(1.0);
            resume.countDown();

            eventually("document failed for good", () -> sql.row(bad).status().equals("failed"));
            Row failed = sql.row(bad);
            assertThat(failed.attempts()).isEqualTo(3);
            assertThat(failed.error()).isEqualTo("stub model refused the input (call 3)");
            assertThat(failed.claimed()).isFalse();
            assertThat(failed.embedded()).isFalse();
            assertThat(poisonCalls.get()).as("model calls for the failing document").isEqualTo(3);
            assertThat(Metrics.value(api, "embedding_documents_total", "result=\"failed\"")).isEqualTo(1.0);
            assertThat(Metrics.value(api, "embedding_documents_total", "result=\"retry\"")).isEqualTo(2.0);
            eventually("API shows failed", () -> apiStatus(api, o, bad).equals("failed"));
            for (String id : good) {
                eventually("healthy document " + id + " ready", () -> sql.row(id).status().equals("ready"));
            }

            healthy.set(true);
            var queued = api.post(o.base() + "/" + bad + "/embed", o.s().token(), null);
            assertThat(queued.status()).as(queued.toString()).isEqualTo(202);
            // Not "failed" any more; exactly "pending" is checked with a busy worker in another test.
            assertThat(queued.json().get("embeddingStatus").asText()).isIn("pending", "processing", "ready");
            eventually("re-queued document ready", () -> apiStatus(api, o, bad).equals("ready"));
            Row recovered = sql.row(bad);
            assertThat(recovered.error()).isNull();
            assertThat(recovered.attempts()).as("the count starts again on request").isEqualTo(1);
            assertThat(recovered.embedded()).isTrue();
            assertThat(sql.passages(bad)).allSatisfy(p -> assertThat(p.vector()).isNotNull());
        }
    }

    @Test
    void two_nodes_share_the_work_and_never_embed_a_document_twice() throws Exception {
        StubModel stubA = new StubModel();
        StubModel stubB = new StubModel();
        // Node A's model waits until node B has embedded something: A's two workers then hold at most
        // two batches of two, so B must claim from the rest, and "both did work" cannot pass by luck.
        stubA.hook = texts -> StubModel.await(stubB.firstSuccess);
        Map<String, String> cfg = Map.of("embedding.workers", "2", "embedding.batch_size", "2");
        try (TestServer a = TestServer.start(cfg, stubA);
             TestServer b = TestServer.startOn(a.database(), cfg, stubB);
             Sql sql = new Sql(a.database())) {
            Org o = org(a.api(), "TwoNodes");
            Set<String> titles = new HashSet<>();
            for (int i = 0; i < 40; i++) {
                TestServer node = i % 2 == 0 ? a : b;
                titles.add("Shared document " + i);
                create(node.api(), o, "Shared document " + i, "Body of document number " + i + ".");
            }
            eventually("all 40 documents ready", () -> sql.count(o.id(), "ready") == 40);

            List<String> byA = stubA.titles();
            List<String> byB = stubB.titles();
            assertThat(byA.size() + byB.size()).as("documents embedded across both nodes").isEqualTo(40);
            Set<String> all = new HashSet<>(byA);
            all.addAll(byB);
            assertThat(all).as("each document embedded exactly once").isEqualTo(titles);
            assertThat(byA).as("node A did work").isNotEmpty();
            assertThat(byB).as("node B did work").isNotEmpty();
            System.out.println("two-node embedding split: A " + byA.size() + ", B " + byB.size());

            // Each node's API shows the other node's work (its cache was told).
            for (TestServer node : List.of(a, b)) {
                eventually("list on a node shows all ready", () -> {
                    JsonNode data = node.api().get(o.base() + "?limit=100", o.s().token()).json().get("data");
                    int ready = 0;
                    for (JsonNode c : data) {
                        ready += c.get("embeddingStatus").asText().equals("ready") ? 1 : 0;
                    }
                    return ready == 40;
                });
            }
        }
    }

    @Test
    void a_claim_whose_lease_expired_is_taken_over_and_a_live_one_is_left_alone() throws Exception {
        StubModel stub = new StubModel();
        try (TestServer server = TestServer.start(Map.of("embedding.workers", "1"), stub);
             Sql sql = new Sql(server.database())) {
            Api api = server.api();
            Org o = org(api, "Crashes");
            String dead = create(api, o, "Dead node's document", "Its node died mid-claim.");
            String live = create(api, o, "Live node's document", "Its node is still working on it.");
            eventually("both ready", () -> sql.count(o.id(), "ready") == 2);

            // As a node leaves rows it dies holding: processing, claimed, vectors not yet written.
            sql.update("UPDATE content_passages SET embedding = NULL WHERE content_id IN (?::uuid, ?::uuid)", dead, live);
            sql.update("""
                    UPDATE content SET embedding_status = 'processing', embedding = NULL, embedding_claim = ?::uuid,
                        embedding_claimed_at = now() - interval '10 minutes', embedding_due_at = now() - interval '1 second'
                    WHERE id = ?::uuid""", UUID.randomUUID().toString(), dead);
            UUID liveClaim = UUID.randomUUID();
            sql.update("""
                    UPDATE content SET embedding_status = 'processing', embedding = NULL, embedding_claim = ?::uuid,
                        embedding_claimed_at = now(), embedding_due_at = now() + interval '1 hour'
                    WHERE id = ?::uuid""", liveClaim.toString(), live);

            eventually("expired claim taken over", () -> sql.row(dead).status().equals("ready"));
            Row takenOver = sql.row(dead);
            assertThat(takenOver.attempts()).as("the takeover counts an attempt").isEqualTo(2);
            assertThat(takenOver.claimed()).isFalse();
            assertThat(sql.passages(dead)).allSatisfy(p -> assertThat(p.vector()).isNotNull());
            assertThat(stub.titles()).containsOnlyOnce("Live node's document");

            // A negative check, so it can only be bounded: 1.5 s is 30 poll intervals of the worker
            // (50 ms), long after it took over the expired claim above. The live claim must survive it.
            long until = System.nanoTime() + Duration.ofMillis(1500).toNanos();
            while (System.nanoTime() < until) {
                Row r = sql.row(live);
                assertThat(r.status()).isEqualTo("processing");
                assertThat(r.claim()).isEqualTo(liveClaim);
                pause();
            }
            assertThat(stub.titles()).containsOnlyOnce("Live node's document");

            // Its lease runs out: now it is fair game.
            sql.update("UPDATE content SET embedding_due_at = now() WHERE id = ?::uuid", live);
            eventually("lapsed claim taken over", () -> sql.row(live).status().equals("ready"));
            assertThat(sql.passages(live)).allSatisfy(p -> assertThat(p.vector()).isNotNull());
        }
    }

    @Test
    void an_edit_during_embedding_wins_over_the_result_for_the_old_text() throws Exception {
        StubModel stub = new StubModel();
        StubModel.Hold hold = stub.holdFirstCall(texts -> texts.stream().anyMatch(t -> t.contains("HOLD")));
        try (TestServer server = TestServer.start(Map.of("embedding.workers", "1"), stub);
             Sql sql = new Sql(server.database())) {
            Api api = server.api();
            Org o = org(api, "EditRace");
            String id = create(api, o, "Fruit notes", "The old text is about apples. HOLD");
            assertThat(hold.holding().await(DEADLINE.toSeconds(), TimeUnit.SECONDS)).as("model call under way").isTrue();
            assertThat(sql.row(id).status()).isEqualTo("processing");
            assertThat(apiStatus(api, o, id)).isEqualTo("processing");

            var edited = api.patch(o.base() + "/" + id, o.s().token(), Map.of("body", "The new text is about pears."));
            assertThat(edited.status()).as(edited.toString()).isEqualTo(200);
            assertThat(edited.json().get("embeddingStatus").asText()).isEqualTo("pending");
            // The only worker is still inside the model call, so nothing can have claimed it again.
            Row requeued = sql.row(id);
            assertThat(requeued.status()).isEqualTo("pending");
            assertThat(requeued.claimed()).isFalse();

            hold.release().countDown();
            eventually("embedded with the new text", () -> sql.row(id).status().equals("ready"));
            List<Passage> stored = sql.passages(id);
            assertThat(stored).extracting(Passage::text).containsExactly("Fruit notes", "The new text is about pears.");
            for (Passage p : stored) {
                float[] expected = StubModel.vector(Passages.modelInput("Fruit notes", p.ordinal(), p.text()));
                assertThat(cosine(p.vector(), expected)).as("passage %d holds the new text's vector", p.ordinal())
                        .isGreaterThan(0.9999);
            }
            assertThat(stub.calls).as("one call for the old text, one for the new").hasSize(2);
            eventually("the result for the old text was not counted",
                    () -> Metrics.value(api, "embedding_documents_total", "result=\"ready\"") == 1.0);
            eventually("API shows ready", () -> apiStatus(api, o, id).equals("ready"));
            assertThat(api.get(o.base() + "/" + id, o.s().token()).json().get("body").asText())
                    .isEqualTo("The new text is about pears.");
        }
    }

    @Test
    void re_queueing_answers_pending_and_embeds_the_document_afresh() throws Exception {
        StubModel stub = new StubModel();
        StubModel.Hold hold = stub.holdFirstCall(texts -> texts.getFirst().equals("Busy work"));
        try (TestServer server = TestServer.start(Map.of("embedding.workers", "1"), stub);
             Sql sql = new Sql(server.database())) {
            Api api = server.api();
            Org o = org(api, "Requeue");
            String id = create(api, o, "Requeued", "Embedded once, then queued again on request.");
            eventually("first embedding", () -> sql.row(id).status().equals("ready"));
            // Occupy the only worker, so nothing can claim the re-queued document before we look.
            create(api, o, "Busy work", "Holds the worker.");
            assertThat(hold.holding().await(DEADLINE.toSeconds(), TimeUnit.SECONDS)).as("worker busy").isTrue();
            try {
                var queued = api.post(o.base() + "/" + id + "/embed", o.s().token(), null);
                assertThat(queued.status()).as(queued.toString()).isEqualTo(202);
                assertThat(queued.json().get("embeddingStatus").asText()).isEqualTo("pending");
                assertThat(queued.json().get("id").asText()).isEqualTo(id);
                assertThat(apiStatus(api, o, id)).isEqualTo("pending");
                Row row = sql.row(id);
                assertThat(row.status()).isEqualTo("pending");
                assertThat(row.attempts()).isZero();
                assertThat(row.embedded()).isFalse();
                assertThat(sql.passages(id)).as("re-split, vectors to come")
                        .allSatisfy(p -> assertThat(p.vector()).isNull());
            } finally {
                hold.release().countDown();
            }
            eventually("embedded again", () -> apiStatus(api, o, id).equals("ready"));
            assertThat(sql.passages(id)).allSatisfy(p -> assertThat(p.vector()).isNotNull());
            assertThat(stub.titles()).containsOnlyOnce("Busy work").filteredOn("Requeued"::equals).hasSize(2);
        }
    }

    @Test
    void a_worker_survives_a_batch_it_cannot_read_and_embeds_it_once_it_can() throws Exception {
        StubModel stub = new StubModel();
        try (TestServer server = TestServer.start(Map.of("embedding.workers", "1",
                "database.statement_timeout", "300ms"), stub);
             Sql sql = new Sql(server.database());
             Sql locker = new Sql(server.database())) {
            Api api = server.api();
            Org o = org(api, "Outage");
            String id = create(api, o, "Unreadable", "Its passages cannot be read for a while.");
            eventually("first embedding", () -> sql.row(id).status().equals("ready"));

            double reads = Metrics.queries(api, "embedding.passages");
            locker.lockExclusively("content_passages");
            try {
                sql.update("UPDATE content SET embedding_status = 'pending', embedding_due_at = now() "
                        + "WHERE id = ?::uuid", id);
                // Only the worker reads passages this way; each read times out on the lock. A second
                // one means the worker outlived the first failure.
                eventually("the worker read again after a failed read",
                        () -> Metrics.queries(api, "embedding.passages") >= reads + 2);
            } finally {
                locker.rollback();
            }
            eventually("embedded once the passages are readable", () -> sql.row(id).status().equals("ready"));
            Row row = sql.row(id);
            assertThat(row.attempts()).as("a batch given back is no attempt").isEqualTo(2);
            assertThat(row.error()).isNull();
        }
    }

    @Test
    void the_backlog_gauge_counts_pending_documents_and_drops_to_zero_once_they_are_embedded() throws Exception {
        // Node A embeds nothing (workers 0, the test default), so its backlog can only grow.
        try (TestServer a = TestServer.start(); Sql sql = new Sql(a.database())) {
            Api api = a.api();
            Org o = org(api, "Backlog");
            for (int i = 0; i < 3; i++) {
                create(api, o, "Backlog document " + i, "Waiting for a worker.");
            }
            eventually("backlog of 3 on /metrics", () -> backlog(api, "pending") == 3.0);
            assertThat(api.get("/metrics", null).text()).contains("embedding_backlog{status=\"pending\"}");

            try (TestServer b = TestServer.startOn(a.database(), Map.of("embedding.workers", "1"), new StubModel())) {
                eventually("backlog drained", () -> backlog(api, "pending") == 0.0 && backlog(api, "processing") == 0.0);
                assertThat(sql.count(o.id(), "ready")).isEqualTo(3);
                eventually("node B's gauge agrees", () -> backlog(b.api(), "pending") == 0.0);
            }
        }
    }

    @Test
    void closing_a_node_gives_its_unfinished_claims_back_to_the_queue() throws Exception {
        StubModel stub = new StubModel();
        StubModel.Hold hold = stub.holdFirstCall(texts -> true);
        // The documents are written through node A, which embeds nothing, so node B's one worker
        // later claims all three in a single batch (one slice per organization, so three of them).
        try (TestServer a = TestServer.start(); Sql sql = new Sql(a.database())) {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                Org o = org(a.api(), "Shutdown " + i);
                ids.add(create(a.api(), o, "Shutdown document " + i, "Claimed when the node stops."));
            }
            TestServer b = TestServer.startOn(a.database(),
                    Map.of("embedding.workers", "1", "embedding.batch_size", "3"), stub);
            Thread closer = Thread.ofPlatform().name("closer").unstarted(b::close);
            try {
                assertThat(hold.holding().await(DEADLINE.toSeconds(), TimeUnit.SECONDS)).as("model call under way").isTrue();
                Set<UUID> claims = new HashSet<>();
                for (String id : ids) {
                    Row r = sql.row(id);
                    assertThat(r.status()).isEqualTo("processing");
                    claims.add(r.claim());
                }
                assertThat(claims).as("one batch, one claim").hasSize(1).doesNotContainNull();

                // The worker finishes the document in the model before it stops, so the model call
                // may only return once close() has told the worker to stop. That moment is when the
                // closing thread waits in Thread.join inside EmbeddingWorker.close (the flag is set
                // before it joins): release the model call only then, so the outcome is fixed.
                closer.start();
                eventually("close() waiting for the worker", () -> joiningInWorkerClose(closer));
                hold.release().countDown();
                closer.join(DEADLINE);
                assertThat(closer.isAlive()).as("node closed").isFalse();
            } finally {
                hold.release().countDown();
                if (closer.getState() == Thread.State.NEW) {
                    b.close();
                }
            }

            String inFlight = stub.titles().getFirst();
            for (int i = 0; i < ids.size(); i++) {
                Row r = sql.row(ids.get(i));
                assertThat(r.claimed()).as("document %d still claimed", i).isFalse();
                if (("Shutdown document " + i).equals(inFlight)) {
                    assertThat(r.status()).as("the document in the model").isEqualTo("ready");
                } else {
                    assertThat(r.status()).as("document %d", i).isEqualTo("pending");
                    assertThat(r.attempts()).as("a given-back claim is no attempt").isZero();
                }
            }
            assertThat(stub.calls).hasSize(1);
        }
    }

    // ---- helpers ----

    record Org(Api.Session s, String id, String base) {}

    record Row(String status, int attempts, String error, UUID claim, boolean embedded) {
        boolean claimed() {
            return claim != null;
        }
    }

    record Passage(int ordinal, String text, float[] vector) {}

    /** Reads (and, for crash simulation, writes) queue state the API does not show. */
    private static final class Sql implements AutoCloseable {
        private final Connection c;

        Sql(String database) throws SQLException {
            this.c = TestDatabases.superuser(database);
        }

        Row row(String id) {
            return query("""
                    SELECT embedding_status, embedding_attempts, embedding_error, embedding_claim,
                           embedding IS NOT NULL AS embedded
                    FROM content WHERE id = ?::uuid""", rs -> {
                assertThat(rs.next()).as("document %s exists", id).isTrue();
                String claim = rs.getString(4);
                return new Row(rs.getString(1), rs.getInt(2), rs.getString(3),
                        claim == null ? null : UUID.fromString(claim), rs.getBoolean(5));
            }, id);
        }

        List<Passage> passages(String id) {
            return query("SELECT ordinal, text, embedding::text FROM content_passages WHERE content_id = ?::uuid "
                    + "ORDER BY ordinal", rs -> {
                List<Passage> out = new ArrayList<>();
                while (rs.next()) {
                    out.add(new Passage(rs.getInt(1), rs.getString(2), parse(rs.getString(3))));
                }
                return out;
            }, id);
        }

        int count(String org, String status) {
            return query("SELECT count(*) FROM content WHERE organization_id = ?::uuid AND embedding_status = ?",
                    rs -> {
                        rs.next();
                        return rs.getInt(1);
                    }, org, status);
        }

        void update(String statement, Object... args) {
            try (PreparedStatement s = c.prepareStatement(statement)) {
                bind(s, args);
                assertThat(s.executeUpdate()).as(statement).isPositive();
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        }

        /** Holds an exclusive lock on the table until {@link #rollback()}: every reader waits. */
        void lockExclusively(String table) throws SQLException {
            c.setAutoCommit(false);
            try (var s = c.createStatement()) {
                s.execute("LOCK TABLE " + table + " IN ACCESS EXCLUSIVE MODE");
            }
        }

        void rollback() throws SQLException {
            c.rollback();
            c.setAutoCommit(true);
        }

        private <T> T query(String statement, ResultReader<T> reader, Object... args) {
            try (PreparedStatement s = c.prepareStatement(statement)) {
                bind(s, args);
                try (ResultSet rs = s.executeQuery()) {
                    return reader.read(rs);
                }
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        }

        private static void bind(PreparedStatement s, Object... args) throws SQLException {
            for (int i = 0; i < args.length; i++) {
                s.setObject(i + 1, args[i]);
            }
        }

        private static float[] parse(String vector) {
            if (vector == null) {
                return null;
            }
            String[] parts = vector.substring(1, vector.length() - 1).split(",");
            float[] v = new float[parts.length];
            for (int i = 0; i < parts.length; i++) {
                v[i] = Float.parseFloat(parts[i]);
            }
            return v;
        }

        @Override
        public void close() throws SQLException {
            c.close();
        }

        interface ResultReader<T> {
            T read(ResultSet rs) throws SQLException;
        }
    }

    private static Org org(Api api, String name) {
        Api.Session s = api.newUser(name);
        String id = api.newOrg(s, "embed");
        return new Org(s, id, "/api/v1/organizations/" + id + "/content");
    }

    private static String create(Api api, Org o, String title, String body) {
        var r = api.post(o.base(), o.s().token(), Map.of("title", title, "body", body));
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        return r.json().get("id").asText();
    }

    private static String apiStatus(Api api, Org o, String id) {
        var r = api.get(o.base() + "/" + id, o.s().token());
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        return r.json().get("embeddingStatus").asText();
    }

    private static double backlog(Api api, String status) {
        return Metrics.value(api, "embedding_backlog", "status=\"" + status + "\"");
    }

    /** Polls until the condition holds; fails with {@code what} at the deadline. */
    private static void eventually(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as("deadline passed waiting for: %s", what).isLessThan(deadline);
            pause();
        }
    }

    /** The interval between two looks at the state: a poll, not a guess at how long work takes. */
    private static void pause() {
        try {
            Thread.sleep(10);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static boolean joiningInWorkerClose(Thread t) {
        StackTraceElement[] stack = t.getStackTrace();
        boolean joining = false;
        for (StackTraceElement f : stack) {
            if (f.getClassName().equals(Thread.class.getName()) && f.getMethodName().equals("join")) {
                joining = true;
            } else if (f.getClassName().equals(EmbeddingWorker.class.getName()) && f.getMethodName().equals("close")) {
                return joining;
            }
        }
        return false;
    }

    private static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }

    private static String words(String sentence, int times) {
        return (sentence + " ").repeat(times).strip();
    }

    private static Integer[] range(int n) {
        Integer[] out = new Integer[n];
        for (int i = 0; i < n; i++) {
            out[i] = i;
        }
        return out;
    }
}
