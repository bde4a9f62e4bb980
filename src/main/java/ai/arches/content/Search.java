package ai.arches.content;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import ai.arches.cache.Caches;
import ai.arches.cache.TieredCache;
import ai.arches.common.ConflictException;
import ai.arches.common.ServiceUnavailableException;
import ai.arches.config.ArchesConfig;
import ai.arches.db.Database;
import ai.arches.embedding.Embedder;
import ai.arches.http.Json;
import ai.arches.organizations.Access;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.jdbi.v3.core.Handle;

/**
 * Semantic, keyword and hybrid search over an organization's passages; a document scores as its
 * best passage.
 * <ul>
 * <li>semantic: cosine similarity (1 − cosine distance) of the query's vector and the passage's.
 * <li>keyword: PostgreSQL full-text rank, rank / (rank + 1); a query of at most three words that
 * full-text search cannot match (stop words only, a typo, a fragment) falls back to trigram
 * similarity against titles.
 * <li>hybrid: reciprocal-rank fusion, Σ w / (k + rank) over both rankings, divided by its maximum
 * (Σ w / (k + 1)) so a document first in both scores 1. Weights default to 1 and 1.
 * </ul>
 * {@code threshold} drops results scoring below it on that scale. Result pages are cached under
 * the organization's content namespace, which every write and every finished embedding bumps.
 */
public final class Search implements AutoCloseable {
    private static final int MAX_K = 2_000;

    private final Database db;
    private final SearchStore store;
    private final QueryVectors vectors;
    private final ArchesConfig.Search cfg;
    private final Caches caches;
    /** server.max_page_bytes: a hit's metadata can be as large as a document, so results stop there. */
    private final long maxPageBytes;
    private final TieredCache<SearchHit[]> results;
    /** Vector passages per organization, to choose exact scan or index; approximate is enough. */
    private final Cache<UUID, Long> sizes = Caffeine.newBuilder().maximumSize(100_000)
            .expireAfterWrite(Duration.ofSeconds(30)).build();

    public Search(Database db, Embedder embedder, Caches caches, ArchesConfig.Search cfg, long maxPageBytes) {
        this.db = db;
        this.maxPageBytes = maxPageBytes;
        this.store = new SearchStore(cfg);
        this.vectors = new QueryVectors(embedder, caches, cfg.queryEmbedConcurrency(), cfg.queryVectorTtl(),
                cfg.queryEmbedTimeout(), cfg.queryEmbedQueue());
        this.cfg = cfg;
        this.caches = caches;
        this.results = caches.cache("content-search", SearchHit[].class, r -> 0L);
    }

    /**
     * Settings every pooled connection starts with, for the vector index (ef_search and the
     * like): the same for every search, so no search spends a statement or a transaction on them.
     */
    public static Map<String, String> connectionSettings(ArchesConfig.Search cfg) {
        return SearchStore.connectionSettings(cfg);
    }

    /**
     * Asks the result cache before anything else: a cached page costs no query embedding. A miss
     * embeds the query (cached by text too) and runs it; with the embedding provider down or
     * busy, hybrid answers from keywords alone, and that degraded page is never cached.
     */
    public SearchResults search(Access access, SearchRequest r) {
        long start = System.nanoTime();
        UUID org = access.organizationId();
        long version = cfg.cacheResults() ? caches.namespace(Contents.namespace(org)) : -1;
        if (version < 0) {
            Found f = find(org, r, true);
            return results(f.hits(), f.mode(), start);
        }
        String key = org + "@" + version + ":" + digest(r);
        try {
            SearchHit[] hits = results.get(key, () -> {
                Found f = find(org, r, false);
                if (!f.mode().equals(r.mode().wire())) {
                    throw new Degraded(f);
                }
                return Optional.of(f.hits().toArray(SearchHit[]::new));
            }).orElseThrow();
            return results(List.of(hits), r.mode().wire(), start);
        } catch (Degraded d) {
            return results(d.found.hits(), d.found.mode(), start);
        }
    }

    /** What a search found, and the mode that found it (keyword when hybrid lost its vectors). */
    private record Found(List<SearchHit> hits, String mode) {}

    /** Carries a degraded result out of the cache's loader, so that it is not cached. */
    private static final class Degraded extends RuntimeException {
        final transient Found found;

        Degraded(Found found) {
            super(null, null, false, false);
            this.found = found;
        }
    }

    /** {@code stale}: the hits may come from a replica (they fill no shared cache). */
    private Found find(UUID org, SearchRequest r, boolean stale) {
        boolean needsVector = r.mode() == SearchRequest.Mode.SEMANTIC
                || (r.mode() == SearchRequest.Mode.HYBRID && r.semanticWeight() > 0);
        String vector = null;
        if (needsVector) {
            try {
                vector = vectors.vector(r.query());
            } catch (ServiceUnavailableException e) {
                if (r.mode() == SearchRequest.Mode.SEMANTIC) {
                    throw e;
                }
                return new Found(read(stale, h -> keywordHits(h, org, r)), "keyword");
            }
        }
        return new Found(run(org, r, vector, stale), r.mode().wire());
    }

