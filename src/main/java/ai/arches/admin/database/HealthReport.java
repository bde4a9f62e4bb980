package ai.arches.admin.database;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import ai.arches.db.Database;
import ai.arches.http.Json;

import com.fasterxml.jackson.core.type.TypeReference;
import org.jdbi.v3.core.Handle;

/**
 * Reads {@link Health} from the statistics views and catalogs, in one read-only transaction (so
 * every counter comes from the same snapshot). Another role's sessions show only in part unless
 * this role has pg_read_all_stats (`make setup` grants pg_monitor, which includes it).
 */
final class HealthReport {
    private static final TypeReference<List<Health.Index>> INDEXES = new TypeReference<>() {};

    /**
     * The widely used estimate of ioguix/pgsql-bloat-estimation (table_bloat.sql): a row's size
     * from pg_stats' average column widths plus header and alignment, pages needed for the
     * table's rows at its fill factor, against the pages it has. Tables and materialized views
     * outside the system schemas.
     */
    private static final String BLOAT = """
            SELECT schemaname, tblname, (bs * tblpages)::bigint AS bytes,
                   CASE WHEN tblpages - est_tblpages_ff > 0 THEN ((tblpages - est_tblpages_ff) * bs)::bigint ELSE 0 END
                       AS bloat_bytes,
                   CASE WHEN tblpages > 0 AND tblpages - est_tblpages_ff > 0
                        THEN (tblpages - est_tblpages_ff) / tblpages::float8 ELSE 0 END AS bloat_ratio,
                   NOT is_na AS estimated
            FROM (
              SELECT ceil(reltuples / ((bs - page_hdr) * fillfactor / (tpl_size * 100))) + ceil(toasttuples / 4)
                         AS est_tblpages_ff,
                     tblpages, bs, schemaname, tblname, is_na
              FROM (
                SELECT (4 + tpl_hdr_size + tpl_data_size + (2 * ma)
                        - CASE WHEN tpl_hdr_size % ma = 0 THEN ma ELSE tpl_hdr_size % ma END
                        - CASE WHEN ceil(tpl_data_size)::int % ma = 0 THEN ma ELSE ceil(tpl_data_size)::int % ma END
                       ) AS tpl_size,
                       (heappages + toastpages) AS tblpages, reltuples, toasttuples, bs, page_hdr, schemaname,
                       tblname, fillfactor, is_na
                FROM (
                  SELECT ns.nspname AS schemaname, tbl.relname AS tblname, greatest(tbl.reltuples, 0) AS reltuples,
                         tbl.relpages AS heappages, coalesce(toast.relpages, 0) AS toastpages,
                         greatest(coalesce(toast.reltuples, 0), 0) AS toasttuples,
                         coalesce(substring(array_to_string(tbl.reloptions, ' ') FROM 'fillfactor=([0-9]+)')::smallint, 100)
                             AS fillfactor,
                         current_setting('block_size')::numeric AS bs,
                         CASE WHEN version() ~ 'mingw32|64-bit|x86_64|ppc64|ia64|amd64' THEN 8 ELSE 4 END AS ma,
                         24 AS page_hdr,
                         23 + CASE WHEN max(coalesce(s.null_frac, 0)) > 0 THEN (7 + count(s.attname)) / 8 ELSE 0 END
                             AS tpl_hdr_size,
                         sum((1 - coalesce(s.null_frac, 0)) * coalesce(s.avg_width, 0)) AS tpl_data_size,
                         bool_or(att.atttypid = 'pg_catalog.name'::regtype)
                             OR sum(CASE WHEN att.attnum > 0 THEN 1 ELSE 0 END) <> count(s.attname) AS is_na
                  FROM pg_attribute att
                  JOIN pg_class tbl ON att.attrelid = tbl.oid
                  JOIN pg_namespace ns ON ns.oid = tbl.relnamespace
                  LEFT JOIN pg_stats s ON s.schemaname = ns.nspname AND s.tablename = tbl.relname
                                      AND NOT s.inherited AND s.attname = att.attname
                  LEFT JOIN pg_class toast ON tbl.reltoastrelid = toast.oid
                  WHERE NOT att.attisdropped AND att.attnum > 0 AND tbl.relkind IN ('r', 'm')
                    AND ns.nspname NOT IN ('pg_catalog', 'information_schema') AND ns.nspname NOT LIKE 'pg_toast%'
                  GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
                ) s
              ) s2
            ) s3
            ORDER BY bloat_bytes DESC, schemaname, tblname""";

