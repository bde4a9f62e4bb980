package ai.arches.admin.database;

import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import ai.arches.common.ServiceUnavailableException;
import ai.arches.db.Database;
import ai.arches.db.NamedStatements;

import org.jdbi.v3.core.Handle;

/**
 * GET /debug/queries: pg_stat_statements for this database, the slowest statements by mean and
 * the costliest by total time, with the platform's names put on the ones it recognizes (matched
 * by normalized text, {@link QueryText}) and the plan of named statements ({@link Plans}).
 * Statistics cover every node and whatever else ran in this database; names and plans come from
 * the statements this node ran.
 */
final class StatementReport {
    /** Which named statements get a plan: those in either top list, all of them, or none. */
    enum PlanScope { TOP, ALL, NONE }

    /** One pg_stat_statements entry. Times in milliseconds; {@code hitRatio} null without block access. */
    record Entry(String queryId, String name, long calls, double totalMs, double meanMs, double maxMs, long rows,
                 Double hitRatio, String query) {}

    /**
     * A named statement with its entries' statistics summed ({@code inStatistics} false: none of
     * its entries is in pg_stat_statements, e.g. evicted, or it ran before the last reset).
     */
    record Named(String name, String sql, boolean inStatistics, long calls, double totalMs, double meanMs,
                 double maxMs, long rows, Double hitRatio, List<String> queryIds, Plans.Plan plan) {}

    /** {@code utility}: whether DDL and other utility statements were counted in. */
    record Queries(String database, Instant statsSince, long deallocations, int limit, String plans, boolean utility,
                   List<Entry> slowest, List<Entry> mostTime, List<Named> named) {}

    private record Row(String queryId, String query, long calls, double totalMs, double meanMs, double maxMs,
                       long rows, long hits, long reads) {}

    private static final String HOW_TO_ENABLE = "run `make setup`, which preloads the library "
            + "(shared_preload_libraries, restarting PostgreSQL once) and creates the extension as the superuser; "
            + "elsewhere: add pg_stat_statements to shared_preload_libraries, restart, then "
            + "CREATE EXTENSION pg_stat_statements in this database as a superuser";

    private final Database db;
    private final List<NamedStatements> registries;

    StatementReport(Database db, List<NamedStatements> registries) {
        this.db = db;
        this.registries = List.copyOf(registries);
    }

    /**
     * {@code utility} false leaves out DDL and other utility statements (migrations, CREATE INDEX,
     * VACUUM), which would otherwise top the lists until the statistics are reset.
     */
    Queries report(int limit, PlanScope scope, boolean utility) {
        List<NamedStatements.Sample> samples = registries.stream().flatMap(r -> r.samples().stream()).toList();
        Map<String, String> names = new HashMap<>();
        for (NamedStatements.Sample s : samples) {
            names.putIfAbsent(QueryText.normalize(s.sql()), s.name());
        }
        return db.withHandle(h -> {
            Stats stats = Reads.readOnly(h, tx -> stats(tx, utility));
            List<String> rowNames = stats.rows().stream().map(r -> names.get(QueryText.normalize(r.query()))).toList();
            List<Entry> entries = new ArrayList<>();
            for (int i = 0; i < stats.rows().size(); i++) {
                Row r = stats.rows().get(i);
                entries.add(new Entry(r.queryId(), rowNames.get(i), r.calls(),
                        round(r.totalMs()), round(r.meanMs()), round(r.maxMs()), r.rows(),
                        ratio(r.hits(), r.reads()), r.query()));
            }
            List<Entry> slowest = entries.stream().sorted(Comparator.comparingDouble(Entry::meanMs).reversed())
                    .limit(limit).toList();
            List<Entry> mostTime = entries.stream().sorted(Comparator.comparingDouble(Entry::totalMs).reversed())
                    .limit(limit).toList();
            Set<String> top = new LinkedHashSet<>();
            for (Entry e : slowest) {
                if (e.name() != null) {
                    top.add(e.name());
                }
            }
            for (Entry e : mostTime) {
                if (e.name() != null) {
                    top.add(e.name());
                }
            }
            List<Named> named = named(h, samples, stats.rows(), rowNames, scope, top);
            return new Queries(stats.database(), stats.since(), stats.deallocations(), limit,
                    scope.name().toLowerCase(Locale.ROOT), utility, slowest, mostTime, named);
        });
    }

