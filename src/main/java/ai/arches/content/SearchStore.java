package ai.arches.content;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import ai.arches.config.ArchesConfig;
import ai.arches.db.Database;
import ai.arches.db.Rows;
import ai.arches.http.Json;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.jdbi.v3.core.Handle;
import org.postgresql.util.PGobject;
import org.jdbi.v3.core.statement.Query;

/**
 * SQL of search. Every statement is scoped by organization id. Vectors travel as pgvector's text
 * form and are cast in SQL. Index settings ({@link #connectionSettings}) are set on every pooled
 * connection when it opens, the same for all: a search is then one statement with no transaction,
 * where setting them per search cost a statement and a transaction (BEGIN, set_config, COMMIT).
 */
final class SearchStore {
    /** A document and the passage of it that matched best, with its score on the mode's scale. */
    record Match(UUID contentId, int ordinal, double score) {}

    /** A matched document's fields and snippet text. */
    record Row(UUID id, UUID organizationId, String title, String snippet, String type, String mimeType,
               List<String> tags, ObjectNode metadata, String embeddingStatus, UUID createdBy,
               java.time.Instant createdAt, java.time.Instant updatedAt) {}

    private final ArchesConfig.Search cfg;

    SearchStore(ArchesConfig.Search cfg) {
        this.cfg = cfg;
    }

    /** The vector index's search settings, for every connection of the pool. */
    static Map<String, String> connectionSettings(ArchesConfig.Search cfg) {
        Map<String, String> out = new java.util.LinkedHashMap<>();
        if (cfg.index().equals("hnsw")) {
            out.put("hnsw.ef_search", String.valueOf(cfg.hnsw().efSearch()));
            // Keeps reading the index until k rows pass the tenant and filter conditions.
            out.put("hnsw.iterative_scan", "relaxed_order");
            out.put("hnsw.max_scan_tuples", String.valueOf(cfg.maxScanTuples()));
        } else {
            out.put("ivfflat.probes", String.valueOf(cfg.ivfflat().probes()));
            out.put("ivfflat.iterative_scan", "relaxed_order");
        }
        return out;
    }

    /** Passages of the organization that have vectors: picks exact scan or index. */
    long vectorCount(Handle h, UUID org) {
        return h.createQuery("SELECT count(*) FROM content_passages WHERE organization_id = :org AND embedding IS NOT NULL")
                .define(Database.QUERY_TYPE, "search.size")
                .bind("org", org).mapTo(Long.class).one();
    }

    /** What a scan of the nearest passages gave: its result, documents found, passages read. */
    record Scanned<T>(T result, int documents, int produced) {}

    /** A document of a semantic page: its fields and matched passage, and its score. */
    record Scored(Row row, double score) {}

    /**
     * The {@code k} passages nearest to the vector (cosine distance), reduced to the best passage
     * per document, nearest first. {@code exact} compares every passage of the organization (an
     * ordering no index can serve); otherwise the vector index serves it with an iterative scan,
     * which keeps reading the index until {@code k} passages pass the tenant and filter conditions
     * (or max_scan_tuples is reached), instead of filtering a fixed candidate list.
     * Also says how many passages the scan produced, to tell exhaustion from fullness.
     */
    Scanned<List<Match>> nearest(Handle h, UUID org, String vector, SearchRequest.Filters filters, UUID exclude, int k,
                                 boolean exact) {
        String sql = hitsCte(filters, exclude, exact) + "SELECT content_id, ordinal, d FROM hits ORDER BY d";
        Query q = bindHits(h.createQuery(sql), org, vector, filters, exclude, k, exact);
        List<Match> rows = q.map((rs, ctx) -> new Match(Rows.uuid(rs, "content_id"), rs.getInt("ordinal"),
                1 - rs.getDouble("d"))).list();
        List<Match> best = bestPerDocument(rows);
        return new Scanned<>(best, best.size(), rows.size());
    }

    /**
     * {@link #nearest} and {@link #rows} in one statement: the {@code limit} best documents scoring
     * at least {@code minScore}, with their fields and matched passage, plus the scan's counts
     * (a one-row {@code stats} side, so an empty page still reports them).
     */
    Scanned<List<Scored>> nearestPage(Handle h, UUID org, String vector, SearchRequest.Filters filters, int k, boolean exact,
                              int limit, double minScore) {
        String sql = hitsCte(filters, null, exact) + """
                , best AS (SELECT DISTINCT ON (content_id) content_id, ordinal, d FROM hits ORDER BY content_id, d, ordinal),
                top AS (SELECT content_id, ordinal, d FROM best WHERE 1 - d >= :min ORDER BY d, content_id LIMIT :limit),
                stats AS (SELECT (SELECT count(*) FROM hits) AS produced, (SELECT count(*) FROM best) AS documents)
                SELECT s.produced, s.documents, t.d, c.id, c.organization_id, c.title, c.type,
                       c.mime_type, c.tags, c.metadata, c.embedding_status, c.created_by, c.created_at, c.updated_at,
                       p.text AS snippet
                FROM stats s LEFT JOIN (top t JOIN content c ON c.id = t.content_id AND c.organization_id = :org
                     LEFT JOIN content_passages p ON p.content_id = t.content_id AND p.ordinal = GREATEST(t.ordinal, 1))
                  ON true
                ORDER BY t.d, t.content_id""";
        Query q = bindHits(h.createQuery(sql), org, vector, filters, null, k, exact)
                .bind("min", minScore).bind("limit", limit);
        List<Scored> page = new ArrayList<>();
        int[] counts = new int[2];
        q.map((rs, ctx) -> {
            counts[0] = rs.getInt("produced");
            counts[1] = rs.getInt("documents");
            if (rs.getObject("id") != null) {
                page.add(new Scored(row(rs), 1 - rs.getDouble("d")));
            }
            return Boolean.TRUE;
        }).list();
        return new Scanned<>(page, counts[1], counts[0]);
    }

