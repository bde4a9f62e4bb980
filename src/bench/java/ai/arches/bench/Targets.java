package ai.arches.bench;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;

import ai.arches.auth.Tokens;

/**
 * Writes what the load generators send, fresh for every run (tokens expire): per scenario a
 * tab-separated file of credentials and paths. Credentials are spread over many users and the
 * organizations' API keys (about one request in five), so no single token is hot. Access tokens
 * are signed with the platform's own {@link Tokens} and the server's secret, as a login would.
 *
 * <ul>
 *   <li>read-uniform.tsv, read-zipf.tsv: {@code token \t /api/v1/organizations/{org}/content/{id}}
 *   <li>orgs.tsv: {@code org \t token} (readers, weighted by organization size)
 *   <li>writers.tsv: {@code org \t token} (member or higher)
 *   <li>logins.tsv: {@code email \t password}
 * </ul>
 */
final class Targets {
    private static final int LINES = 50_000;
    private static final double ZIPF_S = 1.0;

    private Targets() {}

    static void write(String url, String user, byte[] secret, Path dir) throws Exception {
        Tokens tokens = BenchData.tokens(secret);
        Random rnd = new Random();
        Map<UUID, List<String>> readers = new HashMap<>();
        Map<UUID, List<String>> writers = new HashMap<>();
        Map<UUID, Integer> orgIndex = new HashMap<>();
        List<String> emails = new ArrayList<>();
        List<UUID> contentIds = new ArrayList<>();
        List<UUID> contentOrgs = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(url, user, ""); Statement s = c.createStatement()) {
            // Only the seeded organizations (org-N): other tools leave theirs in this database too
            // (bench-profiling registers "profiling-bench"), and their slugs carry no index.
            try (ResultSet rs = s.executeQuery("SELECT id, slug FROM organizations WHERE slug ~ '^org-[0-9]+$'")) {
                while (rs.next()) {
                    orgIndex.put(rs.getObject(1, UUID.class), Integer.parseInt(rs.getString(2).substring(4)));
                }
            }
            // Access tokens are checked against their session: one live session per seeded user,
            // whose id is the user's own (seeded users never log in through the API).
            s.execute(BenchData.SEED_SESSIONS);
            try (ResultSet rs = s.executeQuery("""
                    SELECT m.organization_id, m.user_id, m.role, u.email
                    FROM organization_members m JOIN users u ON u.id = m.user_id
                    JOIN organizations o ON o.id = m.organization_id WHERE o.slug ~ '^org-[0-9]+$'""")) {
                while (rs.next()) {
                    UUID org = rs.getObject(1, UUID.class);
                    String token = tokens.issueAccess(rs.getObject(2, UUID.class), rs.getObject(2, UUID.class));
                    readers.computeIfAbsent(org, k -> new ArrayList<>()).add(token);
                    if (!rs.getString(3).equals("viewer")) {
                        writers.computeIfAbsent(org, k -> new ArrayList<>()).add(token);
                    }
                    emails.add(rs.getString(4));
                }
            }
            s.setFetchSize(10_000);
            c.setAutoCommit(false);
            try (ResultSet rs = s.executeQuery("SELECT c.id, c.organization_id FROM content c "
                    + "JOIN organizations o ON o.id = c.organization_id WHERE o.slug ~ '^org-[0-9]+$'")) {
                while (rs.next()) {
                    contentIds.add(rs.getObject(1, UUID.class));
                    contentOrgs.add(rs.getObject(2, UUID.class));
                }
            }
            c.commit();
        }
        if (contentIds.isEmpty()) {
            throw new IllegalStateException("no content: seed first");
        }
        Map<UUID, String> viewerKeys = new HashMap<>();
        Map<UUID, String> memberKeys = new HashMap<>();
        for (var e : orgIndex.entrySet()) {
            viewerKeys.put(e.getKey(), BenchData.apiKey(e.getValue(), "viewer"));
            memberKeys.put(e.getKey(), BenchData.apiKey(e.getValue(), "member"));
        }

        List<String> uniform = new ArrayList<>(LINES);
        for (int i = 0; i < LINES; i++) {
            int n = rnd.nextInt(contentIds.size());
            uniform.add(readLine(readers, viewerKeys, contentOrgs.get(n), contentIds.get(n), rnd));
        }
        BenchData.write(dir.resolve("read-uniform.tsv"), uniform);

        // Zipf over a random popularity order: the most popular document is read most.
        List<Integer> order = new ArrayList<>(contentIds.size());
        for (int i = 0; i < contentIds.size(); i++) {
            order.add(i);
        }
        Collections.shuffle(order, rnd);
        double[] cdf = BenchData.powerLaw(contentIds.size(), ZIPF_S);
        List<String> zipf = new ArrayList<>(LINES);
        for (int i = 0; i < LINES; i++) {
            int n = order.get(BenchData.pick(cdf, rnd));
            zipf.add(readLine(readers, viewerKeys, contentOrgs.get(n), contentIds.get(n), rnd));
        }
        BenchData.write(dir.resolve("read-zipf.tsv"), zipf);

        List<String> orgs = new ArrayList<>();
        List<String> writeLines = new ArrayList<>();
        for (int i = 0; i < 5_000; i++) {
            int n = rnd.nextInt(contentIds.size());
            UUID org = contentOrgs.get(n);
            boolean key = rnd.nextInt(5) == 0;
            orgs.add(org + "\t" + (key ? viewerKeys.get(org) : any(readers.get(org), rnd)));
            writeLines.add(org + "\t" + (key ? memberKeys.get(org) : any(writers.get(org), rnd)));
        }
        BenchData.write(dir.resolve("orgs.tsv"), orgs);
        BenchData.write(dir.resolve("writers.tsv"), writeLines);

        Collections.shuffle(emails, rnd);
        List<String> logins = new ArrayList<>();
        for (String e : emails.subList(0, Math.min(2_000, emails.size()))) {
            logins.add(e + "\t" + BenchData.PASSWORD);
        }
        BenchData.write(dir.resolve("logins.tsv"), logins);
        System.out.printf("targets: %d readers' tokens, %d documents, files in %s%n",
                readers.values().stream().mapToInt(List::size).sum(), contentIds.size(), dir);
    }

    /** One request in five authenticates with the organization's API key, the rest as members. */
    private static String readLine(Map<UUID, List<String>> readers, Map<UUID, String> keys, UUID org, UUID id,
                                   Random rnd) {
        String credential = rnd.nextInt(5) == 0 ? keys.get(org) : any(readers.get(org), rnd);
        return credential + "\t/api/v1/organizations/" + org + "/content/" + id;
    }

    private static String any(List<String> list, Random rnd) {
        return list.get(rnd.nextInt(list.size()));
    }
}
