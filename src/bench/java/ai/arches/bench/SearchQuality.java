package ai.arches.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import ai.arches.embedding.LocalMiniLm;
import ai.arches.embedding.Passages;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Recall@10 of the API's semantic search against the exact answer, per organization of the search
 * corpus. For every query the exact top ten documents are computed in SQL over all of the
 * organization's passages (best passage per document; the GROUP BY is an ordering no vector
 * index can serve, so PostgreSQL compares every vector), with the query embedded here by the same
 * model the server uses. A returned document counts as found when it is in the exact top ten, or
 * ties the tenth within 1e-6 (equal distances have no single right order). One request at a time,
 * so the latencies printed are unloaded ones.
 *
 * <pre>
 *   BASE_URL JDBC_URL USER TARGET_DIR     prints one JSON line
 * </pre>
 */
public final class SearchQuality {
    static final int K = 10;
    private static final double TIE = 1e-6;
    private static final ObjectMapper JSON = new ObjectMapper();

    private SearchQuality() {}

    public static void main(String[] args) throws Exception {
        String base = args[0];
        Path dir = Path.of(args[3]);
        List<String> queries = Files.readAllLines(dir.resolve("search-queries.txt"), StandardCharsets.UTF_8);
        List<String[]> orgs = new ArrayList<>();
        UUID drain = null;
        for (String line : Files.readAllLines(dir.resolve("search-orgs.tsv"), StandardCharsets.UTF_8)) {
            String[] f = line.split("\t");
            if (f[0].equals("corpus-drain")) {
                drain = UUID.fromString(f[1]);
            } else {
                orgs.add(f);
            }
        }
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        ObjectNode out = JSON.createObjectNode();
        out.put("queries", queries.size()).put("k", K)
                .put("handWritten", queries.stream().filter(Corpus.PARAPHRASES::contains).count());
        try (LocalMiniLm model = new LocalMiniLm();
             Connection c = DriverManager.getConnection(args[1], args[2], "")) {
            List<float[]> vectors = model.embed(queries);
            ObjectNode perOrg = out.putObject("orgs");
            for (String[] org : orgs) {
                perOrg.set(org[0], measure(http, c, base, org, queries, vectors));
            }
            if (drain != null) {
                out.set("workers", workersAgree(c, model, drain));
            }
        }
        System.out.println(out);
    }

