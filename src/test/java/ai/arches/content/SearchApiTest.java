package ai.arches.content;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import ai.arches.testing.Api;
import ai.arches.testing.Metrics;
import ai.arches.testing.ServerTest;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/** Search over embedded content: relevance, modes, filters, caching, similar documents, errors. */
class SearchApiTest extends ServerTest {
    private static final Duration EMBED_DEADLINE = Duration.ofSeconds(60);

    @Override
    protected Map<String, String> overrides() {
        return Map.of("embedding.workers", "1");
    }

    /** An organization with a member token and its content path. */
    record Org(Api.Session s, String id, String base) {}

    private Org org(String name) {
        var s = api.newUser(name);
        String id = api.newOrg(s, "search");
        return new Org(s, id, "/api/v1/organizations/" + id + "/content");
    }

    private String create(Org o, Map<String, Object> body) {
        var r = api.post(o.base(), o.s().token(), body);
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        return r.json().get("id").asText();
    }

    private String create(Org o, String title, String body) {
        return create(o, Map.of("title", title, "body", body));
    }

    /** Polls (no sleeping on a guess) until every document of the org is embedded. */
    private void awaitReady(Org o, String... ids) {
        long deadline = System.nanoTime() + EMBED_DEADLINE.toNanos();
        for (String id : ids) {
            while (true) {
                String status = api.get(o.base() + "/" + id, o.s().token()).json().get("embeddingStatus").asText();
                if (status.equals("ready")) {
                    break;
                }
                assertThat(status).as("document %s", id).isNotEqualTo("failed");
                assertThat(System.nanoTime()).as("embedding deadline for %s", id).isLessThan(deadline);
                Thread.onSpinWait();
            }
        }
    }

    private JsonNode search(Org o, Map<String, Object> body) {
        var r = api.post(o.base() + "/search", o.s().token(), body);
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        return r.json();
    }

    private static List<String> titles(JsonNode results) {
        List<String> out = new ArrayList<>();
        results.get("data").forEach(h -> out.add(h.get("title").asText()));
        return out;
    }

    @Test
    void a_database_question_ranks_the_postgresql_document_above_the_recipe() {
        Org o = org("Relevance");
        String pg = create(o, "PostgreSQL query planning",
                "The planner chooses between sequential scans, index scans and bitmap heap scans using table "
                        + "statistics. Run ANALYZE after bulk loads so row estimates stay accurate.");
        String recipe = create(o, "Lemon drizzle cake",
                "Cream the butter and sugar, beat in the eggs, fold in flour and lemon zest, bake for 45 minutes "
                        + "and pour the lemon syrup over the warm sponge.");
        awaitReady(o, pg, recipe);
        for (String mode : List.of("semantic", "hybrid")) {
            var r = search(o, Map.of("query", "how do relational databases decide how to execute a query", "mode", mode));
            assertThat(titles(r)).as(mode).first().isEqualTo("PostgreSQL query planning");
            assertThat(r.get("mode").asText()).isEqualTo(mode);
            assertThat(r.get("tookMs").asLong()).isNotNegative();
            var hits = r.get("data");
            if (hits.size() > 1) {
                assertThat(hits.get(0).get("score").asDouble()).isGreaterThan(hits.get(1).get("score").asDouble());
            }
        }
    }

    @Test
    void synonyms_that_share_no_words_still_match_semantically() {
        Org o = org("Synonyms");
        String bike = create(o, "Repairing flat bicycle tyres",
                "Take the wheel off, find the hole in the inner tube, glue a patch over it and pump it up again.");
        String pg = create(o, "PostgreSQL vacuum", "Autovacuum reclaims dead tuples and keeps statistics current.");
        String cake = create(o, "Lemon drizzle cake", "Cream the butter and sugar, then fold in the flour.");
        awaitReady(o, bike, pg, cake);
        String query = "fix punctured bike tire";
        assertThat(titles(search(o, Map.of("query", query, "mode", "semantic")))).first()
                .isEqualTo("Repairing flat bicycle tyres");
        // Proof that no word is shared: full-text search finds nothing.
        assertThat(search(o, Map.of("query", query, "mode", "keyword")).get("data")).isEmpty();
        assertThat(titles(search(o, Map.of("query", query)))).first().isEqualTo("Repairing flat bicycle tyres");
    }

    @Test
    void keyword_mode_finds_an_exact_rare_term() {
        Org o = org("Rare");
        create(o, "Forest insects", "Many beetles live under bark and eat fungi.");
        String rare = create(o, "Entomology notes", "The xylophagous larvae bore long galleries through dead oak.");
        create(o, "Woodworking", "Oak is hard to plane but finishes beautifully.");
        var r = search(o, Map.of("query", "xylophagous", "mode", "keyword"));
        assertThat(r.get("data")).hasSize(1);
        var hit = r.get("data").get(0);
        assertThat(hit.get("id").asText()).isEqualTo(rare);
        assertThat(hit.get("snippet").asText()).contains("xylophagous");
        assertThat(hit.get("keywordScore").asDouble()).isPositive();
        assertThat(hit.get("semanticScore").isNull()).isTrue();
    }