    /** Documents nearest to this one (by its mean vector), itself excluded. */
    public SearchResults similar(Access access, UUID id, int limit) {
        long start = System.nanoTime();
        UUID org = access.organizationId();
        List<SearchHit> hits = db.withReadHandle(h -> {
            String vector = store.documentVector(h, org, id).orElseThrow(() -> new ConflictException(
                    "content is not embedded yet; similar documents are found once its embeddingStatus is ready"));
            List<SearchStore.Match> m = semantic(h, org, vector, SearchRequest.Filters.NONE, id, limit);
            return hits(h, org, m, limit, Optional.empty(), null, null);
        });
        return results(hits, "semantic", start);
    }

    /** The best hits that fit the byte budget (the first always does); {@code truncated} if any did not. */
    private SearchResults results(List<SearchHit> hits, String mode, long start) {
        long used = 256;
        int n = 0;
        while (n < hits.size()) {
            long size = Json.size(hits.get(n)) + 1;
            if (n > 0 && used + size > maxPageBytes) {
                break;
            }
            used += size;
            n++;
        }
        return new SearchResults(List.copyOf(hits.subList(0, n)), mode, (System.nanoTime() - start) / 1_000_000,
                n < hits.size());
    }

    private List<SearchHit> run(UUID org, SearchRequest r, String v, boolean stale) {
        return switch (r.mode()) {
            case SEMANTIC -> read(stale, h -> semanticHits(h, org, v, r));
            case KEYWORD -> read(stale, h -> keywordHits(h, org, r));
            case HYBRID -> hybrid(org, r, v, stale);
        };
    }

    private <R> R read(boolean stale, org.jdbi.v3.core.HandleCallback<R, RuntimeException> callback) {
        return stale ? db.withReadHandle(callback) : db.withHandle(callback);
    }

    private List<SearchHit> keywordHits(Handle h, UUID org, SearchRequest r) {
        var m = keyword(h, org, r, r.limit());
        return hits(h, org, m, r.limit(), r.threshold(), null, m);
    }

    private List<SearchHit> hybrid(UUID org, SearchRequest r, String v, boolean stale) {
        int depth = Math.min(Math.max(r.limit() * 3, 30), 300);
        return read(stale, h -> {
            // A side weighted 0 adds nothing, not even candidates scoring 0.
            var sem = r.semanticWeight() > 0 ? semantic(h, org, v, r.filters(), null, depth) : List.<SearchStore.Match>of();
            var kw = r.keywordWeight() > 0 ? keyword(h, org, r, depth) : List.<SearchStore.Match>of();
            Map<UUID, Double> fused = new HashMap<>();
            Map<UUID, SearchStore.Match> best = new LinkedHashMap<>();
            double k = cfg.rrfK();
            for (int i = 0; i < sem.size(); i++) {
                fused.merge(sem.get(i).contentId(), r.semanticWeight() / (k + i + 1), Double::sum);
                best.putIfAbsent(sem.get(i).contentId(), sem.get(i));
            }
            for (int i = 0; i < kw.size(); i++) {
                fused.merge(kw.get(i).contentId(), r.keywordWeight() / (k + i + 1), Double::sum);
                // A keyword match names the passage holding the words: the better snippet.
                best.put(kw.get(i).contentId(), kw.get(i));
            }
            double max = (r.semanticWeight() + r.keywordWeight()) / (k + 1);
            List<SearchStore.Match> ranked = new ArrayList<>();
            for (var e : best.entrySet()) {
                ranked.add(new SearchStore.Match(e.getKey(), e.getValue().ordinal(), max == 0 ? 0 : fused.get(e.getKey()) / max));
            }
            ranked.sort(Comparator.comparingDouble(SearchStore.Match::score).reversed()
                    .thenComparing(SearchStore.Match::contentId));
            return hits(h, org, ranked, r.limit(), r.threshold(), sem, kw);
        });
    }

    /**
     * Best passage per document, nearest first, for at least {@code limit} documents when the
     * organization has them. Small organizations are scanned exactly. Larger ones go through the
     * index; if it gives fewer documents than asked although the scan stopped early (filters
     * rejected most of what max_scan_tuples allowed), the exact scan answers instead.
     */
    private List<SearchStore.Match> semantic(Handle h, UUID org, String v, SearchRequest.Filters f, UUID exclude,
                                             int limit) {
        return deepen(h, org, limit, (k, exact) -> store.nearest(h, org, v, f, exclude, k, exact));
    }