    private final Database db;
    private final Health.NodeConnections node;

    HealthReport(Database db, Health.NodeConnections node) {
        this.db = db;
        this.node = node;
    }

    Health report(int longTransactionSeconds) {
        return db.withHandle(h -> Reads.readOnly(h, tx -> {
            Object[] head = tx.createQuery("SELECT current_database(), stats_reset FROM pg_stat_database "
                            + "WHERE datname = current_database()")
                    .map((rs, ctx) -> new Object[] {rs.getString(1), instant(rs, "stats_reset")}).one();
            List<String> notes = List.of(
                    "bloat is an estimate from pg_stats (ioguix's table estimate; indexes not estimated): "
                            + "pgstattuple would measure it, at the cost of reading every page",
                    "unused indexes count scans on this server only: a replica's reads are not in them, "
                            + "and a recent stats reset makes every index look unused",
                    "vacuumDue/analyzeDue use the server-wide autovacuum thresholds, not per-table overrides");
            return new Health((String) head[0], (Instant) head[1], tables(tx), bloat(tx), unused(tx), duplicates(tx),
                    cache(tx), connections(tx), longTransactions(tx, longTransactionSeconds), replication(tx), notes);
        }));
    }

    private static List<Health.Table> tables(Handle h) {
        return h.createQuery("""
                        SELECT s.schemaname, s.relname, s.n_live_tup, s.n_dead_tup, s.n_mod_since_analyze,
                               s.n_ins_since_vacuum, s.last_vacuum, s.last_autovacuum, s.last_analyze, s.last_autoanalyze,
                               extract(epoch FROM now() - greatest(s.last_vacuum, s.last_autovacuum))::float8 AS since_vacuum,
                               extract(epoch FROM now() - greatest(s.last_analyze, s.last_autoanalyze))::float8 AS since_analyze,
                               s.n_dead_tup > current_setting('autovacuum_vacuum_threshold')::float8
                                   + current_setting('autovacuum_vacuum_scale_factor')::float8 * greatest(c.reltuples, 0)
                                   AS vacuum_due,
                               s.n_mod_since_analyze > current_setting('autovacuum_analyze_threshold')::float8
                                   + current_setting('autovacuum_analyze_scale_factor')::float8 * greatest(c.reltuples, 0)
                                   AS analyze_due,
                               age(c.relfrozenxid) AS xid_age, pg_total_relation_size(c.oid) AS total_bytes
                        FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
                        ORDER BY s.schemaname, s.relname""")
                .map((rs, ctx) -> new Health.Table(rs.getString("schemaname"), rs.getString("relname"),
                        rs.getLong("n_live_tup"), rs.getLong("n_dead_tup"), rs.getLong("n_mod_since_analyze"),
                        rs.getLong("n_ins_since_vacuum"), instant(rs, "last_vacuum"), instant(rs, "last_autovacuum"),
                        instant(rs, "last_analyze"), instant(rs, "last_autoanalyze"), decimal(rs, "since_vacuum"),
                        decimal(rs, "since_analyze"), rs.getBoolean("vacuum_due"), rs.getBoolean("analyze_due"),
                        rs.getLong("xid_age"), rs.getLong("total_bytes")))
                .list();
    }

    private static List<Health.Bloat> bloat(Handle h) {
        return h.createQuery(BLOAT)
                .map((rs, ctx) -> new Health.Bloat(rs.getString("schemaname"), rs.getString("tblname"),
                        rs.getLong("bytes"), rs.getLong("bloat_bytes"),
                        Math.round(rs.getDouble("bloat_ratio") * 1000) / 1000.0, rs.getBoolean("estimated")))
                .list();
    }

