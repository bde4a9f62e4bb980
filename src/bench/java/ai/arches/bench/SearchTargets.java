package ai.arches.bench;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;

import ai.arches.auth.Tokens;

import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Writes what the search scenarios send, fresh for every run (tokens expire). Credentials are
 * members' access tokens, and the organization's viewer API key for one request in five, as
 * {@link Targets} does for the other scenarios.
 *
 * <ul>
 *   <li>search-orgs.tsv: {@code name \t id \t viewer key \t member key \t documents \t passages}
 *   <li>search-queries.txt: the query set, one a line
 *   <li>search-large.tsv: {@code credential \t org \t query as a JSON string}, every query eight times
 *       in query order (wrk cycles through it)
 *   <li>search-similar.tsv: {@code credential \t /api/v1/organizations/{org}/content/{id}/similar?limit=10}
 *   <li>search-drain.jsonl: documents (held-out pages) to create through the API for the drain scenario
 * </ul>
 */
final class SearchTargets {
    static final int QUERIES_FROM_PAGES = 200;
    static final int DRAIN_DOCUMENTS = 100;
    private static final ObjectMapper JSON = new ObjectMapper();

    private SearchTargets() {}

    static void write(String url, String user, byte[] secret, Path dir, Corpus corpus) throws Exception {
        Tokens tokens = BenchData.tokens(secret);
        Random rnd = new Random();
        List<String> orgLines = new ArrayList<>();
        UUID[] orgIds = new UUID[SearchCorpus.ORGS.length];
        List<List<String>> credentials = new ArrayList<>();
        List<UUID> largeDocs = new ArrayList<>();
        try (Connection c = DriverManager.getConnection(url, user, "")) {
            try (var s = c.createStatement()) {
                s.execute(BenchData.SEED_SESSIONS);
            }
            for (int o = 0; o < SearchCorpus.ORGS.length; o++) {
                try (PreparedStatement ps = c.prepareStatement("""
                        SELECT o.id, (SELECT count(*) FROM content WHERE organization_id = o.id),
                               (SELECT count(*) FROM content_passages WHERE organization_id = o.id)
                        FROM organizations o WHERE o.slug = ?""")) {
                    ps.setString(1, SearchCorpus.slug(o));
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) {
                            throw new IllegalStateException("no organization " + SearchCorpus.slug(o) + ": seed first");
                        }
                        orgIds[o] = rs.getObject(1, UUID.class);
                        orgLines.add(String.join("\t", SearchCorpus.ORGS[o], orgIds[o].toString(),
                                BenchData.apiKey(SearchCorpus.FIRST_ORG + o, "viewer"),
                                BenchData.apiKey(SearchCorpus.FIRST_ORG + o, "member"),
                                Long.toString(rs.getLong(2)), Long.toString(rs.getLong(3))));
                    }
                }
                List<String> creds = new ArrayList<>();
                try (PreparedStatement ps = c.prepareStatement(
                        "SELECT user_id FROM organization_members WHERE organization_id = ?")) {
                    ps.setObject(1, orgIds[o]);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            creds.add(tokens.issueAccess(rs.getObject(1, UUID.class), rs.getObject(1, UUID.class)));
                        }
                    }
                }
                credentials.add(creds);
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT id FROM content WHERE organization_id = ?")) {
                ps.setObject(1, orgIds[0]);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        largeDocs.add(rs.getObject(1, UUID.class));
                    }
                }
            }
        }
        BenchData.write(dir.resolve("search-orgs.tsv"), orgLines);
        List<String> queries = corpus.queries(QUERIES_FROM_PAGES);
        BenchData.write(dir.resolve("search-queries.txt"), queries);

        String largeKey = BenchData.apiKey(SearchCorpus.FIRST_ORG, "viewer");
        List<String> large = new ArrayList<>();
        for (int round = 0; round < 8; round++) {
            for (String q : queries) {
                large.add(credential(credentials.get(0), largeKey, rnd) + "\t" + orgIds[0] + "\t"
                        + JSON.writeValueAsString(q));
            }
        }
        BenchData.write(dir.resolve("search-large.tsv"), large);

        List<String> similar = new ArrayList<>();
        for (int i = 0; i < 5_000; i++) {
            similar.add(credential(credentials.get(0), largeKey, rnd) + "\t/api/v1/organizations/" + orgIds[0]
                    + "/content/" + largeDocs.get(rnd.nextInt(largeDocs.size())) + "/similar?limit=10");
        }
        BenchData.write(dir.resolve("search-similar.tsv"), similar);

        // Held-out pages of ordinary length (the API takes 1 MB at most), in order.
        List<String> drain = new ArrayList<>();
        for (Corpus.Doc d : corpus.heldOut) {
            if (drain.size() == DRAIN_DOCUMENTS) {
                break;
            }
            if (d.body().length() <= 40_000) {
                drain.add(JSON.writeValueAsString(JSON.createObjectNode().put("title", d.title())
                        .put("body", d.body()).put("type", "document").put("mimeType", "text/plain")
                        .set("tags", JSON.createArrayNode().add("manpage").add("drain"))));
            }
        }
        BenchData.write(dir.resolve("search-drain.jsonl"), drain);
        System.out.printf("search targets: %d queries, %d similar lines, %d drain documents, files in %s%n",
                queries.size(), similar.size(), drain.size(), dir);
    }

    private static String credential(List<String> tokens, String key, Random rnd) {
        return rnd.nextInt(5) == 0 || tokens.isEmpty() ? key : tokens.get(rnd.nextInt(tokens.size()));
    }
}
