package ai.arches.workflows.tools;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import ai.arches.auth.Principal;
import ai.arches.auth.Role;
import ai.arches.cache.Caches;
import ai.arches.common.ConflictException;
import ai.arches.common.Cursors;
import ai.arches.config.ArchesConfig;
import ai.arches.config.ConfigLoader;
import ai.arches.content.Contents;
import ai.arches.content.Search;
import ai.arches.db.Database;
import ai.arches.embedding.Embedder;
import ai.arches.embedding.EmbeddingException;
import ai.arches.embedding.Passages;
import ai.arches.http.Json;
import ai.arches.organizations.Access;
import ai.arches.organizations.Organization;
import ai.arches.testing.TestDatabases;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The tools that reach content (create-content, extract by documentId, search) over a real
 * database, with the feature's own objects and no server. No embedding model: semantic search
 * is not exercised here, keyword search is.
 */
class ContentToolsTest {
    private static String database;
    private static Database db;
    private static Caches caches;
    private static Search search;
    private static Contents contents;
    private static Toolbox toolbox;
    private static Access orgA;
    private static Access orgB;
    private static Access viewerA;

    /** Semantic search is not under test: a provider that is always down. */
    private static final Embedder DOWN = new Embedder() {
        @Override
        public String modelId() {
            return "down";
        }

        @Override
        public List<float[]> embed(List<String> texts) {
            throw new EmbeddingException("down");
        }
    };

    @BeforeAll
    static void start() {
        database = TestDatabases.create();
        // Not TestServer.config: touching TestServer loads its embedding model, which nothing here needs.
        ArchesConfig cfg = ConfigLoader.load(Map.of(), Map.of("database.url", TestDatabases.url(database),
                "database.user", TestDatabases.APP_USER, "database.pool.max_connections", "4",
                "database.pool.min_connections", "1", "auth.token_secret", "tools-test-secret-tools-test-secret-0123",
                "redis.url", ""));
        var registry = new SimpleMeterRegistry();
        db = Database.connect(cfg.database(), "tools-test", registry);
        caches = new Caches(cfg.cache(), cfg.redis(), Clock.systemUTC(), Json.MAPPER, registry);
        Passages passages = new Passages(cfg.embedding().passageWords(), cfg.embedding().passageOverlap());
        contents = new Contents(db, new Cursors(new byte[32], cfg.server().maxPageBytes()), Clock.systemUTC(), caches,
                passages);
        search = new Search(db, DOWN, caches, cfg.search(), cfg.server().maxPageBytes());
        toolbox = new Toolbox(contents, search, passages, cfg.workflows(), Json.MAPPER);
        orgA = access(organization("a"), Role.MEMBER);
        orgB = access(organization("b"), Role.MEMBER);
        viewerA = new Access(orgA.organization(), Role.VIEWER, orgA.principal());
    }

    @AfterAll
    static void stop() {
        if (toolbox != null) {
            toolbox.close();
            search.close();
            caches.close();
            db.close();
        }
        TestDatabases.drop(database);
    }

    private static UUID organization(String slug) {
        UUID id = UUID.randomUUID();
        db.withHandle(h -> h.createUpdate("""
                        INSERT INTO organizations (id, name, slug, created_at, updated_at)
                        VALUES (:id, :slug, :slug, now(), now())""")
                .bind("id", id).bind("slug", slug + "-" + id).execute());
        return id;
    }

    private static Access access(UUID org, Role role) {
        Instant now = Instant.now();
        return new Access(new Organization(org, "org", "org", role, now, now), role,
                new Principal.ApiKey(UUID.randomUUID(), org, role, null));
    }

    private static JsonNode run(String tool, Access access, UUID runId, String nodeId, String config) throws Exception {
        return toolbox.get(tool).orElseThrow()
                .run(new ToolCall(access, runId, nodeId, 1, Fixtures.config(config), null));
    }

    @Test
    void create_content_writes_one_document_per_run_and_node_however_often_it_runs() throws Exception {
        UUID run = UUID.randomUUID();
        String config = "{\"title\": \"  Quarterly report \", \"body\": \"Revenue grew in every region.\", "
                + "\"tags\": [\"report\", \"report\", \"q3\"], \"metadata\": {\"source\": \"wf\", "
                + "\"workflowRun\": \"spoofed\"}, \"mimeType\": \"TEXT/Markdown\"}";
        JsonNode first = run("create-content", orgA, run, "write", config);
        JsonNode again = run("create-content", orgA, run, "write", config.replace("Revenue", "Changed"));
        assertThat(again).isEqualTo(first);
        assertThat(first.get("title").asText()).isEqualTo("Quarterly report");
        UUID id = UUID.fromString(first.get("id").asText());
        assertThat(id).isEqualTo(CreateContentTool.id(run, "write"));

        var stored = contents.get(orgA, id);
        assertThat(stored.body()).isEqualTo("Revenue grew in every region.");
        assertThat(stored.tags()).containsExactly("report", "q3");
        assertThat(stored.mimeType()).isEqualTo("text/markdown");
        assertThat(stored.type()).isEqualTo("document");
        assertThat(stored.metadata().get("source").asText()).isEqualTo("wf");
        assertThat(stored.metadata().at("/workflowRun/runId").asText()).isEqualTo(run.toString());
        assertThat(stored.metadata().at("/workflowRun/nodeId").asText()).isEqualTo("write");
        long rows = db.withHandle(h -> h.createQuery("SELECT count(*) FROM content WHERE id = :id")
                .bind("id", id).mapTo(Long.class).one());
        assertThat(rows).isEqualTo(1);

        JsonNode otherNode = run("create-content", orgA, run, "write-2", config);
        assertThat(otherNode.get("id").asText()).isNotEqualTo(first.get("id").asText());
    }