    @Test
    void keyword_search_works_before_embedding_and_falls_back_to_trigrams_for_short_queries() {
        Org o = org("Trigram");
        create(o, "PostgreSQL replication", "Streaming replication ships WAL to standby servers.");
        create(o, "Nginx configuration", "Server blocks, locations and upstreams.");
        // "postgre" is no word full-text search knows; its trigrams match the title.
        var r = search(o, Map.of("query", "postgre", "mode", "keyword"));
        assertThat(titles(r)).containsExactly("PostgreSQL replication");
        assertThat(r.get("data").get(0).get("snippet").asText()).startsWith("Streaming replication");
        // Stop words only: full-text search has nothing to look for, trigrams answer.
        assertThat(search(o, Map.of("query", "the", "mode", "keyword")).get("data")).isEmpty();
    }

    @Test
    void filters_threshold_limit_and_fields_shape_the_results() {
        Org o = org("Filters");
        String a = create(o, Map.of("title", "Index tuning", "body", "Composite indexes serve multi-column filters.",
                "tags", List.of("db", "perf"), "type", "article", "metadata", Map.of("lang", "en", "level", 2)));
        String b = create(o, Map.of("title", "Index basics", "body", "An index is a sorted copy of some columns.",
                "tags", List.of("db"), "type", "note", "metadata", Map.of("lang", "de")));
        String c = create(o, Map.of("title", "Index cards", "body", "Paper index cards for a recipe box.",
                "tags", List.of("home"), "type", "note"));
        awaitReady(o, a, b, c);
        String q = "database index";
        assertThat(ids(search(o, Map.of("query", q, "filters", Map.of("tags", List.of("db", "perf")))))).containsExactly(a);
        assertThat(ids(search(o, Map.of("query", q, "filters", Map.of("type", "note"))))).containsExactlyInAnyOrder(b, c);
        assertThat(ids(search(o, Map.of("query", q, "mode", "semantic",
                "filters", Map.of("metadata", Map.of("lang", "de")))))).containsExactly(b);
        assertThat(ids(search(o, Map.of("query", q, "mode", "keyword",
                "filters", Map.of("createdAfter", "2999-01-01T00:00:00Z"))))).isEmpty();
        assertThat(ids(search(o, Map.of("query", q, "filters", Map.of("createdBefore", "2999-01-01T00:00:00Z")))))
                .containsExactlyInAnyOrder(a, b, c);
        assertThat(search(o, Map.of("query", q, "limit", 2)).get("data")).hasSize(2);
        var strict = search(o, Map.of("query", q, "mode", "semantic", "threshold", 0.5));
        strict.get("data").forEach(h -> assertThat(h.get("score").asDouble()).isGreaterThanOrEqualTo(0.5));
        assertThat(search(o, Map.of("query", q, "mode", "semantic", "threshold", 1)).get("data")).isEmpty();

        var picked = api.post(o.base() + "/search?fields=id,score", o.s().token(), Map.of("query", q));
        assertThat(picked.status()).isEqualTo(200);
        picked.json().get("data").forEach(h -> assertThat(h.properties()).extracting(Map.Entry::getKey)
                .containsExactlyInAnyOrder("id", "score"));
        assertThat(api.post(o.base() + "/search?fields=body", o.s().token(), Map.of("query", q)).status()).isEqualTo(400);
    }

    @Test
    void weights_move_hybrid_towards_one_side() {
        Org o = org("Weights");
        String exactWords = create(o, "Kernel parameters", "Raise the swappiness setting only with care.");
        String meaning = create(o, "Operating system memory tuning", "How the OS decides when to page memory to disk.");
        awaitReady(o, exactWords, meaning);
        var kwOnly = search(o, Map.of("query", "swappiness", "weights", Map.of("semantic", 0, "keyword", 1)));
        assertThat(ids(kwOnly)).containsExactly(exactWords);
        assertThat(kwOnly.get("data").get(0).get("score").asDouble()).isEqualTo(1.0);
    }

