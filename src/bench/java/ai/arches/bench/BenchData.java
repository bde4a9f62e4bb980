package ai.arches.bench;

import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.stream.Stream;

import ai.arches.auth.Tokens;
import ai.arches.common.Ids;

import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

/**
 * Seeds the benchmark database with a realistic, skewed data set in one pass of COPY, and writes
 * the load generators' target files (tokens and paths) for each run.
 *
 * <pre>
 *   seed    JDBC_URL USER PASSWORD_HASH      (skipped when the same seed version is present)
 *   targets JDBC_URL USER TOKEN_SECRET OUT_DIR
 * </pre>
 *
 * Organizations, users and content are spread by a power law: a few large organizations hold
 * most rows, many small ones hold few. Text comes from the machine's own documents (the license
 * texts every Debian system ships), cut into sentences. Everything is deterministic (seed 42).
 */
public final class BenchData {
    static final int SEED_VERSION = 1;
    static final int ORGS = 50;
    static final int USERS = 5_000;
    static final int CONTENT = 200_000;
    static final int WORKFLOWS = 2_000;
    static final String PASSWORD = "bench-password";
    /** One live session per user, id = the user's id, for the access tokens the bench mints. */
    static final String SEED_SESSIONS = """
            INSERT INTO sessions (id, user_id, created_at) SELECT id, id, now() FROM users
            ON CONFLICT (id) DO NOTHING""";

