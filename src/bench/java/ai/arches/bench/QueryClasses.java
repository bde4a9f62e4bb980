package ai.arches.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.UUID;

import ai.arches.common.Ids;

/**
 * Times the guide's query classes straight against PostgreSQL over JDBC, with the statements
 * the platform runs: simple lookups (target under 10 ms), complex lists and aggregates (under
 * 100 ms) and a batch of 1,000 inserts (under 1 s). Prints one JSON object per class with
 * p50/p95/max in milliseconds. Usage: {@code QueryClasses JDBC_URL USER ITERATIONS}.
 */
public final class QueryClasses {
    private interface Query {
        void run(Connection c, Random r) throws SQLException;
    }

    private record Case(String name, String kind, double targetMs, int iterations, Query query) {}

    private QueryClasses() {}

    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args[2]);
        try (Connection c = DriverManager.getConnection(args[0] + (args[0].contains("?") ? "&" : "?")
                + "reWriteBatchedInserts=true", args[1], "")) {
            List<UUID> orgs = column(c, "SELECT id FROM organizations", UUID.class);
            List<UUID> users = column(c, "SELECT id FROM users", UUID.class);
            List<String> emails = column(c, "SELECT email FROM users", String.class);
            List<UUID[]> docs = new ArrayList<>();
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT id, organization_id FROM content TABLESAMPLE SYSTEM (5) LIMIT 20000")) {
                while (rs.next()) {
                    docs.add(new UUID[] {rs.getObject(1, UUID.class), rs.getObject(2, UUID.class)});
                }
            }
            UUID bigOrg = single(c, "SELECT organization_id FROM content GROUP BY 1 ORDER BY count(*) DESC LIMIT 1");
            List<Case> cases = List.of(
                    new Case("user by email", "simple", 10, n, (cn, r) -> query(cn,
                            "SELECT id, password_hash FROM users WHERE email = ?", emails.get(r.nextInt(emails.size())))),
                    new Case("content by id", "simple", 10, n, (cn, r) -> {
                        UUID[] d = docs.get(r.nextInt(docs.size()));
                        query(cn, "SELECT id, organization_id, title, body, type, mime_type, tags, metadata::text, "
                                + "embedding_status, created_by, created_at, updated_at FROM content "
                                + "WHERE id = ? AND organization_id = ?", d[0], d[1]);
                    }),
                    new Case("access check (org + membership)", "simple", 10, n, (cn, r) -> query(cn,
                            "SELECT o.id, o.name, o.slug, o.created_at, o.updated_at, m.role FROM organizations o "
                                    + "JOIN organization_members m ON m.organization_id = o.id AND m.user_id = ? WHERE o.id = ?",
                            users.get(r.nextInt(users.size())), orgs.get(r.nextInt(orgs.size())))),
                    new Case("content page, deep keyset (largest org)", "complex", 100, n, (cn, r) -> query(cn,
                            "SELECT id, title, body, tags, metadata::text, created_at FROM content WHERE organization_id = ? "
                                    + "AND (created_at, id) < (?, ?) ORDER BY created_at DESC, id DESC LIMIT 21",
                            bigOrg, Timestamp.from(Instant.now().minusSeconds(r.nextInt(300 * 86_400))), UUID.randomUUID())),
                    new Case("content page filtered by tag", "complex", 100, n, (cn, r) -> query(cn,
                            "SELECT id, title, created_at FROM content WHERE organization_id = ? AND tags @> ARRAY[?]::text[] "
                                    + "ORDER BY created_at DESC, id DESC LIMIT 21",
                            orgs.get(r.nextInt(orgs.size())), "security")),
                    new Case("tag counts for an organization", "complex", 100, Math.max(20, n / 20), (cn, r) -> query(cn,
                            "SELECT t, count(*) FROM content, unnest(tags) t WHERE organization_id = ? GROUP BY t "
                                    + "ORDER BY 2 DESC LIMIT 20", orgs.get(r.nextInt(orgs.size())))),
                    new Case("members page with users", "complex", 100, n, (cn, r) -> query(cn,
                            "SELECT m.user_id, u.email, u.name, m.role, m.created_at FROM organization_members m "
                                    + "JOIN users u ON u.id = m.user_id WHERE m.organization_id = ? "
                                    + "ORDER BY m.created_at DESC, m.user_id DESC LIMIT 21", orgs.get(r.nextInt(orgs.size())))),
                    new Case("batch of 1,000 content inserts", "batch", 1000, Math.max(5, n / 100),
                            (cn, r) -> batchInsert(cn, orgs.get(r.nextInt(orgs.size())))));
            Random r = new Random(7);
            StringBuilder out = new StringBuilder("[");
            for (Case k : cases) {
                for (int i = 0; i < Math.min(50, k.iterations()); i++) {
                    k.query().run(c, r);
                }
                double[] ms = new double[k.iterations()];
                for (int i = 0; i < ms.length; i++) {
                    long t = System.nanoTime();
                    k.query().run(c, r);
                    ms[i] = (System.nanoTime() - t) / 1e6;
                }
                Arrays.sort(ms);
                double p50 = ms[(int) (ms.length * 0.50)];
                double p95 = ms[Math.min(ms.length - 1, (int) (ms.length * 0.95))];
                out.append(out.length() > 1 ? ",\n" : "").append(String.format(Locale.ROOT,
                        "{\"name\":\"%s\",\"kind\":\"%s\",\"targetMs\":%.0f,\"n\":%d,\"p50\":%.3f,\"p95\":%.3f,\"max\":%.3f,\"met\":%b}",
                        k.name(), k.kind(), k.targetMs(), ms.length, p50, p95, ms[ms.length - 1], p95 < k.targetMs()));
            }
            try (Statement s = c.createStatement()) {
                s.execute("DELETE FROM content WHERE title = 'batch insert benchmark'");
            }
            System.out.println(out.append("]"));
        }
    }

    private static void query(Connection c, String sql, Object... params) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rs.getObject(1);
                }
            }
        }
    }

    /** The shape of a bulk import: one transaction, one batched (rewritten multi-row) INSERT. */
    private static void batchInsert(Connection c, UUID org) throws SQLException {
        c.setAutoCommit(false);
        try (PreparedStatement ps = c.prepareStatement("""
                INSERT INTO content (id, organization_id, title, body, type, mime_type, tags, metadata, created_at, updated_at)
                VALUES (?, ?, 'batch insert benchmark', ?, 'document', 'text/plain', ?::text[], '{}'::jsonb, ?, ?)""")) {
            Timestamp now = Timestamp.from(Instant.now());
            for (int i = 0; i < 1000; i++) {
                ps.setObject(1, Ids.newId());
                ps.setObject(2, org);
                ps.setString(3, "Row " + i + " of a bulk import, with a sentence or two of text to store.");
                ps.setString(4, "{import,bulk}");
                ps.setTimestamp(5, now);
                ps.setTimestamp(6, now);
                ps.addBatch();
            }
            ps.executeBatch();
            c.commit();
        } finally {
            c.setAutoCommit(true);
        }
    }

    private static <T> List<T> column(Connection c, String sql, Class<T> type) throws SQLException {
        List<T> out = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getObject(1, type));
            }
        }
        return out;
    }

    private static UUID single(Connection c, String sql) throws SQLException {
        return column(c, sql, UUID.class).getFirst();
    }
}