    @Test
    void similar_documents_exclude_the_document_itself() {
        Org o = org("Similar");
        String pg = create(o, "PostgreSQL indexes", "B-tree, GIN and BRIN indexes speed up different queries.");
        String my = create(o, "MySQL indexes", "InnoDB stores secondary indexes as B-trees pointing at primary keys.");
        String cake = create(o, "Carrot cake", "Grate the carrots, mix with flour, sugar and eggs, bake.");
        awaitReady(o, pg, my, cake);
        var r = api.get(o.base() + "/" + pg + "/similar?limit=5", o.s().token());
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        assertThat(ids(r.json())).containsExactly(my, cake);
        assertThat(r.json().get("mode").asText()).isEqualTo("semantic");
        assertThat(api.get(o.base() + "/" + pg + "/similar?limit=0", o.s().token()).status()).isEqualTo(400);
        assertThat(api.get(o.base() + "/" + pg + "/similar?limit=x", o.s().token()).status()).isEqualTo(400);
        assertThat(api.get(o.base() + "/" + java.util.UUID.randomUUID() + "/similar", o.s().token()).status())
                .isEqualTo(404);
    }

    @Test
    void similar_before_embedding_is_a_conflict() throws Exception {
        Org o = org("Unembedded");
        String id = create(o, "Waiting", "Not embedded yet.");
        awaitReady(o, id);
        // Marked failed by hand: a document without vectors, which no worker will pick up again.
        try (var c = ai.arches.testing.TestDatabases.superuser(server.database())) {
            c.createStatement().execute("UPDATE content SET embedding_status = 'failed', embedding = NULL "
                    + "WHERE id = '" + id + "'");
        }
        var r = api.get(o.base() + "/" + id + "/similar", o.s().token());
        assertThat(r.status()).isEqualTo(409);
        assertThat(r.header("Content-Type")).startsWith("application/problem+json");
    }

    @Test
    void results_are_cached_until_the_organizations_content_changes() {
        Org o = org("Cached");
        // Finished embeddings change the organization's content too: wait for them first.
        awaitReady(o, create(o, "Alpha release notes", "The alpha adds streaming exports."));
        var body = Map.<String, Object>of("query", "streaming exports", "mode", "keyword");
        assertThat(search(o, body).get("data")).hasSize(1);
        // A repeated search is answered from the cache. Work still settling after the embedding
        // (a CI run saw one more query) may change the organization once more: then the next
        // search misses once and the one after it must hit; never hitting fails at the deadline.
        long deadline = System.nanoTime() + 10_000_000_000L;
        double before;
        do {
            before = Metrics.queries(api, "search.keyword");
            assertThat(search(o, body).get("data")).hasSize(1);
        } while (Metrics.queries(api, "search.keyword") != before && System.nanoTime() < deadline);
        assertThat(Metrics.queries(api, "search.keyword")).as("a repeated search, from the cache").isEqualTo(before);
        create(o, "Beta release notes", "The beta makes streaming exports resumable.");
        assertThat(search(o, body).get("data")).hasSize(2);
        assertThat(Metrics.queries(api, "search.keyword")).isGreaterThan(before);
    }

    @Test
    void a_cached_result_page_is_served_before_the_query_vector_is_even_looked_up() {
        Org o = org("Result first");
        awaitReady(o, create(o, "Gamma release notes", "Gamma brings offline maps."));
        var body = Map.<String, Object>of("query", "offline maps", "mode", "hybrid");
        assertThat(search(o, body).get("mode").asText()).isEqualTo("hybrid");
        double lookups = Metrics.value(api, "cache_gets_total", "cache=\"query-vectors\"");
        for (int i = 0; i < 5; i++) {
            assertThat(search(o, body).get("data")).hasSize(1);
        }
        assertThat(Metrics.value(api, "cache_gets_total", "cache=\"query-vectors\"")).isEqualTo(lookups);
    }

    @Test
    void a_semantic_page_is_one_statement_with_its_documents_joined_in() {
        Org o = org("One statement");
        String id = create(o, "Delta field guide", "Delta covers river crossings and ferries.");
        awaitReady(o, id);
        search(o, Map.of("query", "ferry timetables", "mode", "semantic")); // learns the organization's size
        double scans = Metrics.queries(api, "search.exact") + Metrics.queries(api, "search.ann");
        double rows = Metrics.queries(api, "search.rows");
        JsonNode page = search(o, Map.of("query", "crossing rivers safely", "mode", "semantic"));
        assertThat(page.get("data")).hasSize(1);
        JsonNode hit = page.get("data").get(0);
        assertThat(hit.get("id").asText()).isEqualTo(id);
        assertThat(hit.get("title").asText()).isEqualTo("Delta field guide");
        assertThat(hit.get("snippet").asText()).contains("river crossings");
        assertThat(hit.get("semanticScore").asDouble()).isEqualTo(hit.get("score").asDouble());
        assertThat(Metrics.queries(api, "search.exact") + Metrics.queries(api, "search.ann")).isEqualTo(scans + 1);
        assertThat(Metrics.queries(api, "search.rows")).isEqualTo(rows);
        // A threshold above every score: an empty page, still one statement.
        JsonNode none = search(o, Map.of("query", "crossing rivers safely", "mode", "semantic", "threshold", 0.99));
        assertThat(none.get("data")).isEmpty();
        assertThat(Metrics.queries(api, "search.exact") + Metrics.queries(api, "search.ann")).isEqualTo(scans + 2);
    }