    private static List<Named> named(Handle h, List<NamedStatements.Sample> samples, List<Row> rows,
                                     List<String> rowNames, PlanScope scope, Set<String> top) {
        Map<String, List<Row>> rowsByName = new LinkedHashMap<>();
        for (int i = 0; i < rows.size(); i++) {
            if (rowNames.get(i) != null) {
                rowsByName.computeIfAbsent(rowNames.get(i), n -> new ArrayList<>()).add(rows.get(i));
            }
        }
        // Per name, the text whose arguments are freshest stands for it.
        Map<String, NamedStatements.Sample> byName = new LinkedHashMap<>();
        for (NamedStatements.Sample s : samples) {
            byName.merge(s.name(), s, (a, b) -> fresher(a, b) ? a : b);
        }
        List<Named> out = new ArrayList<>();
        for (NamedStatements.Sample s : byName.values()) {
            List<Row> mine = rowsByName.getOrDefault(s.name(), List.of());
            long calls = 0;
            long resultRows = 0;
            long hits = 0;
            long reads = 0;
            double total = 0;
            double max = 0;
            List<String> ids = new ArrayList<>();
            for (Row r : mine) {
                calls += r.calls();
                resultRows += r.rows();
                hits += r.hits();
                reads += r.reads();
                total += r.totalMs();
                max = Math.max(max, r.maxMs());
                ids.add(r.queryId());
            }
            boolean plan = scope == PlanScope.ALL || scope == PlanScope.TOP && top.contains(s.name());
            out.add(new Named(s.name(), s.sql(), !mine.isEmpty(), calls, round(total),
                    calls == 0 ? 0 : round(total / calls), round(max), resultRows, ratio(hits, reads), ids,
                    plan ? Plans.explain(h, s) : null));
        }
        out.sort(Comparator.comparingDouble(Named::totalMs).reversed().thenComparing(Named::name));
        return out;
    }

    private static boolean fresher(NamedStatements.Sample a, NamedStatements.Sample b) {
        if (a.arguments().isPresent() != b.arguments().isPresent()) {
            return a.arguments().isPresent();
        }
        return a.argumentsAgeNanos() <= b.argumentsAgeNanos();
    }

    private record Stats(String database, Instant since, long deallocations, List<Row> rows) {}

    private static Stats stats(Handle h, boolean utility) {
        boolean installed = h.createQuery("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements')")
                .mapTo(Boolean.class).one();
        String database = h.createQuery("SELECT current_database()").mapTo(String.class).one();
        if (!installed) {
            throw new ServiceUnavailableException("pg_stat_statements is not installed in database " + database
                    + ": " + HOW_TO_ENABLE);
        }
        try {
            List<Row> rows = h.createQuery("""
                            SELECT queryid::text AS queryid, query, calls, total_exec_time, mean_exec_time,
                                   max_exec_time, rows, shared_blks_hit, shared_blks_read
                            FROM pg_stat_statements
                            WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                              AND toplevel AND query IS NOT NULL
                              AND query NOT LIKE 'EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) %'
                              AND query NOT LIKE 'EXPLAIN (FORMAT JSON) %'
                              AND (:utility OR query ~* '^[\\s(]*(select|insert|update|delete|with|merge|values|table)\\y')
                            ORDER BY total_exec_time DESC
                            LIMIT 5000""")
                    .bind("utility", utility)
                    .map((rs, ctx) -> new Row(rs.getString("queryid"), rs.getString("query"), rs.getLong("calls"),
                            rs.getDouble("total_exec_time"), rs.getDouble("mean_exec_time"),
                            rs.getDouble("max_exec_time"), rs.getLong("rows"), rs.getLong("shared_blks_hit"),
                            rs.getLong("shared_blks_read")))
                    .list();
            return h.createQuery("SELECT dealloc, stats_reset FROM pg_stat_statements_info")
                    .map((rs, ctx) -> {
                        OffsetDateTime reset = rs.getObject("stats_reset", OffsetDateTime.class);
                        return new Stats(database, reset == null ? null : reset.toInstant(), rs.getLong("dealloc"),
                                rows);
                    })
                    .one();
        } catch (RuntimeException e) {
            SQLException sql = Reads.sqlException(e);
            // 55000: installed in this database, but the library was not preloaded at server start.
            if (sql != null && "55000".equals(sql.getSQLState())) {
                throw new ServiceUnavailableException("pg_stat_statements is installed in database " + database
                        + " but not loaded (it must be in shared_preload_libraries when PostgreSQL starts): "
                        + HOW_TO_ENABLE, e);
            }
            throw e;
        }
    }

    private static double round(double ms) {
        return Math.round(ms * 1000) / 1000.0;
    }

    private static Double ratio(long hits, long reads) {
        return hits + reads == 0 ? null : Math.round(hits * 10000.0 / (hits + reads)) / 10000.0;
    }
}