    private static List<Health.Index> unused(Handle h) {
        return h.createQuery("""
                        SELECT s.schemaname, s.relname, s.indexrelname, pg_relation_size(s.indexrelid) AS bytes,
                               pg_get_indexdef(s.indexrelid) AS definition
                        FROM pg_stat_user_indexes s JOIN pg_index i ON i.indexrelid = s.indexrelid
                        WHERE s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary
                          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = s.indexrelid)
                        ORDER BY bytes DESC, s.schemaname, s.relname, s.indexrelname""")
                .map((rs, ctx) -> new Health.Index(rs.getString("schemaname"), rs.getString("relname"),
                        rs.getString("indexrelname"), rs.getLong("bytes"), false, false, rs.getString("definition")))
                .list();
    }

    /** Same table, access method, columns, operator classes, collations, orderings, expressions, predicate. */
    private static List<Health.DuplicateIndexes> duplicates(Handle h) {
        return h.createQuery("""
                        SELECT n.nspname, t.relname,
                               json_agg(json_build_object('schema', n.nspname, 'table', t.relname, 'index', ic.relname,
                                        'bytes', pg_relation_size(i.indexrelid), 'unique', i.indisunique,
                                        'primary', i.indisprimary, 'definition', pg_get_indexdef(i.indexrelid))
                                        ORDER BY i.indisprimary DESC, i.indisunique DESC,
                                                 EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) DESC,
                                                 ic.relname)::text AS indexes
                        FROM pg_index i
                        JOIN pg_class ic ON ic.oid = i.indexrelid
                        JOIN pg_class t ON t.oid = i.indrelid
                        JOIN pg_namespace n ON n.oid = t.relnamespace
                        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
                        GROUP BY n.nspname, t.relname, t.oid, ic.relam, i.indkey::text, i.indclass::text,
                                 i.indcollation::text, i.indoption::text,
                                 coalesce(pg_get_expr(i.indexprs, i.indrelid), ''),
                                 coalesce(pg_get_expr(i.indpred, i.indrelid), '')
                        HAVING count(*) > 1
                        ORDER BY n.nspname, t.relname""")
                .map((rs, ctx) -> {
                    List<Health.Index> indexes = parse(rs.getString("indexes"));
                    List<String> names = indexes.stream().map(Health.Index::index).toList();
                    return new Health.DuplicateIndexes(rs.getString("nspname"), rs.getString("relname"), names.getFirst(),
                            names.subList(1, names.size()), indexes);
                })
                .list();
    }

    private static Health.CacheHitRatio cache(Handle h) {
        return h.createQuery("""
                        SELECT coalesce(sum(t.heap_blks_hit), 0) AS heap_hit, coalesce(sum(t.heap_blks_read), 0) AS heap_read,
                               coalesce(sum(t.idx_blks_hit), 0) AS idx_hit, coalesce(sum(t.idx_blks_read), 0) AS idx_read,
                               (SELECT blks_hit FROM pg_stat_database WHERE datname = current_database()) AS db_hit,
                               (SELECT blks_read FROM pg_stat_database WHERE datname = current_database()) AS db_read
                        FROM pg_statio_user_tables t""")
                .map((rs, ctx) -> {
                    long heapHit = rs.getLong("heap_hit");
                    long heapRead = rs.getLong("heap_read");
                    long idxHit = rs.getLong("idx_hit");
                    long idxRead = rs.getLong("idx_read");
                    return new Health.CacheHitRatio(ratio(heapHit, heapRead), ratio(idxHit, idxRead),
                            ratio(rs.getLong("db_hit"), rs.getLong("db_read")), heapHit, heapRead, idxHit, idxRead);
                })
                .one();
    }