    /**
     * Whether the seeded corpus is what the server's workers would have stored: the documents
     * they embedded (corpus-drain) are cut again here with {@link Passages} and a sample of their
     * passages embedded again with the same model; reports passage-count mismatches and the
     * lowest cosine similarity between the workers' vectors and these.
     */
    private static ObjectNode workersAgree(Connection c, LocalMiniLm model, UUID org) throws Exception {
        Passages splitter = new Passages(Corpus.WORDS, Corpus.OVERLAP);
        int docs = 0;
        int mismatches = 0;
        List<String> inputs = new ArrayList<>();
        List<float[]> stored = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT c.title, c.body, (SELECT count(*) FROM content_passages p WHERE p.content_id = c.id)
                FROM content c WHERE c.organization_id = ? AND c.embedding_status = 'ready'""")) {
            ps.setObject(1, org);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    docs++;
                    if (splitter.split(rs.getString(1), rs.getString(2)).size() != rs.getInt(3)) {
                        mismatches++;
                    }
                }
            }
        }
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT c.title, p.ordinal, p.text, p.embedding::text FROM content_passages p
                JOIN content c ON c.id = p.content_id
                WHERE p.organization_id = ? AND p.embedding IS NOT NULL AND p.ordinal < 3
                ORDER BY p.content_id, p.ordinal LIMIT 60""")) {
            ps.setObject(1, org);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    inputs.add(Passages.modelInput(rs.getString(1), rs.getInt(2), rs.getString(3)));
                    stored.add(parse(rs.getString(4)));
                }
            }
        }
        double min = 1;
        List<float[]> mine = inputs.isEmpty() ? List.of() : model.embed(inputs);
        for (int i = 0; i < mine.size(); i++) {
            double dot = 0;
            for (int k = 0; k < Corpus.DIMENSIONS; k++) {
                dot += mine.get(i)[k] * stored.get(i)[k];
            }
            min = Math.min(min, dot);
        }
        System.err.printf("search workers: %d documents, %d with a passage count other than Passages(64, 12) gives; "
                + "%d passages re-embedded, lowest cosine to the workers' vectors %.5f%n", docs, mismatches, mine.size(), min);
        return JSON.createObjectNode().put("documents", docs).put("chunkMismatches", mismatches)
                .put("checkedPassages", mine.size()).put("minCosine", round(min, 5));
    }

    private static float[] parse(String vector) {
        String[] parts = vector.substring(1, vector.length() - 1).split(",");
        float[] v = new float[parts.length];
        for (int i = 0; i < parts.length; i++) {
            v[i] = Float.parseFloat(parts[i]);
        }
        return v;
    }

    private static ObjectNode measure(HttpClient http, Connection c, String base, String[] org, List<String> queries,
                                      List<float[]> vectors) throws Exception {
        UUID orgId = UUID.fromString(org[1]);
        String key = org[2];
        double[] recall = new double[queries.size()];
        double[] apiMs = new double[queries.size()];
        double[] tookMs = new double[queries.size()];
        double[] exactMs = new double[queries.size()];
        int shortResults = 0;
        int errors = 0;
        double scoreDelta = 0;
        List<String> worst = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT content_id, min(embedding <=> CAST(? AS vector)) AS d
                FROM content_passages WHERE organization_id = ? AND embedding IS NOT NULL
                GROUP BY content_id ORDER BY d, content_id LIMIT 20""")) {
            for (int q = 0; q < queries.size(); q++) {
                String body = JSON.writeValueAsString(JSON.createObjectNode().put("query", queries.get(q))
                        .put("mode", "semantic").put("limit", K));
                HttpRequest req = HttpRequest.newBuilder(URI.create(base + "/api/v1/organizations/" + orgId
                                + "/content/search"))
                        .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                        .timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.ofString(body)).build();
                long t0 = System.nanoTime();
                HttpResponse<String> res = http.send(req, HttpResponse.BodyHandlers.ofString());
                apiMs[q] = (System.nanoTime() - t0) / 1e6;
                if (res.statusCode() != 200) {
                    recall[q] = Double.NaN;
                    errors++;
                    if (errors <= 3) {
                        System.err.printf("search %s: HTTP %d %s%n", org[0], res.statusCode(),
                                res.body().length() > 300 ? res.body().substring(0, 300) : res.body());
                    }
                    continue;
                }
                JsonNode json = JSON.readTree(res.body());
                tookMs[q] = json.path("tookMs").asDouble(Double.NaN);
                List<String> got = new ArrayList<>();
                Map<String, Double> scores = new HashMap<>();
                for (JsonNode item : json.path("data")) {
                    got.add(item.path("id").asText());
                    scores.put(item.path("id").asText(), item.path("score").asDouble(Double.NaN));
                }
                if (got.size() < K) {
                    shortResults++;
                }
                ps.setString(1, Copy.vector(vectors.get(q)));
                ps.setObject(2, orgId);
                Map<String, Double> exact = new HashMap<>();
                List<String> exactOrder = new ArrayList<>();
                long t1 = System.nanoTime();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        exact.put(rs.getString(1), rs.getDouble(2));
                        exactOrder.add(rs.getString(1));
                    }
                }
                exactMs[q] = (System.nanoTime() - t1) / 1e6;
                int expected = Math.min(K, exactOrder.size());
                double tenth = expected == 0 ? 0 : exact.get(exactOrder.get(expected - 1));
                int hits = 0;
                for (String id : got.subList(0, Math.min(K, got.size()))) {
                    Double d = exact.get(id);
                    if (d != null && d <= tenth + TIE) {
                        hits++;
                    }
                    Double s = scores.get(id);
                    if (d != null && s != null && !s.isNaN()) {
                        scoreDelta = Math.max(scoreDelta, Math.abs(s - (1 - d)));
                    }
                }
                recall[q] = expected == 0 ? 1 : Math.min(1.0, hits / (double) expected);
                if (recall[q] < 0.8 && worst.size() < 5) {
                    worst.add(String.format("%.1f %s", recall[q], queries.get(q)));
                }
            }
        }
        ObjectNode r = JSON.createObjectNode();
        r.put("id", orgId.toString()).put("documents", Long.parseLong(org[4])).put("passages", Long.parseLong(org[5]));
        int n = queries.size() - errors;
        double[] ok = Arrays.stream(recall).filter(x -> !Double.isNaN(x)).toArray();
        r.put("recall", n == 0 ? Double.NaN : round(Arrays.stream(ok).sum() / n, 4));
        r.put("minRecall", round(Arrays.stream(ok).min().orElse(0), 2));
        r.put("perfectShare", round(Arrays.stream(ok).filter(x -> x >= 1.0).count() / (double) Math.max(1, n), 3));
        r.put("errors", errors).put("shortResults", shortResults);
        r.put("scoreDelta", round(scoreDelta, 5));
        r.put("apiP50", round(pct(apiMs, 50), 2)).put("apiP95", round(pct(apiMs, 95), 2));
        r.put("tookP50", round(pct(tookMs, 50), 2)).put("tookP95", round(pct(tookMs, 95), 2));
        r.put("exactP50", round(pct(exactMs, 50), 2));
        r.set("worst", JSON.valueToTree(worst));
        System.err.printf("quality %s: recall@%d %.4f over %d queries (min %.2f, errors %d, fewer than %d results %d)%n",
                org[0], K, r.get("recall").asDouble(), n, r.get("minRecall").asDouble(), errors, K, shortResults);
        return r;
    }

    private static double pct(double[] xs, double p) {
        double[] s = Arrays.stream(xs).filter(x -> !Double.isNaN(x)).sorted().toArray();
        if (s.length == 0) {
            return Double.NaN;
        }
        return s[Math.min(s.length - 1, (int) Math.ceil(p / 100 * s.length) - 1)];
    }

    private static double round(double x, int digits) {
        if (Double.isNaN(x)) {
            return x;
        }
        double f = Math.pow(10, digits);
        return Math.round(x * f) / f;
    }
}