    /** A semantic search's page in one statement per scan (usually one scan). */
    private List<SearchHit> semanticHits(Handle h, UUID org, String v, SearchRequest r) {
        double min = r.threshold().orElse(-2.0);
        List<SearchStore.Scored> page = deepen(h, org, r.limit(),
                (k, exact) -> store.nearestPage(h, org, v, r.filters(), k, exact, r.limit(), min));
        List<SearchHit> out = new ArrayList<>(page.size());
        for (var d : page) {
            double score = round(d.score());
            out.add(hit(d.row(), score, score, null));
        }
        return out;
    }

    /** The scan loop: through the index deeper (k × 4) while passages crowd the top, exact when it runs dry. */
    private <T> T deepen(Handle h, UUID org, int limit, Scan<T> scan) {
        long size = sizes.get(org, o -> store.vectorCount(h, o));
        boolean exact = size <= cfg.exactThreshold();
        int k = Math.min(limit * 3, MAX_K);
        while (true) {
            SearchStore.Scanned<T> s = scan.run(k, exact);
            // An exact scan compares every passage and keeps k documents: complete in one pass.
            if (exact || s.documents() >= limit || k >= MAX_K) {
                return s.result();
            }
            if (s.produced() < k) {
                exact = true;
            } else {
                // Full but too few documents: their passages crowd the top; look deeper.
                k = Math.min(k * 4, MAX_K);
            }
        }
    }

    @FunctionalInterface
    private interface Scan<T> {
        SearchStore.Scanned<T> run(int k, boolean exact);
    }

    private List<SearchStore.Match> keyword(Handle h, UUID org, SearchRequest r, int k) {
        var m = store.keyword(h, org, r.query(), r.filters(), k);
        if (m.isEmpty() && r.query().strip().split("\\s+").length <= 3) {
            return store.trigram(h, org, r.query().strip(), r.filters(), k);
        }
        return m;
    }

    private List<SearchHit> hits(Handle h, UUID org, List<SearchStore.Match> ranked, int limit,
                                 Optional<Double> threshold, List<SearchStore.Match> sem, List<SearchStore.Match> kw) {
        List<SearchStore.Match> top = new ArrayList<>();
        for (var m : ranked) {
            if (top.size() == limit) {
                break;
            }
            if (threshold.isEmpty() || m.score() >= threshold.get()) {
                top.add(m);
            }
        }
        Map<UUID, Double> semScores = scores(sem);
        Map<UUID, Double> kwScores = scores(kw);
        Map<UUID, SearchStore.Row> rows = store.rows(h, org, top);
        List<SearchHit> out = new ArrayList<>(top.size());
        for (var m : top) {
            SearchStore.Row row = rows.get(m.contentId());
            if (row == null) {
                continue; // deleted between the two statements: gone
            }
            out.add(hit(row, round(m.score()), semScores.get(m.contentId()), kwScores.get(m.contentId())));
        }
        return out;
    }

    private static SearchHit hit(SearchStore.Row row, double score, Double semantic, Double keyword) {
        return new SearchHit(row.id(), row.organizationId(), row.title(), snippet(row), score, semantic, keyword,
                row.type(), row.mimeType(), row.tags(), row.metadata(), row.embeddingStatus(), row.createdBy(),
                row.createdAt(), row.updatedAt());
    }

    private static Map<UUID, Double> scores(List<SearchStore.Match> matches) {
        if (matches == null) {
            return Map.of();
        }
        Map<UUID, Double> out = new HashMap<>();
        matches.forEach(m -> out.putIfAbsent(m.contentId(), round(m.score())));
        return out;
    }

    private static double round(double score) {
        return Math.round(score * 10_000) / 10_000.0;
    }

    /** The matched passage, cut at a word boundary near 280 characters. */
    private static String snippet(SearchStore.Row row) {
        String text = row.snippet() == null ? "" : row.snippet();
        if (text.length() <= 280) {
            return text;
        }
        int cut = text.lastIndexOf(' ', 280);
        return text.substring(0, cut > 200 ? cut : 280) + "…";
    }

    /** A stable key for the request: every part that changes the result, nothing else. */
    private static String digest(SearchRequest r) {
        var f = r.filters();
        String canonical = String.join("\u0000", r.query(), r.mode().wire(), String.valueOf(r.limit()),
                String.valueOf(r.threshold().orElse(null)), String.valueOf(r.semanticWeight()),
                String.valueOf(r.keywordWeight()), String.join("\u0001", f.tags()), f.type().orElse(""),
                String.valueOf(f.createdAfter().orElse(null)), String.valueOf(f.createdBefore().orElse(null)),
                f.metadata().map(Object::toString).orElse(""));
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(canonical.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        vectors.close();
    }
}
