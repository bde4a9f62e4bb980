package ai.arches.db;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import ai.arches.testing.TestDatabases;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Migrations build the schema from an empty database, and the queries that lists and lookups
 * run use the guide's indexes on a table large enough for the planner to care (EXPLAIN, no
 * planner switches).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SchemaTest {
    private String db;

    @BeforeAll
    void migrateFromEmpty() throws Exception {
        db = TestDatabases.createEmpty();
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL(TestDatabases.url(db));
        ds.setUser(TestDatabases.APP_USER);
        assertThat(Migrations.migrate(ds)).isPositive();
        assertThat(Migrations.migrate(ds)).isZero();
        try (Connection c = TestDatabases.superuser(db); Statement s = c.createStatement()) {
            s.execute("""
                    INSERT INTO users (id, email, name, password_hash, created_at, updated_at)
                    SELECT gen_random_uuid(), 'user' || g || '@example.com', 'User ' || g, 'x', now(), now()
                    FROM generate_series(1, 5000) g;
                    INSERT INTO organizations (id, name, slug, created_at, updated_at)
                    SELECT gen_random_uuid(), 'Org ' || g, 'org-' || g, now() - g * interval '1 second', now()
                    FROM generate_series(1, 5000) g;
                    INSERT INTO organization_members (organization_id, user_id, role, created_at)
                    SELECT o.id, u.id, 'member', now()
                    FROM (SELECT id, row_number() OVER () AS n FROM organizations) o
                    JOIN (SELECT id, row_number() OVER () AS n FROM users) u ON u.n = o.n;
                    INSERT INTO content (id, organization_id, title, body, type, mime_type, tags, created_at, updated_at)
                    SELECT gen_random_uuid(), o.id, 'Doc ' || g, 'body', 'document', 'text/plain',
                           ARRAY['t' || (g % 50)], now() - g * interval '1 second', now()
                    FROM (SELECT id FROM organizations ORDER BY created_at DESC LIMIT 200) o, generate_series(1, 200) g;
                    INSERT INTO workflows (id, organization_id, name, definition, status, created_at, updated_at)
                    SELECT gen_random_uuid(), o.id, 'wf ' || g, '{"nodes":[]}',
                           (ARRAY['draft','active','paused','archived'])[1 + g % 4], now() - g * interval '1 second', now()
                    FROM (SELECT id FROM organizations ORDER BY created_at DESC LIMIT 200) o, generate_series(1, 50) g;
                    ANALYZE;
                    """);
        }
    }

    @AfterAll
    void drop() {
        TestDatabases.drop(db);
    }

    @Test
    void the_guides_indexes_exist_under_their_names() throws Exception {
        Set<String> names = new TreeSet<>();
        try (Connection c = TestDatabases.superuser(db);
             ResultSet rs = c.createStatement().executeQuery("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")) {
            while (rs.next()) {
                names.add(rs.getString(1));
            }
        }
        assertThat(names).contains("idx_users_email", "idx_organizations_slug", "idx_members_org_user",
                "idx_content_org_created", "idx_workflows_org_status");
    }

    @Test
    void lookups_and_lists_use_the_indexes() throws Exception {
        try (Connection c = TestDatabases.superuser(db); Statement s = c.createStatement()) {
            String org = scalar(s, "SELECT organization_id FROM content LIMIT 1");
            String user = scalar(s, "SELECT user_id FROM organization_members WHERE organization_id = '" + org + "' LIMIT 1");
            String slug = scalar(s, "SELECT slug FROM organizations WHERE id = '" + org + "'");
            assertThat(plan(s, "SELECT id, password_hash FROM users WHERE email = 'user42@example.com'"))
                    .contains("idx_users_email");
            assertThat(plan(s, "SELECT o.id, m.role FROM organizations o JOIN organization_members m "
                    + "ON m.organization_id = o.id AND m.user_id = '" + user + "' WHERE o.slug = '" + slug + "'"))
                    .contains("idx_organizations_slug").contains("idx_members_");
            assertThat(plan(s, "SELECT id, title FROM content WHERE organization_id = '" + org + "' "
                    + "ORDER BY created_at DESC, id DESC LIMIT 21")).contains("idx_content_org_created");
            assertThat(plan(s, "SELECT id, title FROM content WHERE organization_id = '" + org + "' "
                    + "AND (created_at, id) < (now() - interval '100 seconds', '00000000-0000-0000-0000-000000000000') "
                    + "ORDER BY created_at DESC, id DESC LIMIT 21")).contains("idx_content_org_created");
            assertThat(plan(s, "SELECT id FROM workflows WHERE organization_id = '" + org + "' AND status = 'active' "
                    + "ORDER BY created_at DESC, id DESC LIMIT 21")).contains("idx_workflows_org_status");
        }
    }

    @Test
    void vector_and_keyword_scans_read_no_toast() throws Exception {
        // A passage row (64 short words, its tsvector and a 384-d vector, ~2.7 kB) passes the 2 kB
        // toast target: pgvector's default EXTERNAL storage would move every vector to the TOAST
        // table, and with vectors kept in the row the tsvector would go there instead.
        try (Connection c = TestDatabases.superuser(db); Statement s = c.createStatement()) {
            s.execute("""
                    INSERT INTO content_passages (content_id, ordinal, organization_id, text, embedding)
                    SELECT c.id, 1, c.organization_id,
                           (SELECT string_agg('word' || ((w * 7919 + length(c.id::text)) % 1000), ' ') FROM generate_series(1, 64) w),
                           (SELECT ('[' || string_agg((random() - 0.5)::text, ',') || ']')::vector
                            FROM generate_series(1, 384) d WHERE d > 0 * length(c.id::text))
                    FROM (SELECT id, organization_id FROM content LIMIT 200) c;
                    ANALYZE content_passages;
                    """);
            // Block counts of this backend, not yet flushed: compared within one transaction.
            String blocks = "SELECT pg_stat_get_xact_blocks_fetched(oid) || ' ' || "
                    + "pg_stat_get_xact_blocks_fetched(reltoastrelid) FROM pg_class WHERE relname = 'content_passages'";
            c.setAutoCommit(false);
            String[] before = scalar(s, blocks).split(" ");
            String nearest = scalar(s, "SELECT content_id FROM content_passages "
                    + "ORDER BY (embedding <=> (SELECT embedding FROM content_passages LIMIT 1)) + 0 LIMIT 1");
            String matched = scalar(s, "SELECT count(*) FROM content_passages "
                    + "WHERE tsv @@ websearch_to_tsquery('english', 'word955 or word874') AND length(text) > 0");
            String[] after = scalar(s, blocks).split(" ");
            c.rollback();
            long heapBlocks = Long.parseLong(after[0]) - Long.parseLong(before[0]);
            long toastBlocks = Long.parseLong(after[1]) - Long.parseLong(before[1]);
            assertThat(nearest).isNotNull();
            assertThat(Long.parseLong(matched)).isPositive();
            assertThat(heapBlocks).isPositive();
            assertThat(toastBlocks).isZero();
        }
    }

    private static String scalar(Statement s, String sql) throws Exception {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static String plan(Statement s, String sql) throws Exception {
        List<String> lines = new ArrayList<>();
        try (ResultSet rs = s.executeQuery("EXPLAIN " + sql)) {
            while (rs.next()) {
                lines.add(rs.getString(1));
            }
        }
        return String.join("\n", lines);
    }
}
