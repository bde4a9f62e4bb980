package ai.arches.content;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.sql.DataSource;

import ai.arches.config.ArchesConfig;

/**
 * Builds the passage vector index the configuration asks for (HNSW or IVFFlat, with its
 * parameters in its name) and drops any other one, in the background and concurrently, so a
 * node starts serving at once and writes are never blocked. Semantic search works meanwhile,
 * by exact scans. An advisory lock keeps two starting nodes from building it twice.
 */
public final class VectorIndex {
    private static final Logger LOG = Logger.getLogger(VectorIndex.class.getName());
    private static final String PREFIX = "idx_passages_embedding_";
    private static final long LOCK_KEY = 0x41524348_45534958L; // "ARCHESIX"

    private final DataSource dataSource;
    private final ArchesConfig.Search cfg;
    private final Thread builder;
    private volatile boolean ready;

    private VectorIndex(DataSource dataSource, ArchesConfig.Search cfg) {
        this.dataSource = dataSource;
        this.cfg = cfg;
        this.builder = Thread.ofVirtual().name("vector-index").start(this::ensure);
    }

    public static VectorIndex ensure(DataSource dataSource, ArchesConfig.Search cfg) {
        return new VectorIndex(dataSource, cfg);
    }

    /** The index name for the configured kind and parameters. */
    public static String name(ArchesConfig.Search cfg) {
        return cfg.index().equals("hnsw")
                ? PREFIX + "hnsw_m" + cfg.hnsw().m() + "_efc" + cfg.hnsw().efConstruction()
                : PREFIX + "ivfflat_l" + cfg.ivfflat().lists();
    }

    public boolean ready() {
        return ready;
    }

    /** Waits for the build (tests, benchmarks); true when the index is valid. */
    public boolean await(java.time.Duration timeout) throws InterruptedException {
        builder.join(timeout);
        return ready;
    }

    private void ensure() {
        String name = name(cfg);
        String using = cfg.index().equals("hnsw")
                ? "hnsw (embedding vector_cosine_ops) WITH (m = " + cfg.hnsw().m() + ", ef_construction = "
                        + cfg.hnsw().efConstruction() + ")"
                : "ivfflat (embedding vector_cosine_ops) WITH (lists = " + cfg.ivfflat().lists() + ")";
        try (Connection c = dataSource.getConnection(); Statement st = c.createStatement()) {
            c.setAutoCommit(true);
            st.execute("SET statement_timeout = 0");
            // Session-level: CREATE INDEX CONCURRENTLY cannot run inside a transaction.
            st.execute("SELECT pg_advisory_lock(" + LOCK_KEY + ")");
            try {
                Boolean valid = validity(st, name);
                if (valid == Boolean.FALSE) {
                    st.execute("DROP INDEX CONCURRENTLY IF EXISTS " + name);
                }
                if (valid != Boolean.TRUE) {
                    LOG.info("building vector index " + name + " in the background");
                    long start = System.nanoTime();
                    st.execute("SET maintenance_work_mem = '256MB'");
                    st.execute("CREATE INDEX CONCURRENTLY " + name + " ON content_passages USING " + using);
                    LOG.info("vector index " + name + " built in " + (System.nanoTime() - start) / 1_000_000 + " ms");
                }
                for (String other : others(st, name)) {
                    LOG.info("dropping vector index " + other + " (configuration asks for " + name + ")");
                    st.execute("DROP INDEX CONCURRENTLY IF EXISTS " + other);
                }
                ready = true;
            } finally {
                st.execute("SELECT pg_advisory_unlock(" + LOCK_KEY + ")");
                // Session settings outlive the statement: a pooled connection keeping timeout 0
                // let the next user's queries wait on locks forever.
                st.execute("RESET statement_timeout");
                st.execute("RESET maintenance_work_mem");
            }
        } catch (SQLException e) {
            LOG.log(Level.WARNING, "vector index " + name + " could not be built; semantic search scans exactly", e);
        }
    }

    /** null when absent, else whether it is valid (a failed concurrent build leaves it invalid). */
    private static Boolean validity(Statement st, String name) throws SQLException {
        try (ResultSet rs = st.executeQuery("SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                + "WHERE c.relname = '" + name + "' AND c.relnamespace = current_schema()::regnamespace")) {
            return rs.next() ? rs.getBoolean(1) : null;
        }
    }

    private static List<String> others(Statement st, String name) throws SQLException {
        List<String> out = new ArrayList<>();
        try (ResultSet rs = st.executeQuery("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() "
                + "AND tablename = 'content_passages' AND indexname LIKE '" + PREFIX + "%' AND indexname <> '"
                + name + "'")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}
