package ai.arches.bench;

import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.UUID;

import ai.arches.auth.Tokens;
import ai.arches.common.Ids;
import ai.arches.embedding.Vectors;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

/**
 * Seeds the search benchmark's corpus ({@link Corpus}: manual pages, passages and vectors) into
 * the benchmark database by COPY, and writes the search load generators' target files.
 *
 * <pre>
 *   prepare DATA_DIR PASSAGES                                   (extract and embed only; cached)
 *   seed    JDBC_URL USER PASSWORD_HASH DATA_DIR PASSAGES       (skipped when the same corpus is present)
 *   targets JDBC_URL USER TOKEN_SECRET OUT_DIR DATA_DIR PASSAGES
 * </pre>
 *
 * Three organizations: corpus-large holds 19 of every 20 corpus documents, corpus-small the 20th
 * (other documents, so its searches run exactly under the exact-search threshold), and
 * corpus-drain starts empty (the harness writes documents there through the API for the workers to
 * embed). Their slugs are {@code org-1001..1003} and their API keys follow
 * {@link BenchData#apiKey}, because {@link Targets} reads every organization that way. Documents
 * are seeded ready: passages with vectors, {@code content.embedding} the unit mean of them, as the
 * workers would leave them. A fresh seed drops the vector index first (COPY into HNSW is slow);
 * the server builds it again at its next start. The last line printed is {@code SEARCHCORPUS {json}}.
 */
public final class SearchCorpus {
    static final String[] ORGS = {"corpus-large", "corpus-small", "corpus-drain"};
    static final int FIRST_ORG = 1001;
    private static final int[] USERS = {16, 8, 4};
    private static final ObjectMapper JSON = new ObjectMapper();