    @Test
    void a_document_crowding_the_top_passages_still_leaves_room_for_others_in_one_scan() {
        Org o = org("Crowded");
        String para = "River crossings need care: check the current, the depth and the ford before you wade across. ";
        String crowd = create(o, "The river crossing manual", para.repeat(200));
        List<String> ids = new ArrayList<>(List.of(crowd));
        for (int i = 0; i < 5; i++) {
            ids.add(create(o, "Ferry note " + i, "Ferries cross the river " + i + " times a day."));
        }
        awaitReady(o, ids.toArray(String[]::new));
        search(o, Map.of("query", "warm up", "mode", "semantic")); // learns the organization's size
        double scans = Metrics.queries(api, "search.exact") + Metrics.queries(api, "search.ann");
        JsonNode page = search(o, Map.of("query", "how to cross a river safely", "mode", "semantic", "limit", 6));
        assertThat(page.get("data")).hasSize(6);
        assertThat(Metrics.queries(api, "search.exact") + Metrics.queries(api, "search.ann")).isEqualTo(scans + 1);
    }

    @Test
    void query_vectors_stay_in_redis_far_longer_than_rows() throws Exception {
        Org o = org("Vectors");
        search(o, Map.of("query", "a question asked once about vector lifetimes", "mode", "semantic"));
        String pattern = "t-" + server.database() + ":*query-vectors:*";
        List<String> keys = redis("--scan", "--pattern", pattern);
        assertThat(keys).as("query vector keys under %s", pattern).isNotEmpty();
        // search.query_vector_ttl is 24 h (±10% jitter); rows live for cache.l2_ttl, 60 s.
        for (String key : keys) {
            assertThat(Long.parseLong(redis("PTTL", key).getFirst())).as(key)
                    .isGreaterThan(Duration.ofHours(20).toMillis());
        }
    }

    private static List<String> redis(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("redis-cli", "-h", "127.0.0.1", "-p", "6379"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        List<String> lines = new String(p.getInputStream().readAllBytes()).lines().filter(l -> !l.isBlank()).toList();
        assertThat(p.waitFor()).as("redis-cli %s: %s", String.join(" ", args), lines).isZero();
        return lines;
    }

    @Test
    void search_never_crosses_organizations_and_viewers_may_search() {
        Org mine = org("Mine");
        Org theirs = org("Theirs");
        create(theirs, "Secret merger plan", "Confidential: the merger closes in March.");
        create(mine, "Public roadmap", "Our roadmap for the spring.");
        assertThat(search(mine, Map.of("query", "merger", "mode", "keyword")).get("data")).isEmpty();
        // Not a member: the organization does not exist for them.
        assertThat(api.post(theirs.base() + "/search", mine.s().token(), Map.of("query", "merger")).status())
                .isEqualTo(404);
        var viewer = api.newUser("Viewer");
        api.addMember(theirs.s(), theirs.id(), viewer, "viewer");
        assertThat(api.post(theirs.base() + "/search", viewer.token(),
                Map.of("query", "merger", "mode", "keyword")).json().get("data")).hasSize(1);
    }

    @Test
    void invalid_searches_are_400_naming_the_field() {
        Org o = org("Invalid");
        Map<String, Map<String, Object>> cases = Map.of(
                "query", Map.of("mode", "keyword"),
                "mode", Map.of("query", "x", "mode", "fuzzy"),
                "limit", Map.of("query", "x", "limit", 101),
                "threshold", Map.of("query", "x", "threshold", 2),
                "filters.tags", Map.of("query", "x", "filters", Map.of("tags", "db")),
                "filters.colour", Map.of("query", "x", "filters", Map.of("colour", "red")),
                "filters.createdAfter", Map.of("query", "x", "filters", Map.of("createdAfter", "yesterday")),
                "weights.semantic", Map.of("query", "x", "weights", Map.of("semantic", 0, "keyword", 0)),
                "extra", Map.of("query", "x", "extra", true));
        cases.forEach((field, body) -> {
            var r = api.post(o.base() + "/search", o.s().token(), body);
            assertThat(r.status()).as(field).isEqualTo(400);
            assertThat(r.json().get("errors")).as(field)
                    .anySatisfy(e -> assertThat(e.get("field").asText()).isEqualTo(field));
        });
        assertThat(api.post(o.base() + "/search", o.s().token(), Map.of("query", "x", "limit", 1.5)).status())
                .isEqualTo(400);
    }

    private static List<String> ids(JsonNode results) {
        List<String> out = new ArrayList<>();
        results.get("data").forEach(h -> out.add(h.get("id").asText()));
        return out;
    }
}
