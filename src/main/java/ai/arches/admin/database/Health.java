package ai.arches.admin.database;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * GET /debug/database/health. Counters ({@code idx_scan}, cache hits) run since {@code statsSince}
 * (null: since the database was created); sizes in bytes, ages in seconds.
 */
record Health(String database, Instant statsSince, List<Table> tables, List<Bloat> bloat,
              List<Index> unusedIndexes, List<DuplicateIndexes> duplicateIndexes, CacheHitRatio cacheHitRatio,
              Connections connections, List<LongTransaction> longTransactions, Replication replication,
              List<String> notes) {

    /**
     * Vacuum and analyze state of one table. {@code vacuumDue}/{@code analyzeDue}: past the
     * autovacuum thresholds (the server-wide ones; per-table overrides are not read), so autovacuum
     * should be on it; true for long means it cannot keep up or is blocked. {@code xidAge}: the
     * age of its oldest unfrozen transaction id (wraparound protection forces a vacuum at 200M).
     */
    record Table(String schema, String table, long liveTuples, long deadTuples, long modifiedSinceAnalyze,
                 long insertedSinceVacuum, Instant lastVacuum, Instant lastAutovacuum, Instant lastAnalyze,
                 Instant lastAutoanalyze, Double secondsSinceVacuum, Double secondsSinceAnalyze,
                 boolean vacuumDue, boolean analyzeDue, long xidAge, long totalBytes) {}

    /**
     * Estimated table bloat: the pages the table has beyond what its live rows need at its fill
     * factor, from row counts and pg_stats' column widths. {@code estimated} false: some column
     * has no statistics yet (never analyzed), so the figures mean nothing.
     */
    record Bloat(String schema, String table, long bytes, long bloatBytes, double bloatRatio, boolean estimated) {}

    record Index(String schema, String table, String index, long bytes, boolean unique, boolean primary,
                 String definition) {}

    /**
     * Indexes of one table on the same columns, expressions, predicate, operator classes and
     * access method: all but {@code keep} (a primary or unique one first) only cost writes.
     */
    record DuplicateIndexes(String schema, String table, String keep, List<String> redundant, List<Index> indexes) {}

    /** Shares of block reads served from shared buffers; null before any block was read. */
    record CacheHitRatio(Double heap, Double index, Double database, long heapHits, long heapReads, long indexHits,
                         long indexReads) {}

    /**
     * Client connections of the whole server by state (unknown: another role's session, which
     * this role may not see). {@code node}: what one node of this platform opens at most;
     * {@code moreNodesFit}: how many more such nodes the free connections allow.
     */
    record Connections(int maxConnections, int superuserReserved, int total, int thisDatabase,
                       Map<String, Integer> byState, NodeConnections node, int moreNodesFit) {}

    record NodeConnections(int requestsPool, int workflowsPool, int listener, int total) {}

    /** A transaction open longer than the threshold: it holds back vacuum everywhere. */
    record LongTransaction(int pid, String user, String database, String application, String state,
                           double seconds, String waitEventType, String waitEvent, String query) {}

    /** {@code standby}: this server replays another's WAL; then {@code replayDelaySeconds} is its own lag. */
    record Replication(boolean standby, Double replayDelaySeconds, List<Replica> replicas) {}

    record Replica(String application, String client, String state, String syncState, Double writeLagMs,
                   Double flushLagMs, Double replayLagMs, Long replayLagBytes) {}
}