    private SearchCorpus() {}

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "prepare" -> prepare(Path.of(args[1]), Integer.parseInt(args[2]));
            case "seed" -> seed(args[1], args[2], args[3], Path.of(args[4]), Integer.parseInt(args[5]));
            case "targets" -> SearchTargets.write(args[1], args[2], args[3].getBytes(StandardCharsets.UTF_8),
                    Path.of(args[4]), Corpus.load(Path.of(args[5]), Integer.parseInt(args[6])));
            default -> throw new IllegalArgumentException("prepare | seed | targets");
        }
    }

    static String slug(int org) {
        return "org-" + (FIRST_ORG + org);
    }

    /** Which organization a corpus document belongs to: 0 (large) or 1 (small, one in twenty). */
    static int orgOf(int position) {
        return position % 20 == 10 ? 1 : 0;
    }

    static void prepare(Path dataDir, int target) throws Exception {
        Corpus corpus = Corpus.load(dataDir, target);
        Corpus.Embedded e = corpus.vectors();
        System.out.printf("corpus %s: %,d documents, %,d passages (%,d cached, %,d embedded now in %.0f s), "
                        + "%,d held-out pages%n", corpus.key, corpus.docs.size(), corpus.passages, e.cached(),
                e.computed(), e.seconds(), corpus.heldOut.size());
    }

    static void seed(String url, String user, String passwordHash, Path dataDir, int target) throws Exception {
        long t0 = System.nanoTime();
        Corpus corpus = Corpus.load(dataDir, target);
        String marker = corpus.key + ":" + corpus.passages;
        ObjectNode out = JSON.createObjectNode();
        out.put("key", corpus.key).put("documents", corpus.docs.size()).put("passages", corpus.passages)
                .put("heldOut", corpus.heldOut.size()).put("vectorCache", corpus.vectorFile().toString());
        try (Connection c = DriverManager.getConnection(url, user, "")) {
            if (present(c, marker, corpus.passages)) {
                out.put("reused", true).put("computedPassages", 0).put("embedSeconds", 0);
                counts(c, out);
                System.out.printf("search corpus: present (%s: %,d documents, %,d passages with vectors), reused%n",
                        marker, corpus.docs.size(), corpus.passages);
                System.out.println("SEARCHCORPUS " + out);
                return;
            }
            Corpus.Embedded e = corpus.vectors();
            out.put("reused", false).put("computedPassages", e.computed()).put("embedSeconds", Math.round(e.seconds()));
            long t1 = System.nanoTime();
            c.setAutoCommit(false);
            List<String> dropped = clear(c);
            CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
            Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
            UUID[] orgIds = members(c, copy, passwordHash, now);
            copyDocuments(copy, corpus, e.vectors(), orgIds, now);
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TABLE IF NOT EXISTS bench_search_corpus (marker text NOT NULL, "
                        + "seeded_at timestamptz NOT NULL DEFAULT now())");
                s.execute("DELETE FROM bench_search_corpus");
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO bench_search_corpus (marker) VALUES (?)")) {
                ps.setString(1, marker);
                ps.execute();
            }
            c.commit();
            c.setAutoCommit(true);
            try (Statement s = c.createStatement()) {
                s.execute("ANALYZE content");
                s.execute("ANALYZE content_passages");
            }
            out.put("seedSeconds", Math.round((System.nanoTime() - t1) / 1e9));
            out.set("droppedIndexes", JSON.valueToTree(dropped));
            counts(c, out);
            System.out.printf("search corpus: seeded %,d documents and %,d passages with vectors in %.1f s "
                            + "(vectors: %,d from the cache, %,d embedded now)%s%n", corpus.docs.size(),
                    corpus.passages, (System.nanoTime() - t0) / 1e9, e.cached(), e.computed(),
                    dropped.isEmpty() ? "" : "; dropped " + String.join(", ", dropped)
                            + " (the server builds the vector index again at its next start)");
            System.out.println("SEARCHCORPUS " + out);
        }
    }

    /** The same corpus is seeded and intact (a BenchData re-seed truncates organizations). */
    private static boolean present(Connection c, String marker, int passages) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT to_regclass('bench_search_corpus') IS NOT NULL")) {
            rs.next();
            if (!rs.getBoolean(1)) {
                return false;
            }
        }
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT (SELECT count(*) FROM bench_search_corpus WHERE marker = ?),
                       (SELECT count(*) FROM content_passages p JOIN organizations o ON o.id = p.organization_id
                        WHERE o.slug IN (?, ?) AND p.embedding IS NOT NULL)""")) {
            ps.setString(1, marker);
            ps.setString(2, slug(0));
            ps.setString(3, slug(1));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1) == 1 && rs.getLong(2) == passages;
            }
        }
    }

    private static void counts(Connection c, ObjectNode out) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("""
                SELECT o.name, o.id,
                       (SELECT count(*) FROM content WHERE organization_id = o.id),
                       (SELECT count(*) FROM content_passages WHERE organization_id = o.id)
                FROM organizations o WHERE o.slug IN ('org-1001', 'org-1002', 'org-1003') ORDER BY o.slug""")) {
            ObjectNode orgs = out.putObject("organizations");
            while (rs.next()) {
                orgs.putObject(rs.getString(1)).put("id", rs.getString(2)).put("documents", rs.getLong(3))
                        .put("passages", rs.getLong(4));
            }
        }
    }

    /** Removes an older corpus (cascading to its content and passages) and the vector index. */
    private static List<String> clear(Connection c) throws SQLException {
        List<String> dropped = new ArrayList<>();
        try (Statement s = c.createStatement()) {
            s.execute("DELETE FROM organizations WHERE slug IN ('org-1001', 'org-1002', 'org-1003')");
            s.execute("DELETE FROM users WHERE email LIKE 'search%@bench.arches.test'");
            try (ResultSet rs = s.executeQuery("""
                    SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                    WHERE c.relname LIKE 'idx\\_passages\\_embedding\\_%'""")) {
                while (rs.next()) {
                    dropped.add(rs.getString(1));
                }
            }
            for (String name : dropped) {
                s.execute("DROP INDEX IF EXISTS \"" + name + "\"");
            }
        }
        return dropped;
    }

    /** The three organizations, their members (same password as BenchData's users) and API keys. */
    private static UUID[] members(Connection c, CopyManager copy, String passwordHash, Instant now) throws Exception {
        StringBuilder orgs = new StringBuilder();
        StringBuilder users = new StringBuilder();
        StringBuilder members = new StringBuilder();
        StringBuilder keys = new StringBuilder();
        UUID[] ids = new UUID[ORGS.length];
        int u = 0;
        for (int o = 0; o < ORGS.length; o++) {
            ids[o] = Ids.newId();
            Copy.row(orgs, ids[o], ORGS[o], slug(o), now, now);
            for (int k = 0; k < USERS[o]; k++, u++) {
                UUID id = Ids.newId();
                Copy.row(users, id, "search" + u + "@bench.arches.test", "Search user " + u, passwordHash, now, now);
                Copy.row(members, ids[o], id, k == 0 ? "owner" : k % 3 == 0 ? "viewer" : "member", now);
            }
            for (String role : List.of("member", "viewer")) {
                String secret = BenchData.apiKey(FIRST_ORG + o, role);
                Copy.row(keys, Ids.newId(), ids[o], "bench " + role, role, secret.substring(0, 10),
                        "\\\\x" + HexFormat.of().formatHex(Tokens.sha256(secret)), now);
            }
        }
        copy.copyIn("COPY organizations (id, name, slug, created_at, updated_at) FROM STDIN",
                new StringReader(orgs.toString()));
        copy.copyIn("COPY users (id, email, name, password_hash, created_at, updated_at) FROM STDIN",
                new StringReader(users.toString()));
        copy.copyIn("COPY organization_members (organization_id, user_id, role, created_at) FROM STDIN",
                new StringReader(members.toString()));
        copy.copyIn("COPY api_keys (id, organization_id, name, role, prefix, key_hash, created_at) FROM STDIN",
                new StringReader(keys.toString()));
        return ids;
    }

    /** Documents (ready, with the mean vector) and their passages (with vectors), in batches. */
    private static void copyDocuments(CopyManager copy, Corpus corpus, float[][] vectors, UUID[] orgIds, Instant now)
            throws Exception {
        Random rnd = new Random(42);
        int passage = 0;
        int batch = 500;
        for (int start = 0; start < corpus.docs.size(); start += batch) {
            StringBuilder content = new StringBuilder(1 << 22);
            StringBuilder passages = new StringBuilder(1 << 24);
            for (int n = start; n < Math.min(corpus.docs.size(), start + batch); n++) {
                Corpus.Doc d = corpus.docs.get(n);
                UUID id = Ids.newId();
                UUID org = orgIds[orgOf(n)];
                List<float[]> vs = new ArrayList<>(d.passages().size());
                for (int i = 0; i < d.passages().size(); i++, passage++) {
                    vs.add(vectors[passage]);
                    Copy.row(passages, id, i, org, clean(d.passages().get(i)), Copy.vector(vectors[passage]));
                }
                Instant created = now.minus(corpus.docs.size() - n, ChronoUnit.MINUTES)
                        .plus(rnd.nextInt(60_000), ChronoUnit.MILLIS);
                ObjectNode meta = JSON.createObjectNode().put("source", "manpage").put("path", d.path())
                        .put("section", d.section());
                Copy.row(content, id, org, clean(d.title()), clean(d.body()), "document", "text/plain",
                        "{manpage,section-" + d.section().replaceAll("[^A-Za-z0-9]", "") + "}", meta.toString(),
                        Copy.vector(Vectors.mean(vs)), "ready", null, created, created);
            }
            copy.copyIn("COPY content (id, organization_id, title, body, type, mime_type, tags, metadata, embedding, "
                    + "embedding_status, created_by, created_at, updated_at) FROM STDIN", new StringReader(content.toString()));
            copy.copyIn("COPY content_passages (content_id, ordinal, organization_id, text, embedding) FROM STDIN",
                    new StringReader(passages.toString()));
        }
    }

    /** PostgreSQL text cannot hold NUL. */
    private static String clean(String s) {
        return s.indexOf('\0') < 0 ? s : s.replace('\0', ' ');
    }
}