    private Health.Connections connections(Handle h) {
        record State(String state, int all, int here) {}
        List<State> states = h.createQuery("""
                        SELECT coalesce(state, 'unknown') AS state, count(*) AS n,
                               count(*) FILTER (WHERE datname = current_database()) AS here
                        FROM pg_stat_activity WHERE backend_type = 'client backend'
                        GROUP BY 1 ORDER BY 1""")
                .map((rs, ctx) -> new State(rs.getString("state"), rs.getInt("n"), rs.getInt("here")))
                .list();
        Map<String, Integer> byState = new LinkedHashMap<>();
        states.forEach(s -> byState.put(s.state(), s.all()));
        int total = states.stream().mapToInt(State::all).sum();
        int here = states.stream().mapToInt(State::here).sum();
        int[] limits = h.createQuery("SELECT current_setting('max_connections')::int, "
                        + "current_setting('superuser_reserved_connections')::int")
                .map((rs, ctx) -> new int[] {rs.getInt(1), rs.getInt(2)}).one();
        int free = limits[0] - limits[1] - total;
        return new Health.Connections(limits[0], limits[1], total, here, byState, node,
                Math.max(0, free) / node.total());
    }

    private static List<Health.LongTransaction> longTransactions(Handle h, int seconds) {
        return h.createQuery("""
                        SELECT pid, usename, datname, application_name, state,
                               extract(epoch FROM clock_timestamp() - xact_start)::float8 AS seconds,
                               wait_event_type, wait_event, left(query, 300) AS query
                        FROM pg_stat_activity
                        WHERE xact_start < clock_timestamp() - make_interval(secs => :seconds)
                          AND pid <> pg_backend_pid()
                        ORDER BY xact_start""")
                .bind("seconds", seconds)
                .map((rs, ctx) -> new Health.LongTransaction(rs.getInt("pid"), rs.getString("usename"),
                        rs.getString("datname"), rs.getString("application_name"), rs.getString("state"),
                        Math.round(rs.getDouble("seconds") * 10) / 10.0, rs.getString("wait_event_type"),
                        rs.getString("wait_event"), rs.getString("query")))
                .list();
    }

    private static Health.Replication replication(Handle h) {
        List<Health.Replica> replicas = h.createQuery("""
                        SELECT application_name, client_addr::text AS client, state, sync_state,
                               (extract(epoch FROM write_lag) * 1000)::float8 AS write_ms,
                               (extract(epoch FROM flush_lag) * 1000)::float8 AS flush_ms,
                               (extract(epoch FROM replay_lag) * 1000)::float8 AS replay_ms,
                               CASE WHEN pg_is_in_recovery() THEN NULL
                                    ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint END AS replay_bytes
                        FROM pg_stat_replication ORDER BY application_name, client_addr::text""")
                .map((rs, ctx) -> new Health.Replica(rs.getString("application_name"), rs.getString("client"),
                        rs.getString("state"), rs.getString("sync_state"), decimal(rs, "write_ms"),
                        decimal(rs, "flush_ms"), decimal(rs, "replay_ms"), (Long) rs.getObject("replay_bytes")))
                .list();
        return h.createQuery("""
                        SELECT pg_is_in_recovery() AS standby,
                               CASE WHEN pg_is_in_recovery()
                                    THEN extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END AS delay""")
                .map((rs, ctx) -> new Health.Replication(rs.getBoolean("standby"), decimal(rs, "delay"), replicas))
                .one();
    }

    private static List<Health.Index> parse(String json) {
        try {
            return Json.MAPPER.readValue(json, INDEXES);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Instant instant(ResultSet rs, String column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }

    /** A nullable float8 column, to three decimals. */
    private static Double decimal(ResultSet rs, String column) throws SQLException {
        double v = rs.getDouble(column);
        return rs.wasNull() ? null : Math.round(v * 1000) / 1000.0;
    }

    private static Double ratio(long hits, long reads) {
        return hits + reads == 0 ? null : Math.round(hits * 10000.0 / (hits + reads)) / 10000.0;
    }
}
