package ai.arches.idempotency;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import ai.arches.common.InvalidInputException;
import ai.arches.embedding.Embedder;
import ai.arches.embedding.EmbeddingException;
import ai.arches.embedding.Vectors;
import ai.arches.testing.Api;
import ai.arches.testing.Eventually;
import ai.arches.testing.Metrics;
import ai.arches.testing.OffsetClock;
import ai.arches.testing.TestServer;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Idempotency-Key on POST, through the API of a real server: replays, 422 for another request,
 * 409 while the first runs, what is kept and what is not, owners and tenants apart, expiry. The
 * first request is held deterministically inside the embedding model (a semantic search).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class IdempotencyTest {
    private static final String KEY = "Idempotency-Key";
    private static final String REPLAYED = "Idempotent-Replayed";

    private final GatedModel model = new GatedModel();
    private final OffsetClock clock = new OffsetClock();
    /** Requests held in flight run here (the common pool has one thread on two cores). */
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    private TestServer server;
    private Api api;

    @BeforeAll
    void start() {
        // A held query must not time out in the model's queue; a retry waits 5 s for the first (the default).
        // Runs never start (no workers), so an organization's second queued run is refused (429).
        server = TestServer.start(Map.of("idempotency.max_wait", "5s", "search.query_embed_timeout", "1m",
                "workflows.workers", "0", "workflows.max_queued_per_org", "1"), model, clock);
        api = server.api();
    }

    @AfterAll
    void stop() {
        threads.close();
        if (server != null) {
            server.close();
        }
    }

    @Test
    void a_retry_gets_the_first_response_and_nothing_is_created_twice() {
        var s = api.newUser("Retrier");
        String org = api.newOrg(s, "retry");
        String path = content(org);
        Map<String, Object> doc = Map.of("title", "Invoice 42", "body", "paid in full");
        String key = UUID.randomUUID().toString();

        var first = post(path, s.token(), doc, key);
        assertThat(first.status()).isEqualTo(201);
        assertThat(first.header(REPLAYED)).isNull();
        for (int i = 0; i < 5; i++) {
            var retry = post(path, s.token(), doc, key);
            assertThat(retry.status()).isEqualTo(201);
            assertThat(retry.header(REPLAYED)).isEqualTo("true");
            assertThat(retry.json()).isEqualTo(first.json());
            assertThat(retry.header("Location")).isEqualTo(first.header("Location"));
            assertThat(retry.header("Content-Type")).isEqualTo(first.header("Content-Type"));
        }
        assertThat(documents(org, "Invoice 42")).isEqualTo(1);
        assertThat(api.get(path, s.token()).json().get("data")).hasSize(1);
        assertThat(Metrics.value(api, "idempotency_requests_total", "outcome=\"replayed\"")).isGreaterThanOrEqualTo(5);
    }

    @Test
    void the_same_key_with_another_request_is_422_naming_the_header() {
        var s = api.newUser("Mixer");
        String org = api.newOrg(s, "mix");
        String key = UUID.randomUUID().toString();
        assertThat(post(content(org), s.token(), Map.of("title", "A", "body", "a"), key).status()).isEqualTo(201);

        var otherBody = post(content(org), s.token(), Map.of("title", "B", "body", "b"), key);
        assertThat(otherBody.status()).isEqualTo(422);
        assertThat(otherBody.header("Content-Type")).startsWith("application/problem+json");
        assertThat(otherBody.json().get("errors").get(0).get("field").asText()).isEqualTo(KEY);
        var otherQuery = post(content(org) + "?fields=id", s.token(), Map.of("title", "A", "body", "a"), key);
        assertThat(otherQuery.status()).isEqualTo(422);
        var otherPath = post("/api/v1/organizations/" + org + "/workflows", s.token(),
                Map.of("title", "A", "body", "a"), key);
        assertThat(otherPath.status()).isEqualTo(422);

        assertThat(documents(org, "A")).isEqualTo(1);
        assertThat(documents(org, "B")).isZero();
    }

    @Test
    void a_retry_while_the_first_runs_waits_then_gets_409_with_retry_after() throws Exception {
        var s = api.newUser("Impatient");
        String org = api.newOrg(s, "busy");
        Map<String, Object> query = semantic();
        String key = UUID.randomUUID().toString();
        var hold = model.holdNextCall();
        var first = CompletableFuture.supplyAsync(() -> post(search(org), s.token(), query, key), threads);
        try {
            assertThat(hold.holding().await(30, TimeUnit.SECONDS)).as("the first request reached the model").isTrue();
            long started = System.nanoTime();
            var second = post(search(org), s.token(), query, key);
            assertThat(second.status()).isEqualTo(409);
            assertThat(second.header("Retry-After")).isEqualTo("1");
            assertThat(second.json().get("detail").asText()).contains("in progress");
            assertThat(Duration.ofNanos(System.nanoTime() - started)).as("it waited for the first")
                    .isGreaterThanOrEqualTo(Duration.ofSeconds(5));
        } finally {
            hold.release().countDown();
        }
        var done = first.get(30, TimeUnit.SECONDS);
        assertThat(done.status()).isEqualTo(200);
        var third = post(search(org), s.token(), query, key);
        assertThat(third.status()).isEqualTo(200);
        assertThat(third.header(REPLAYED)).isEqualTo("true");
        assertThat(third.json()).isEqualTo(done.json());
    }

    @Test
    void a_retry_waiting_for_the_first_gets_its_response() throws Exception {
        var s = api.newUser("Patient");
        String org = api.newOrg(s, "wait");
        Map<String, Object> query = semantic();
        String key = UUID.randomUUID().toString();
        var hold = model.holdNextCall();
        var first = CompletableFuture.supplyAsync(() -> post(search(org), s.token(), query, key), threads);
        CompletableFuture<Api.Response> second;
        try {
            assertThat(hold.holding().await(30, TimeUnit.SECONDS)).isTrue();
            double waitingBefore = Metrics.unlabelled(api, "idempotency_waiting");
            second = CompletableFuture.supplyAsync(() -> post(search(org), s.token(), query, key), threads);
            Eventually.until("the retry waits for the first", 3_500,
                    () -> Metrics.unlabelled(api, "idempotency_waiting") > waitingBefore);
        } finally {
            hold.release().countDown();
        }
        var one = first.get(30, TimeUnit.SECONDS);
        var two = second.get(30, TimeUnit.SECONDS);
        assertThat(one.status()).isEqualTo(200);
        assertThat(two.status()).isEqualTo(200);
        assertThat(two.header(REPLAYED)).isEqualTo("true");
        assertThat(two.json()).isEqualTo(one.json());
    }

    @Test
    void a_5xx_is_not_kept_and_the_retry_runs_again() {
        var s = api.newUser("Unlucky");
        String org = api.newOrg(s, "down");
        Map<String, Object> query = semantic();
        String key = UUID.randomUUID().toString();
        model.failNextCall();
        var failed = post(search(org), s.token(), query, key);
        assertThat(failed.status()).isEqualTo(503);
        assertThat(keyRows(key)).as("released, not kept").isZero();

        var retry = post(search(org), s.token(), query, key);
        assertThat(retry.status()).isEqualTo(200);
        assertThat(retry.header(REPLAYED)).isNull();
        int kept = server.arches().database().withHandle(h -> h.createQuery(
                "SELECT status FROM idempotency_keys WHERE key = :key").bind("key", key).mapTo(Integer.class).one());
        assertThat(kept).isEqualTo(200);
    }

    @Test
    void a_429_is_not_kept_and_the_retry_runs_again() {
        var s = api.newUser("Queuer");
        String org = api.newOrg(s, "queue");
        var wf = api.post("/api/v1/organizations/" + org + "/workflows", s.token(), Map.of("name", "flow", "definition",
                Map.of("nodes", List.of(Map.of("id", "t", "type", "tool", "tool", "transform", "config", Map.of("value", 1))),
                        "edges", List.of())));
        assertThat(wf.status()).isEqualTo(201);
        String runs = "/api/v1/organizations/" + org + "/workflows/" + wf.json().get("id").asText() + "/runs";
        var queued = api.post(runs, s.token(), Map.of());
        assertThat(queued.status()).isEqualTo(202);
        String key = UUID.randomUUID().toString();

        var refused = post(runs, s.token(), Map.of(), key);
        assertThat(refused.status()).isEqualTo(429);
        assertThat(keyRows(key)).as("released, not kept").isZero();
        assertThat(api.post("/api/v1/organizations/" + org + "/runs/" + queued.json().get("id").asText() + "/cancel",
                s.token(), null).status()).isEqualTo(202);

        var started = post(runs, s.token(), Map.of(), key);
        assertThat(started.status()).isEqualTo(202);
        assertThat(started.header(REPLAYED)).isNull();
        var again = post(runs, s.token(), Map.of(), key);
        assertThat(again.header(REPLAYED)).isEqualTo("true");
        assertThat(again.json().get("id")).isEqualTo(started.json().get("id"));
        assertThat(again.header("Location")).isEqualTo(started.header("Location"));
    }

    @Test
    void a_4xx_answer_is_kept_and_replayed() {
        var s = api.newUser("Sloppy");
        String org = api.newOrg(s, "sloppy");
        String key = UUID.randomUUID().toString();
        var first = post(content(org), s.token(), Map.of("body", "no title"), key);
        assertThat(first.status()).isEqualTo(400);
        var retry = post(content(org), s.token(), Map.of("body", "no title"), key);
        assertThat(retry.status()).isEqualTo(400);
        assertThat(retry.header(REPLAYED)).isEqualTo("true");
        assertThat(retry.json()).isEqualTo(first.json()); // the first request's id included
    }

    @Test
    void a_204_is_replayed_where_running_again_would_fail() {
        var s = api.newUser("Rotator");
        String key = UUID.randomUUID().toString();
        Map<String, Object> change = Map.of("currentPassword", "correct horse", "newPassword", "battery staple");
        var first = post("/api/v1/users/me/password", s.token(), change, key);
        assertThat(first.status()).isEqualTo(204);
        // Run again, the old password would now be wrong (403).
        var retry = post("/api/v1/users/me/password", s.token(), change, key);
        assertThat(retry.status()).isEqualTo(204);
        assertThat(retry.header(REPLAYED)).isEqualTo("true");
        assertThat(retry.bytes()).isEmpty();
    }

    @Test
    void a_new_api_key_is_replayed_but_its_secret_is_not_stored_readable() {
        var s = api.newUser("Keymaker");
        String org = api.newOrg(s, "keys");
        String key = UUID.randomUUID().toString();
        Map<String, Object> req = Map.of("name", "ci", "role", "member");
        var first = post("/api/v1/organizations/" + org + "/api-keys", s.token(), req, key);
        assertThat(first.status()).isEqualTo(201);
        String secret = first.json().get("key").asText();
        var retry = post("/api/v1/organizations/" + org + "/api-keys", s.token(), req, key);
        assertThat(retry.header(REPLAYED)).isEqualTo("true");
        assertThat(retry.json().get("key").asText()).isEqualTo(secret);
        assertThat(retry.header("Cache-Control")).isEqualTo("no-store");

        byte[] stored = server.arches().database().withHandle(h -> h.createQuery(
                "SELECT body FROM idempotency_keys WHERE key = :key").bind("key", key).mapTo(byte[].class).one());
        assertThat(new String(stored, StandardCharsets.ISO_8859_1)).doesNotContain(secret).doesNotContain("\"key\"");
        long keys = server.arches().database().withHandle(h -> h.createQuery(
                "SELECT count(*) FROM api_keys WHERE organization_id = CAST(:org AS uuid)").bind("org", org)
                .mapTo(Long.class).one());
        assertThat(keys).isEqualTo(1);
    }

    @Test
    void each_caller_has_its_own_keys() {
        var owner = api.newUser("Owner");
        var member = api.newUser("Member");
        String org = api.newOrg(owner, "shared");
        api.addMember(owner, org, member, "member");
        String apiKey = api.post("/api/v1/organizations/" + org + "/api-keys", owner.token(),
                Map.of("name", "bot", "role", "member")).json().get("key").asText();
        Map<String, Object> doc = Map.of("title", "Same", "body", "same body");
        String key = UUID.randomUUID().toString();

        var byOwner = post(content(org), owner.token(), doc, key);
        var byMember = post(content(org), member.token(), doc, key);
        var byKey = post(content(org), apiKey, doc, key);
        for (var r : List.of(byOwner, byMember, byKey)) {
            assertThat(r.status()).isEqualTo(201);
            assertThat(r.header(REPLAYED)).isNull();
        }
        assertThat(List.of(byOwner, byMember, byKey)).extracting(r -> r.json().get("id").asText()).doesNotHaveDuplicates();
        assertThat(documents(org, "Same")).isEqualTo(3);
        assertThat(post(content(org), member.token(), doc, key).json().get("id")).isEqualTo(byMember.json().get("id"));
    }

    @Test
    void tenants_are_isolated() {
        var alice = api.newUser("Alice");
        var bob = api.newUser("Bob");
        String orgA = api.newOrg(alice, "tenant-a");
        String orgB = api.newOrg(bob, "tenant-b");
        String key = "order-1";
        Map<String, Object> doc = Map.of("title", "Order 1", "body", "private to each tenant");

        var a = post(content(orgA), alice.token(), doc, key);
        var b = post(content(orgB), bob.token(), doc, key);
        assertThat(a.status()).isEqualTo(201);
        assertThat(b.status()).isEqualTo(201);
        assertThat(b.header(REPLAYED)).isNull();
        assertThat(b.json().get("organizationId").asText()).isEqualTo(orgB);
        assertThat(post(content(orgB), bob.token(), doc, key).json()).isEqualTo(b.json());
        assertThat(post(content(orgA), alice.token(), doc, key).json()).isEqualTo(a.json());
        // Alice's key sent to Bob's organization neither runs there nor reveals anything of it.
        var crossed = post(content(orgB), alice.token(), doc, key);
        assertThat(crossed.status()).isEqualTo(422);
        assertThat(crossed.text()).doesNotContain(b.json().get("id").asText());
        assertThat(documents(orgA, "Order 1")).isEqualTo(1);
        assertThat(documents(orgB, "Order 1")).isEqualTo(1);
    }

    @Test
    void a_key_expires_after_24_hours_and_the_sweep_deletes_it() {
        var s = api.newUser("Tomorrow");
        String org = api.newOrg(s, "expiry");
        Map<String, Object> doc = Map.of("title", "Daily", "body", "report");
        String key = UUID.randomUUID().toString();
        String swept = UUID.randomUUID().toString();
        var today = post(content(org), s.token(), doc, key);
        assertThat(today.status()).isEqualTo(201);
        assertThat(post(content(org), s.token(), Map.of("title", "Other", "body", "x"), swept).status()).isEqualTo(201);

        clock.advance(Duration.ofHours(23).plusMinutes(59));
        var fresh = api.login(s.email(), "correct horse", s.userId()); // the access token expired meanwhile
        assertThat(post(content(org), fresh.token(), doc, key).header(REPLAYED)).isEqualTo("true");

        clock.advance(Duration.ofMinutes(2));
        var tomorrow = post(content(org), fresh.token(), doc, key);
        assertThat(tomorrow.status()).isEqualTo(201);
        assertThat(tomorrow.header(REPLAYED)).isNull();
        assertThat(tomorrow.json().get("id")).isNotEqualTo(today.json().get("id"));
        assertThat(documents(org, "Daily")).isEqualTo(2);

        assertThat(keyRows(swept)).isEqualTo(1);
        assertThat(server.arches().idempotency().sweep()).isPositive();
        assertThat(keyRows(swept)).isZero();
        assertThat(keyRows(key)).as("taken over today, so kept").isEqualTo(1);
    }

    @Test
    void a_key_held_by_a_node_that_died_is_taken_over_once_its_lock_runs_out() {
        var s = api.newUser("Survivor");
        String org = api.newOrg(s, "crash");
        String path = content(org);
        Map<String, Object> doc = Map.of("title", "After the crash", "body", "written once");
        String key = UUID.randomUUID().toString();
        // What a node leaves when it is killed mid-request: the key in flight, with its lock.
        Instant now = clock.instant();
        byte[] fingerprint = KeyHeader.fingerprint("POST", path, "", Api.json(doc));
        server.arches().database().withHandle(h -> h.createUpdate("""
                        INSERT INTO idempotency_keys (owner_id, key, fingerprint, created_at, locked_until, lock_token)
                        VALUES (CAST(:owner AS uuid), :key, :fingerprint, :now, :until, :token)""")
                .bind("owner", s.userId()).bind("key", key).bind("fingerprint", fingerprint).bind("now", now)
                .bind("until", now.plusSeconds(60)).bind("token", UUID.randomUUID()).execute());

        clock.advance(Duration.ofSeconds(61)); // idempotency.lock_timeout (60 s) later
        var retry = post(path, s.token(), doc, key);
        assertThat(retry.status()).isEqualTo(201);
        assertThat(retry.header(REPLAYED)).isNull();
        assertThat(post(path, s.token(), doc, key).json()).isEqualTo(retry.json());
        assertThat(documents(org, "After the crash")).isEqualTo(1);
    }

    @Test
    void a_bad_key_is_400_naming_the_header_and_runs_nothing() {
        var s = api.newUser("Careless");
        String org = api.newOrg(s, "badkey");
        Map<String, Object> doc = Map.of("title", "Never", "body", "stored");
        for (String bad : List.of("k".repeat(256), "\"unbalanced\"quote\"", "\"\"")) {
            var r = post(content(org), s.token(), doc, bad);
            assertThat(r.status()).as(bad).isEqualTo(400);
            assertThat(r.json().get("errors").get(0).get("field").asText()).isEqualTo(KEY);
        }
        assertThat(post(content(org), s.token(), doc, "k".repeat(255)).status()).isEqualTo(201);
        assertThat(documents(org, "Never")).isEqualTo(1);
    }

    @Test
    void key_forms() {
        assertThat(KeyHeader.key(List.of("  plain-key_1 "))).isEqualTo("plain-key_1");
        assertThat(KeyHeader.key(List.of("\"8e03978e-40d5\""))).isEqualTo("8e03978e-40d5");
        assertThat(KeyHeader.key(List.of("\"a \\\"quoted\\\" \\\\ key\""))).isEqualTo("a \"quoted\" \\ key");
        assertThat(KeyHeader.key(List.of("with space"))).isEqualTo("with space");
        for (List<String> bad : List.of(List.of(""), List.of("é"), List.of("tab\there"), List.of("a", "b"),
                List.of("\"bad \\escape\""), List.of("x".repeat(256)))) {
            assertThatThrownBy(() -> KeyHeader.key(bad)).as(bad.toString()).isInstanceOf(InvalidInputException.class)
                    .satisfies(e -> assertThat(((InvalidInputException) e).errors().getFirst().field()).isEqualTo(KEY));
        }
    }

    @Test
    void other_methods_ignore_the_header() {
        var s = api.newUser("Reader");
        String org = api.newOrg(s, "reads");
        String bad = "x".repeat(300);
        var list = api.send("GET", content(org), s.token(), null, null, Map.of(KEY, bad));
        assertThat(list.status()).isEqualTo(200);
        assertThat(list.header(REPLAYED)).isNull();
        String id = post(content(org), s.token(), Map.of("title", "t", "body", "b"), UUID.randomUUID().toString())
                .json().get("id").asText();
        var patch = api.send("PATCH", content(org) + "/" + id, s.token(), "application/json",
                Api.json(Map.of("title", "t2")), Map.of(KEY, bad));
        assertThat(patch.status()).isEqualTo(200);
        assertThat(keyRows(bad)).isZero();
    }

    // ---- helpers ----

    private Api.Response post(String path, String token, Object body, String key) {
        return api.send("POST", path, token, "application/json", Api.json(body), Map.of(KEY, key));
    }

    private static String content(String org) {
        return "/api/v1/organizations/" + org + "/content";
    }

    private static String search(String org) {
        return content(org) + "/search";
    }

    /** A semantic search with a text never asked before, so that it reaches the model. */
    private static Map<String, Object> semantic() {
        return Map.of("query", "held query " + UUID.randomUUID(), "mode", "semantic");
    }

    private long documents(String org, String title) {
        return server.arches().database().withHandle(h -> h.createQuery(
                        "SELECT count(*) FROM content WHERE organization_id = CAST(:org AS uuid) AND title = :title")
                .bind("org", org).bind("title", title).mapTo(Long.class).one());
    }

    private long keyRows(String key) {
        return server.arches().database().withHandle(h -> h.createQuery(
                "SELECT count(*) FROM idempotency_keys WHERE key = :key").bind("key", key).mapTo(Long.class).one());
    }

    /** An embedding model whose next call can be held inside it, or fail. */
    static final class GatedModel implements Embedder {
        record Hold(CountDownLatch holding, CountDownLatch release) {}

        private final AtomicReference<Hold> nextHold = new AtomicReference<>();
        private final AtomicBoolean failNext = new AtomicBoolean();

        Hold holdNextCall() {
            Hold h = new Hold(new CountDownLatch(1), new CountDownLatch(1));
            nextHold.set(h);
            return h;
        }

        void failNextCall() {
            failNext.set(true);
        }

        @Override
        public String modelId() {
            return "gated";
        }

        @Override
        public List<float[]> embed(List<String> texts) {
            if (failNext.getAndSet(false)) {
                throw new EmbeddingException("gated model failed as asked");
            }
            Hold h = nextHold.getAndSet(null);
            if (h != null) {
                h.holding().countDown();
                try {
                    if (!h.release().await(30, TimeUnit.SECONDS)) {
                        throw new EmbeddingException("held too long");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new EmbeddingException("interrupted while held");
                }
            }
            return texts.stream().map(GatedModel::vector).toList();
        }

        private static float[] vector(String text) {
            Random r = new Random(text.hashCode());
            float[] v = new float[Embedder.DIMENSIONS];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) r.nextGaussian();
            }
            return Vectors.normalize(v);
        }
    }
}
