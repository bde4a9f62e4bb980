package ai.arches.admin.database;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * PostgreSQL settings for a host and a deployment, computed the way PGTune (le0pard/pgtune) does
 * for a web application on a host PostgreSQL has to itself, each with the reason for its value.
 * Pure arithmetic: {@link SettingsAdvice} compares the result with the live settings.
 */
final class Tuning {
    static final long KB = 1024;
    static final long MB = 1024 * KB;
    static final long GB = 1024 * MB;

    enum Kind { BYTES, INTEGER, REAL, TEXT }

    /** {@code value}: bytes (BYTES), Long (INTEGER), Double (REAL) or String (TEXT). */
    record Advised(String name, Kind kind, Object value, String reason) {}

    /**
     * The connections the deployment needs: per node the requests' pool, the workflow executor's
     * pool and one LISTEN connection; {@code headroom} on top of all nodes.
     */
    record Deployment(int nodes, int requestsPool, int workflowsPool, int listener, int perNode,
                      int superuserReserved, int operators, int headroom, int connections) {

        /** Operators' sessions: psql, backups, monitoring, migrations. */
        static final int OPERATORS = 10;

        static Deployment of(int nodes, int requestsPool, int workflowsPool, int superuserReserved) {
            int perNode = requestsPool + workflowsPool + 1;
            // One more node's worth: a rolling deploy starts a new node before it stops an old one.
            int headroom = perNode + superuserReserved + OPERATORS;
            return new Deployment(nodes, requestsPool, workflowsPool, 1, perNode, superuserReserved, OPERATORS,
                    headroom, nodes * perNode + headroom);
        }
    }

    private Tuning() {}

