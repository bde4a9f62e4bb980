package ai.arches.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import ai.arches.embedding.LocalMiniLm;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.HdrHistogram.Histogram;

/**
 * The platform's semantic search statement issued straight to PostgreSQL over JDBC, as the
 * reference the platform's semantic search is judged against: the same statement as
 * {@code SearchStore.nearest} (the exact form when the organization has at most exact_threshold
 * passages, else the index form), one statement per search without a transaction, on connections
 * that carry ef_search, iterative scan and max_scan_tuples from their start-up packet as the
 * platform's pool does ({@code Database}, {@code SearchStore.connectionSettings}; before
 * 2026-12-03 the platform sent set_config in a transaction per search), k = 3 × 10 as the platform asks, the same
 * query texts (search-direct-ORG.txt, the texts the platform was measured with, else the query set
 * search-queries.txt) embedded by the same model. Closed loop: THREADS threads, each with its own
 * connection, cycling through the queries from their own offsets. No result hydration, no HTTP.
 *
 * <p>Statements are never server-prepared (prepareThreshold 0), so PostgreSQL plans each with its
 * values: with pgjdbc's default (server-prepared from the fifth execution) PostgreSQL switched to a
 * generic plan that casts the vector text for every row it compares, and the exact search of
 * corpus-large (14,037 passages, QUICK) took 1.5-2.5 s instead of 19 ms (2026-12-03).
 *
 * <p>Usage: {@code SearchDirect JDBC_URL USER TARGET_DIR ORGS EF_SEARCH MAX_SCAN_TUPLES
 * EXACT_THRESHOLD THREADS SECONDS WARMUP_S} (ORGS comma-separated names of search-orgs.tsv); prints
 * one JSON object, per organization req/s and latency percentiles in ms.
 */
public final class SearchDirect {
    private static final int K = 30;
    private static final ObjectMapper JSON = new ObjectMapper();

    private SearchDirect() {}

    public static void main(String[] args) throws Exception {
        String url = args[0];
        String user = args[1];
        Path dir = Path.of(args[2]);
        List<String> wanted = List.of(args[3].split(","));
        String ef = args[4];
        String maxScan = args[5];
        long exactThreshold = Long.parseLong(args[6]);
        int threads = Integer.parseInt(args[7]);
        int seconds = Integer.parseInt(args[8]);
        int warmup = Integer.parseInt(args[9]);
        ObjectNode out = JSON.createObjectNode();
        out.put("threads", threads).put("k", K).put("efSearch", Integer.parseInt(ef));
        ObjectNode perOrg = out.putObject("orgs");
        try (LocalMiniLm model = new LocalMiniLm()) {
            for (String line : Files.readAllLines(dir.resolve("search-orgs.tsv"))) {
                String[] f = line.split("\t");
                if (f.length < 6 || !wanted.contains(f[0])) {
                    continue;
                }
                Path own = dir.resolve("search-direct-" + f[0] + ".txt");
                List<String> queries = Files.readAllLines(Files.exists(own) ? own : dir.resolve("search-queries.txt"))
                        .stream().filter(q -> !q.isBlank()).toList();
                List<String> vectors = new ArrayList<>();
                for (float[] v : model.embed(queries)) {
                    vectors.add(Copy.vector(v));
                }
                boolean exact = Long.parseLong(f[5]) <= exactThreshold;
                ObjectNode r = run(url, user, UUID.fromString(f[1]), exact, ef, maxScan, vectors, threads, seconds, warmup);
                r.put("queries", queries.size()).put("queryFile", Files.exists(own) ? own.getFileName().toString()
                        : "search-queries.txt");
                perOrg.set(f[0], r);
            }
        }
        System.out.println(JSON.writeValueAsString(out));
    }

    private static ObjectNode run(String url, String user, UUID org, boolean exact, String ef, String maxScan,
                                  List<String> vectors, int threads, int seconds, int warmup) throws Exception {
        // The platform's two forms (SearchStore.hitsCte): exact keeps each document's best passage
        // over all of them and the K nearest documents; the index gives the K nearest passages.
        String sql = exact
                ? "WITH hits AS MATERIALIZED (SELECT content_id, ordinal, d FROM (SELECT DISTINCT ON (p.content_id) "
                        + "p.content_id, p.ordinal, p.embedding <=> CAST(? AS vector) AS d FROM content_passages p "
                        + "WHERE p.organization_id = ? AND p.embedding IS NOT NULL ORDER BY p.content_id, d, p.ordinal) best "
                        + "ORDER BY d, content_id LIMIT ?) SELECT content_id, ordinal, d FROM hits ORDER BY d"
                : "WITH hits AS MATERIALIZED (SELECT p.content_id, p.ordinal, p.embedding <=> CAST(? AS vector) AS d "
                        + "FROM content_passages p WHERE p.organization_id = ? AND p.embedding IS NOT NULL"
                        + " ORDER BY p.embedding <=> CAST(? AS vector) LIMIT ?) SELECT content_id, ordinal, d FROM hits ORDER BY d";
        long start = System.nanoTime();
        long measureFrom = start + TimeUnit.SECONDS.toNanos(warmup);
        long end = measureFrom + TimeUnit.SECONDS.toNanos(seconds);
        List<Histogram> histograms = new ArrayList<>();
        List<Thread> workers = new ArrayList<>();
        AtomicInteger errors = new AtomicInteger();
        for (int t = 0; t < threads; t++) {
            Histogram h = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
            histograms.add(h);
            int offset = t * vectors.size() / threads;
            workers.add(Thread.ofPlatform().start(() -> {
                Properties props = new Properties();
                props.setProperty("user", user);
                props.setProperty("prepareThreshold", "0");
                props.setProperty("options", "-c hnsw.ef_search=" + ef + " -c hnsw.iterative_scan=relaxed_order"
                        + " -c hnsw.max_scan_tuples=" + maxScan);
                try (Connection c = DriverManager.getConnection(url, props)) {
                    try (PreparedStatement ps = c.prepareStatement(sql)) {
                        for (int i = offset; ; i++) {
                            long t0 = System.nanoTime();
                            if (t0 >= end) {
                                break;
                            }
                            String v = vectors.get(i % vectors.size());
                            int n = 1;
                            ps.setString(n++, v);
                            ps.setObject(n++, org);
                            if (!exact) {
                                ps.setString(n++, v);
                            }
                            ps.setInt(n, K);
                            try (ResultSet rs = ps.executeQuery()) {
                                while (rs.next()) {
                                    rs.getObject(1, UUID.class);
                                }
                            }
                            if (t0 >= measureFrom) {
                                h.recordValue((System.nanoTime() - t0) / 1000);
                            }
                        }
                    }
                } catch (Exception e) {
                    if (errors.incrementAndGet() <= 3) {
                        e.printStackTrace();
                    }
                }
            }));
        }
        for (Thread w : workers) {
            w.join();
        }
        Histogram all = new Histogram(TimeUnit.SECONDS.toMicros(60), 3);
        histograms.forEach(all::add);
        ObjectNode r = JSON.createObjectNode();
        r.put("exact", exact).put("requests", all.getTotalCount()).put("errors", errors.get())
                .put("rps", round(all.getTotalCount() / (double) seconds))
                .put("p50", ms(all, 50)).put("p95", ms(all, 95)).put("p99", ms(all, 99)).put("max", all.getMaxValue() / 1000.0);
        return r;
    }

    private static double ms(Histogram h, double p) {
        return round(h.getValueAtPercentile(p) / 1000.0);
    }

    private static double round(double v) {
        return Double.parseDouble(String.format(Locale.ROOT, "%.3f", v));
    }
}