    private BenchData() {}

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "seed" -> seed(args[1], args[2], args[3]);
            case "targets" -> Targets.write(args[1], args[2], args[3].getBytes(StandardCharsets.UTF_8), Path.of(args[4]));
            default -> throw new IllegalArgumentException("seed | targets");
        }
    }

    static void seed(String url, String user, String passwordHash) throws Exception {
        try (Connection c = DriverManager.getConnection(url, user, "")) {
            if (seeded(c)) {
                System.out.println("seed: present (version " + SEED_VERSION + "), reused");
                return;
            }
            long t0 = System.nanoTime();
            Random rnd = new Random(42);
            List<String> sentences = sentences();
            try (Statement s = c.createStatement()) {
                s.execute("TRUNCATE users, organizations, refresh_tokens CASCADE");
                s.execute("DROP TABLE IF EXISTS bench_seed");
            }
            CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
            Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
            double[] weights = powerLaw(ORGS, 1.1);

            StringBuilder orgs = new StringBuilder();
            List<UUID> orgIds = new ArrayList<>();
            for (int i = 0; i < ORGS; i++) {
                UUID id = Ids.newId();
                orgIds.add(id);
                Copy.row(orgs, id, "Organization " + i, "org-" + i, now.minus(400, ChronoUnit.DAYS), now);
            }
            copy.copyIn("COPY organizations (id, name, slug, created_at, updated_at) FROM STDIN", new StringReader(orgs.toString()));

            StringBuilder users = new StringBuilder();
            StringBuilder members = new StringBuilder();
            List<List<UUID>> writersByOrg = new ArrayList<>();
            for (int i = 0; i < ORGS; i++) {
                writersByOrg.add(new ArrayList<>());
            }
            int[] sizes = new int[ORGS];
            for (int u = 0; u < USERS; u++) {
                UUID id = Ids.newId();
                Copy.row(users, id, "user" + u + "@bench.arches.test", "User " + u, passwordHash, now, now);
                int org = u < ORGS ? u : pick(weights, rnd);
                join(members, writersByOrg, sizes, orgIds, org, id, now, rnd);
                if (u >= ORGS && rnd.nextInt(10) == 0) {
                    int second = pick(weights, rnd);
                    if (second != org) {
                        join(members, writersByOrg, sizes, orgIds, second, id, now, rnd);
                    }
                }
            }
            copy.copyIn("COPY users (id, email, name, password_hash, created_at, updated_at) FROM STDIN",
                    new StringReader(users.toString()));
            copy.copyIn("COPY organization_members (organization_id, user_id, role, created_at) FROM STDIN",
                    new StringReader(members.toString()));

            StringBuilder keys = new StringBuilder();
            for (int i = 0; i < ORGS; i++) {
                for (String role : List.of("member", "viewer")) {
                    String secret = apiKey(i, role);
                    Copy.row(keys, Ids.newId(), orgIds.get(i), "bench " + role, role, secret.substring(0, 10),
                            "\\\\x" + HexFormat.of().formatHex(Tokens.sha256(secret)), now);
                }
            }
            copy.copyIn("COPY api_keys (id, organization_id, name, role, prefix, key_hash, created_at) FROM STDIN",
                    new StringReader(keys.toString()));

            String[] tags = new String[60];
            for (int i = 0; i < tags.length; i++) {
                tags[i] = TAG_WORDS[i % TAG_WORDS.length] + (i < TAG_WORDS.length ? "" : "-" + (i / TAG_WORDS.length));
            }
            double[] tagWeights = powerLaw(tags.length, 1.0);
            String[] sources = {"upload", "crawler", "api", "email", "import"};
            int batch = 20_000;
            for (int start = 0; start < CONTENT; start += batch) {
                StringBuilder content = new StringBuilder(batch * 900);
                for (int n = start; n < Math.min(CONTENT, start + batch); n++) {
                    int org = pick(weights, rnd);
                    List<UUID> writers = writersByOrg.get(org);
                    String title = title(sentences.get(rnd.nextInt(sentences.size())));
                    StringBuilder body = new StringBuilder();
                    int len = 2 + rnd.nextInt(8);
                    for (int k = 0; k < len; k++) {
                        body.append(sentences.get(rnd.nextInt(sentences.size()))).append(' ');
                    }
                    int ntags = rnd.nextInt(5);
                    StringBuilder arr = new StringBuilder("{");
                    for (int k = 0; k < ntags; k++) {
                        arr.append(k == 0 ? "" : ",").append(tags[pick(tagWeights, rnd)]);
                    }
                    arr.append('}');
                    Instant created = now.minus(rnd.nextLong(365L * 24 * 3600 * 1_000_000L), ChronoUnit.MICROS);
                    Copy.row(content, Ids.newId(), orgIds.get(org), title, body.toString().strip(), "document", "text/plain",
                            arr.toString(), "{\"source\":\"" + sources[rnd.nextInt(sources.length)] + "\",\"words\":"
                                    + body.length() / 6 + "}",
                            writers.isEmpty() ? null : writers.get(rnd.nextInt(writers.size())), created, created);
                }
                copy.copyIn("COPY content (id, organization_id, title, body, type, mime_type, tags, metadata, created_by,"
                        + " created_at, updated_at) FROM STDIN", new StringReader(content.toString()));
            }

            StringBuilder workflows = new StringBuilder();
            String[] statuses = {"draft", "active", "active", "paused", "archived"};
            for (int n = 0; n < WORKFLOWS; n++) {
                int org = pick(weights, rnd);
                Instant created = now.minus(rnd.nextLong(365L * 24 * 3600), ChronoUnit.SECONDS);
                Copy.row(workflows, Ids.newId(), orgIds.get(org), "Workflow " + n, "Nightly processing " + n,
                        "{\"nodes\":[{\"id\":\"fetch\",\"type\":\"source\"},{\"id\":\"embed\",\"type\":\"tool\",\"tool\":\"embed\"},"
                                + "{\"id\":\"store\",\"type\":\"sink\"}],\"edges\":[{\"from\":\"fetch\",\"to\":\"embed\"},"
                                + "{\"from\":\"embed\",\"to\":\"store\"}]}",
                        statuses[rnd.nextInt(statuses.length)], created, created);
            }
            copy.copyIn("COPY workflows (id, organization_id, name, description, definition, status, created_at, updated_at)"
                    + " FROM STDIN", new StringReader(workflows.toString()));

            try (Statement s = c.createStatement()) {
                s.execute("ANALYZE");
                s.execute("CREATE TABLE bench_seed (version int NOT NULL, seeded_at timestamptz NOT NULL DEFAULT now())");
                s.execute("INSERT INTO bench_seed (version) VALUES (" + SEED_VERSION + ")");
            }
            System.out.printf("seed: %d orgs, %d users, %d content, %d workflows in %.1f s%n", ORGS, USERS, CONTENT,
                    WORKFLOWS, (System.nanoTime() - t0) / 1e9);
        }
    }

    static String apiKey(int org, String role) {
        return "ak_bench_" + role + "_" + org + "_0123456789abcdef0123456789abcdef";
    }

    private static void join(StringBuilder members, List<List<UUID>> writersByOrg, int[] sizes, List<UUID> orgIds,
                             int org, UUID user, Instant at, Random rnd) {
        String role;
        if (sizes[org] == 0) {
            role = "owner";
        } else {
            int r = rnd.nextInt(100);
            role = r < 5 ? "admin" : r < 65 ? "member" : "viewer";
        }
        sizes[org]++;
        if (!role.equals("viewer")) {
            writersByOrg.get(org).add(user);
        }
        Copy.row(members, orgIds.get(org), user, role, at);
    }

    private static boolean seeded(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT to_regclass('bench_seed') IS NOT NULL")) {
            rs.next();
            if (!rs.getBoolean(1)) {
                return false;
            }
        }
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT max(version) FROM bench_seed")) {
            return rs.next() && rs.getInt(1) == SEED_VERSION;
        }
    }

    /** Weights proportional to 1/(i+1)^s, as a cumulative distribution. */
    static double[] powerLaw(int n, double s) {
        double[] cdf = new double[n];
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += 1.0 / Math.pow(i + 1, s);
            cdf[i] = sum;
        }
        for (int i = 0; i < n; i++) {
            cdf[i] /= sum;
        }
        return cdf;
    }

    static int pick(double[] cdf, Random rnd) {
        double u = rnd.nextDouble();
        int lo = 0;
        int hi = cdf.length - 1;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (cdf[mid] < u) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    private static String title(String sentence) {
        String[] words = sentence.split("\\s+");
        return String.join(" ", List.of(words).subList(0, Math.min(words.length, 8))).replaceAll("[.,;:]$", "");
    }

    /** Sentences from the license texts under /usr/share/common-licenses (every Debian has them). */
    static List<String> sentences() throws IOException {
        List<String> out = new ArrayList<>();
        Path dir = Path.of("/usr/share/common-licenses");
        if (Files.isDirectory(dir)) {
            try (Stream<Path> files = Files.list(dir)) {
                for (Path f : files.filter(Files::isRegularFile).toList()) {
                    String text = Files.readString(f, StandardCharsets.ISO_8859_1).replaceAll("\\s+", " ");
                    for (String s : text.split("(?<=[.!?])\\s+")) {
                        if (s.length() > 40 && s.length() < 400) {
                            out.add(s.strip());
                        }
                    }
                }
            }
        }
        if (out.size() < 100) {
            for (int i = 0; i < 500; i++) {
                out.add("Document " + i + " describes how teams store, search and process their content at scale.");
            }
        }
        return out;
    }

    private static final String[] TAG_WORDS = {"engineering", "sales", "legal", "finance", "support", "research",
        "marketing", "product", "design", "ops", "security", "hr", "data", "ml", "infra", "docs", "release",
        "customer", "roadmap", "incident"};

    static Tokens tokens(byte[] secret) {
        return new Tokens(secret, "arches", Duration.ofHours(3), Clock.systemUTC());
    }

    static void write(Path file, List<String> lines) {
        try {
            Files.createDirectories(file.getParent());
            Files.write(file, lines, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