    @Test
    void create_once_never_returns_another_organizations_document() {
        UUID id = UUID.randomUUID();
        var draft = new Contents.Draft("Secret", "of org a", "document", "text/plain", List.of(),
                Json.MAPPER.createObjectNode());
        contents.createOnce(orgA, id, draft);
        assertThatThrownBy(() -> contents.createOnce(orgB, id, draft)).isInstanceOf(ConflictException.class)
                .message().doesNotContain("Secret");
        assertThat(contents.createOnce(orgA, id, draft).title()).isEqualTo("Secret");
    }

    @Test
    void create_content_refuses_a_viewer_and_bad_input() {
        assertThatThrownBy(() -> run("create-content", viewerA, UUID.randomUUID(), "n", "{\"title\": \"t\", \"body\": \"b\"}"))
                .isInstanceOf(ToolException.class).hasMessageContaining("member role");
        assertThatThrownBy(() -> run("create-content", orgA, UUID.randomUUID(), "n",
                "{\"title\": \"" + "x".repeat(501) + "\", \"body\": \"b\"}"))
                .isInstanceOf(ToolException.class).hasMessage("config.title must be at most 500 characters");
        assertThatThrownBy(() -> run("create-content", orgA, UUID.randomUUID(), "n",
                "{\"title\": \"t\", \"body\": \"b\", \"tags\": [\"" + "t".repeat(65) + "\"]}"))
                .hasMessage("config.tags[0] must be at most 64 characters");
    }

    @Test
    void extract_reads_a_document_of_the_runs_organization_only() throws Exception {
        var html = contents.create(orgA, new Contents.Draft("Page", "<html><head><title>x</title></head><body>"
                + "<p>Hello &amp; welcome</p><script>no()</script></body></html>", "page", "text/html", List.of(),
                Json.MAPPER.createObjectNode()));
        JsonNode out = run("extract", orgA, UUID.randomUUID(), "x", "{\"documentId\": \"" + html.id() + "\"}");
        assertThat(out.get("text").asText()).isEqualTo("Hello & welcome");
        assertThat(out.get("title").asText()).isEqualTo("Page");

        assertThatThrownBy(() -> run("extract", orgB, UUID.randomUUID(), "x", "{\"documentId\": \"" + html.id() + "\"}"))
                .isInstanceOf(ToolException.class).hasMessage("document " + html.id() + " not found");
    }

    @Test
    void search_finds_by_keyword_within_the_organization() throws Exception {
        var doc = contents.create(orgA, new Contents.Draft("Zebra migration", "Zebras cross the Mara river each "
                + "year.", "document", "text/plain", List.of("animals"), Json.MAPPER.createObjectNode()));
        JsonNode out = run("search", orgA, UUID.randomUUID(), "s", "{\"query\": \"zebras river\", \"mode\": \"keyword\"}");
        assertThat(out.get("mode").asText()).isEqualTo("keyword");
        assertThat(out.get("count").asInt()).isEqualTo(1);
        assertThat(out.at("/results/0/id").asText()).isEqualTo(doc.id().toString());
        assertThat(out.at("/results/0/title").asText()).isEqualTo("Zebra migration");
        assertThat(out.at("/results/0/score").asDouble()).isPositive();
        assertThat(out.at("/results/0/snippet").asText()).contains("Mara");

        // Hybrid with the embedding provider down answers from keywords, and says so.
        JsonNode hybrid = run("search", orgA, UUID.randomUUID(), "s", "{\"query\": \"zebras\", \"tags\": [\"animals\"]}");
        assertThat(hybrid.get("mode").asText()).isEqualTo("keyword");
        assertThat(hybrid.get("count").asInt()).isEqualTo(1);

        assertThat(run("search", orgA, UUID.randomUUID(), "s", "{\"query\": \"zebras\", \"tags\": [\"plants\"]}")
                .get("count").asInt()).isZero();
        assertThat(run("search", orgB, UUID.randomUUID(), "s", "{\"query\": \"zebras river\", \"mode\": \"keyword\"}")
                .get("count").asInt()).isZero();
    }
}