    /**
     * The query vector as a parameter of type vector, not text. pgjdbc server-prepares a statement
     * from its fifth run, and PostgreSQL may then choose a generic plan, which evaluates a cast of a
     * text parameter for every row: an exact scan of 6,500 passages took 1,004 ms instead of 20.
     */
    private static PGobject typed(String vector) {
        try {
            PGobject o = new PGobject();
            o.setType("vector");
            o.setValue(vector);
            return o;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The scan, as a CTE {@code hits(content_id, ordinal, d)}. Through the index: the {@code k}
     * nearest passages (the caller deepens k while passages of few documents crowd the top).
     * Exact: every passage of the organization compared once, reduced to each document's best, and
     * the {@code k} nearest documents kept; a complete answer in one pass, where k passages at a
     * time needed up to four passes over the same rows (man pages: 30 passages held 3 documents).
     */
    private static String hitsCte(SearchRequest.Filters filters, UUID exclude, boolean exact) {
        String where = "FROM content_passages p WHERE p.organization_id = :org AND p.embedding IS NOT NULL"
                + (exclude != null ? " AND p.content_id <> :exclude" : "")
                + filterClause(filters);
        if (exact) {
            return "WITH hits AS MATERIALIZED (SELECT content_id, ordinal, d FROM (SELECT DISTINCT ON (p.content_id) "
                    + "p.content_id, p.ordinal, p.embedding <=> CAST(:q AS vector) AS d " + where
                    + " ORDER BY p.content_id, d, p.ordinal) best ORDER BY d, content_id LIMIT :k) ";
        }
        // Relaxed order may return neighbours slightly out of order: the outer query re-sorts.
        return "WITH hits AS MATERIALIZED (SELECT p.content_id, p.ordinal, p.embedding <=> CAST(:q AS vector) AS d "
                + where + " ORDER BY p.embedding <=> CAST(:q AS vector) LIMIT :k) ";
    }

    private static Query bindHits(Query q, UUID org, String vector, SearchRequest.Filters filters, UUID exclude, int k,
                                  boolean exact) {
        q.define(Database.QUERY_TYPE, exact ? "search.exact" : "search.ann")
                .bindBySqlType("q", typed(vector), Types.OTHER).bind("org", org).bind("k", k);
        if (exclude != null) {
            q.bind("exclude", exclude);
        }
        bindFilters(q, filters);
        return q;
    }

    /**
     * Full-text matches (websearch syntax: quotes, OR, -word), best passage per document, ranked
     * by ts_rank_cd normalized to [0, 1) (rank / (rank + 1)); title passages weigh A, body B.
     */
    List<Match> keyword(Handle h, UUID org, String query, SearchRequest.Filters filters, int k) {
        String sql = "WITH q AS (SELECT websearch_to_tsquery('english', :query) AS q), "
                + "m AS (SELECT DISTINCT ON (p.content_id) p.content_id, p.ordinal, ts_rank_cd(p.tsv, q.q, 32) AS r "
                + "FROM content_passages p, q WHERE p.organization_id = :org AND p.tsv @@ q.q"
                + filterClause(filters)
                + " ORDER BY p.content_id, r DESC, p.ordinal) "
                + "SELECT content_id, ordinal, r FROM m ORDER BY r DESC, content_id LIMIT :k";
        Query q = h.createQuery(sql).define(Database.QUERY_TYPE, "search.keyword")
                .bind("query", query).bind("org", org).bind("k", k);
        bindFilters(q, filters);
        return q.map((rs, ctx) -> new Match(Rows.uuid(rs, "content_id"), rs.getInt("ordinal"), rs.getDouble("r")))
                .list();
    }

    /**
     * Titles similar to a short query by trigrams (word_similarity, served by the trigram index):
     * finds "postgre" or "nginix" where full-text search finds nothing.
     */
    List<Match> trigram(Handle h, UUID org, String query, SearchRequest.Filters filters, int k) {
        String sql = "SELECT c.id, word_similarity(:query, c.title) AS s FROM content c "
                + "WHERE c.organization_id = :org AND :query <% c.title"
                + filterConditions(filters, "c")
                + " ORDER BY s DESC, c.id LIMIT :k";
        Query q = h.createQuery(sql).define(Database.QUERY_TYPE, "search.trigram")
                .bind("query", query).bind("org", org).bind("k", k);
        bindFilters(q, filters);
        // Ordinal 1: the snippet shows the start of the body, not the title again.
        return q.map((rs, ctx) -> new Match(Rows.uuid(rs, "id"), 1, rs.getDouble("s"))).list();
    }

    /** The fields of matched documents, with the matched passage's text (or the first body passage). */
    Map<UUID, Row> rows(Handle h, UUID org, List<Match> matches) {
        if (matches.isEmpty()) {
            return Map.of();
        }
        UUID[] ids = new UUID[matches.size()];
        Integer[] ordinals = new Integer[matches.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = matches.get(i).contentId();
            ordinals[i] = matches.get(i).ordinal() == 0 ? 1 : matches.get(i).ordinal();
        }
        Map<UUID, Row> out = new HashMap<>();
        h.createQuery("""
                        SELECT c.id, c.organization_id, c.title, c.type, c.mime_type, c.tags, c.metadata,
                               c.embedding_status, c.created_by, c.created_at, c.updated_at, p.text AS snippet
                        FROM unnest(CAST(:ids AS uuid[]), CAST(:ordinals AS int[])) AS m(id, ordinal)
                        JOIN content c ON c.id = m.id AND c.organization_id = :org
                        LEFT JOIN content_passages p ON p.content_id = m.id AND p.ordinal = m.ordinal""")
                .define(Database.QUERY_TYPE, "search.rows")
                .bindArray("ids", UUID.class, (Object[]) ids).bindArray("ordinals", Integer.class, (Object[]) ordinals)
                .bind("org", org)
                .map((rs, ctx) -> row(rs))
                .forEach(r -> out.put(r.id(), r));
        return out;
    }

    private static Row row(ResultSet rs) throws SQLException {
        return new Row(Rows.uuid(rs, "id"), Rows.uuid(rs, "organization_id"), rs.getString("title"),
                rs.getString("snippet"), rs.getString("type"), rs.getString("mime_type"),
                Rows.strings(rs, "tags"), object(rs.getString("metadata")), rs.getString("embedding_status"),
                Rows.uuid(rs, "created_by"), Rows.instant(rs, "created_at"), Rows.instant(rs, "updated_at"));
    }

    /** The document's own vector (the mean of its passages'), if it is embedded. */
    java.util.Optional<String> documentVector(Handle h, UUID org, UUID id) {
        return h.createQuery("SELECT embedding::text FROM content WHERE id = :id AND organization_id = :org")
                .define(Database.QUERY_TYPE, "search.document_vector")
                .bind("id", id).bind("org", org)
                .map((rs, ctx) -> java.util.Optional.ofNullable(rs.getString(1))).findOne()
                .orElseThrow(Contents::notFound);
    }

    private static List<Match> bestPerDocument(List<Match> rows) {
        Map<UUID, Boolean> seen = new HashMap<>();
        List<Match> out = new ArrayList<>();
        for (Match m : rows) {
            if (seen.putIfAbsent(m.contentId(), Boolean.TRUE) == null) {
                out.add(m);
            }
        }
        return out;
    }

    /** Filters on the passage's document, as a semi-join the index scan can run row by row. */
    private static String filterClause(SearchRequest.Filters f) {
        if (!f.any()) {
            return "";
        }
        return " AND EXISTS (SELECT 1 FROM content c WHERE c.id = p.content_id" + filterConditions(f, "c") + ")";
    }

    private static String filterConditions(SearchRequest.Filters f, String c) {
        StringBuilder sb = new StringBuilder();
        if (!f.tags().isEmpty()) {
            sb.append(" AND ").append(c).append(".tags @> CAST(:ftags AS text[])");
        }
        f.type().ifPresent(t -> sb.append(" AND ").append(c).append(".type = :ftype"));
        f.createdAfter().ifPresent(t -> sb.append(" AND ").append(c).append(".created_at >= :fafter"));
        f.createdBefore().ifPresent(t -> sb.append(" AND ").append(c).append(".created_at < :fbefore"));
        f.metadata().ifPresent(m -> sb.append(" AND ").append(c).append(".metadata @> CAST(:fmeta AS jsonb)"));
        return sb.toString();
    }

    private static void bindFilters(Query q, SearchRequest.Filters f) {
        if (!f.tags().isEmpty()) {
            q.bindArray("ftags", String.class, f.tags());
        }
        f.type().ifPresent(t -> q.bind("ftype", t));
        f.createdAfter().ifPresent(t -> q.bind("fafter", t));
        f.createdBefore().ifPresent(t -> q.bind("fbefore", t));
        f.metadata().ifPresent(m -> q.bind("fmeta", m.toString()));
    }

    private static ObjectNode object(String json) {
        try {
            return (ObjectNode) Json.MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