    static List<Advised> advise(HostFacts host, Deployment d) {
        long ram = host.memoryBytes();
        int cores = host.cores();
        String ramText = human(ram) + " of RAM";
        List<Advised> out = new ArrayList<>();

        out.add(new Advised("max_connections", Kind.INTEGER, (long) d.connections(), d.nodes() + " node(s) × ("
                + d.requestsPool() + " requests' pool + " + d.workflowsPool() + " workflow executor's pool + 1 LISTEN) = "
                + d.nodes() * d.perNode() + ", plus " + d.headroom() + " headroom: one more node's worth for a rolling "
                + "deploy (the new node starts before the old one stops), " + d.superuserReserved()
                + " superuser-reserved and " + d.operators() + " for operators (psql, backups, monitoring, migrations)"));

        long sharedBuffers = mb(ram / 4);
        out.add(new Advised("shared_buffers", Kind.BYTES, sharedBuffers, "a quarter of " + ramText + ": PostgreSQL's "
                + "own cache; it also reads through the OS page cache, which the rest of memory serves as, so beyond "
                + "about 40% it mostly duplicates that cache and starves work_mem"));

        out.add(new Advised("effective_cache_size", Kind.BYTES, mb(ram * 3 / 4), "three quarters of " + ramText
                + ": what the planner may assume shared_buffers and the OS page cache hold together, which makes "
                + "index scans look as cheap as they are; an estimate only, nothing is allocated"));

        long maintenance = Math.min(mb(ram / 16), 2 * GB);
        out.add(new Advised("maintenance_work_mem", Kind.BYTES, maintenance, "RAM/16, at most 2 GB: the memory of "
                + "VACUUM and CREATE INDEX, and of pgvector's HNSW and IVFFlat builds, which are much faster while the "
                + "index fits in it; each autovacuum worker may take as much"));

        int perGather = cores >= 2 ? Math.min((cores + 1) / 2, 4) : 0;
        long workMem = Math.max(64 * KB,
                (ram - sharedBuffers) / ((long) d.connections() * 3) / Math.max(1, perGather) / KB * KB);
        out.add(new Advised("work_mem", Kind.BYTES, workMem, "per sort or hash step, and a query may run several, "
                + "in each parallel worker: (RAM − shared_buffers) / (max_connections " + d.connections() + " × 3) / "
                + Math.max(1, perGather) + " worker(s) per gather, PGTune's division, so a busy server stays clear of "
                + "the OOM killer"));

        out.add(new Advised("huge_pages", Kind.TEXT, ram >= 32 * GB ? "try" : "off", ram >= 32 * GB
                ? "try with " + ramText + ": 4 kB pages for a large shared_buffers cost every backend big page "
                + "tables; takes effect once the OS reserves huge pages (vm.nr_hugepages)"
                : "off below 32 GB of RAM (PGTune's line): the page tables a small shared_buffers costs are small, "
                + "and huge pages need the OS to reserve them (vm.nr_hugepages) first"));

        long walBuffers = sharedBuffers * 3 / 100;
        if (walBuffers > 14 * MB) {
            walBuffers = 16 * MB;
        }
        walBuffers = Math.max(32 * KB, walBuffers / KB * KB);
        out.add(new Advised("wal_buffers", Kind.BYTES, walBuffers, "3% of shared_buffers, at most 16 MB (one WAL "
                + "segment): WAL held in memory until written; more does not help"));

        out.add(new Advised("min_wal_size", Kind.BYTES, GB, "WAL segments kept for reuse rather than removed "
                + "and re-created after a checkpoint (PGTune's web value)"));
        out.add(new Advised("max_wal_size", Kind.BYTES, 4 * GB, "WAL between checkpoints: 4 GB lets write bursts "
                + "(workflow runs, embeddings) ride until checkpoint_timeout instead of forcing checkpoints, and "
                + "each checkpoint's full-page writes come less often (PGTune's web value)"));
        out.add(new Advised("checkpoint_completion_target", Kind.REAL, 0.9, "spreads a checkpoint's writes over 90% "
                + "of the interval instead of a burst at its start (PostgreSQL's default since 14)"));

        out.add(new Advised("random_page_cost", Kind.REAL, host.ssd() ? 1.1 : 4.0, host.ssd()
                ? "SSD: a random read costs about what a sequential one does; 1.1 lets the planner pick index scans "
                + "(the default 4 prices a spinning disk's seek)"
                : "spinning disk: a random read costs about four sequential ones (the default)"));
        out.add(new Advised("effective_io_concurrency", Kind.INTEGER, host.ssd() ? 200L : 2L, host.ssd()
                ? "SSD: reads a bitmap heap scan may have in flight; flash serves many at once"
                : "spinning disk: one head serves few reads at once"));
        out.add(new Advised("default_statistics_target", Kind.INTEGER, 100L, "PGTune's web value (the default): "
                + "this workload's short, selective statements plan well on it; more costs ANALYZE time"));
        out.add(new Advised("autovacuum", Kind.TEXT, "on", "the platform's tables churn: workflow_steps and "
                + "workflow_runs are a queue (each step claimed, its lease renewed and finished by UPDATEs), embedding "
                + "workers update every document they finish, expired idempotency keys are deleted, and each leaves a "
                + "dead row version; autovacuum reclaims them and ANALYZEs the tables as they change. Off, only "
                + "wraparound vacuums run: the queue tables and their indexes bloat and plans are made on stale "
                + "statistics"));
        out.add(new Advised("track_counts", Kind.TEXT, "on", "the per-table counts of changed and dead rows that "
                + "autovacuum decides from and /debug/database/health reports; off, autovacuum has nothing to go on"));

        if (cores >= 2) {
            out.add(new Advised("max_worker_processes", Kind.INTEGER, (long) cores, "one background worker per "
                    + "core (" + cores + "); parallel workers come out of these"));
            out.add(new Advised("max_parallel_workers", Kind.INTEGER, (long) cores, "parallel workers at once, "
                    + "server-wide: one per core (" + cores + ")"));
            out.add(new Advised("max_parallel_workers_per_gather", Kind.INTEGER, (long) perGather, "half the cores, "
                    + "at most 4: a web workload's statements are short, so a query takes no more than half the machine"));
            out.add(new Advised("max_parallel_maintenance_workers", Kind.INTEGER, (long) perGather, "half the cores, "
                    + "at most 4, for CREATE INDEX (pgvector's HNSW builds included) and VACUUM"));
        } else {
            out.add(new Advised("max_parallel_workers_per_gather", Kind.INTEGER, 0L, "one core: a parallel worker "
                    + "would only compete with its leader"));
        }
        return out;
    }

    /** Rounded down to whole megabytes from 64 MB up, to kilobytes below, as postgresql.conf would say it. */
    private static long mb(long bytes) {
        return bytes >= 64 * MB ? bytes / MB * MB : bytes / KB * KB;
    }

    /** Bytes for people: "23.5 GB". */
    static String human(long bytes) {
        if (bytes >= GB) {
            return String.format(Locale.ROOT, "%.1f GB", bytes / (double) GB);
        }
        return String.format(Locale.ROOT, "%.0f MB", bytes / (double) MB);
    }

    /** Bytes as PostgreSQL writes sizes: the largest unit that divides them (B, kB, MB, GB, TB). */
    static String display(long bytes) {
        String[] units = {"TB", "GB", "MB", "kB"};
        long[] sizes = {1024 * GB, GB, MB, KB};
        for (int i = 0; i < units.length; i++) {
            if (bytes != 0 && bytes % sizes[i] == 0) {
                return bytes / sizes[i] + units[i];
            }
        }
        if (bytes >= MB) {
            return String.format(Locale.ROOT, "%.1fMB", bytes / (double) MB);
        }
        return bytes + "B";
    }
}
