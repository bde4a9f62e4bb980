package ai.arches.db;

import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.logging.Level;
import java.util.logging.Logger;

import ai.arches.common.ServiceUnavailableException;
import ai.arches.config.ArchesConfig;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.jdbi.v3.core.HandleCallback;

/**
 * Reads that may be slightly stale, sent to streaming replicas; everything else stays on the primary.
 *
 * <p>Every {@link #POLL} a monitor reads the primary's WAL position and each replica's replayed
 * position. A replica's lag is how long ago the primary stood where the replica stands now (the
 * age of the oldest primary sample it has not replayed; 0 when it has replayed the newest), so
 * it needs no clock shared between hosts and reads 0 for an idle, caught-up replica. A replica
 * that fails, stops being a standby or lags more than {@code database.replica_max_lag} is left
 * out until the monitor sees it healthy again; a read that fails on a replica for a lost
 * connection or a recovery conflict runs again on the primary, so a dying replica fails no read.
 *
 * <p>A caller who wrote is served by a replica only once it has replayed the caller's last write
 * ({@link ReadYourWrites}); a replica that is close waits up to {@code database.replica_wait},
 * then the read goes to the primary.
 */
public final class Replicas implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Replicas.class.getName());
    /** Two trivial statements per replica and one on the primary, ten times a second per node. */
    static final Duration POLL = Duration.ofMillis(100);
    private static final long WAIT_STEP_NANOS = 2_000_000;

    private final Database primary;
    private final List<Replica> replicas = new ArrayList<>();
    private final ReadYourWrites writes;
    private final long maxLagNanos;
    private final long waitNanos;
    private final AtomicInteger next = new AtomicInteger();
    private final ArrayDeque<long[]> samples = new ArrayDeque<>(); // {nanoTime, primary position}, monitor thread only
    private final Counter toReplica;
    private final Counter toPrimary;
    private final Thread monitor;
    private volatile boolean closed;

    /** One replica's pool and what the monitor last saw of it. */
    static final class Replica {
        final String name;
        final Database db;
        volatile boolean healthy;
        volatile long replayed = -1;
        volatile double lagSeconds = Double.NaN;
        volatile String problem = "not checked yet";

        Replica(String name, Database db) {
            this.name = name;
            this.db = db;
        }
    }

    public Replicas(Database primary, ArchesConfig.Database cfg, ReadYourWrites writes, MeterRegistry registry) {
        this.primary = primary;
        this.writes = writes;
        this.maxLagNanos = cfg.replicaMaxLag().toNanos();
        this.waitNanos = cfg.replicaWait().toNanos();
        // A replica that stops answering costs a read at most half a second before it goes to the primary.
        var p = cfg.pool();
        var pool = new ArchesConfig.Pool(p.maxConnections(), 0, p.maxLifetime(), p.idleTimeout(),
                Duration.ofMillis(Math.min(500, p.connectionTimeout().toMillis())));
        int i = 0;
        for (String url : cfg.replicas()) {
            String name = "replica-" + i++;
            Replica r = new Replica(name, Database.connectLazily(cfg.derived(url, pool), "arches-" + name, registry));
            replicas.add(r);
            Gauge.builder("db.replica.up", r, x -> x.healthy ? 1 : 0).tag("replica", name)
                    .description("1 while the replica takes reads, 0 while it is left out").register(registry);
            Gauge.builder("db.replica.lag", r, x -> x.lagSeconds).tag("replica", name).baseUnit("seconds")
                    .description("How long ago the primary stood where the replica has replayed to").register(registry);
        }
        toReplica = Counter.builder("db.replica.reads").tag("target", "replica")
                .description("Reads that could go to a replica, by where they went").register(registry);
        toPrimary = Counter.builder("db.replica.reads").tag("target", "primary")
                .description("Reads that could go to a replica, by where they went").register(registry);
        // Reads go to the primary until the monitor's first look at the replicas.
        monitor = Thread.ofVirtual().name("replica-monitor").start(this::watch);
    }

    /** True while every replica takes reads. */
    public boolean allHealthy() {
        return replicas.stream().allMatch(r -> r.healthy);
    }

    /** Runs a read on a replica that may serve the caller, else on the primary. */
    <R> R read(HandleCallback<R, RuntimeException> callback) {
        Replica r = choose(writes.required());
        if (r != null) {
            try {
                R out = r.db.withHandle(callback);
                toReplica.increment();
                return out;
            } catch (ServiceUnavailableException busy) {
                // Its pool is busy, not broken: this read goes to the primary, the replica stays in.
            } catch (RuntimeException e) {
                if (!replicaTrouble(e)) {
                    throw e;
                }
                leaveOut(r, e);
            }
        }
        toPrimary.increment();
        return primary.withHandle(callback);
    }

    private Replica choose(long required) {
        if (required == ReadYourWrites.PRIMARY) {
            return null;
        }
        int n = replicas.size();
        int start = Math.floorMod(next.getAndIncrement(), n);
        Replica close = null;
        for (int k = 0; k < n; k++) {
            Replica r = replicas.get((start + k) % n);
            if (!r.healthy) {
                continue;
            }
            if (r.replayed >= required) {
                return r;
            }
            close = close == null ? r : close;
        }
        return close == null || waitNanos == 0 ? null : waitFor(close, required);
    }

    /** The replica once it has replayed {@code required}, asked directly; null after the wait. */
    private Replica waitFor(Replica r, long required) {
        long deadline = System.nanoTime() + waitNanos;
        while (true) {
            try {
                long replayed = r.db.withHandle(h -> h.createQuery("SELECT pg_last_wal_replay_lsn() - '0/0'")
                        .define(Database.QUERY_TYPE, "replica.replayed").mapTo(Long.class).one());
                if (replayed >= required) {
                    return r;
                }
            } catch (RuntimeException e) {
                return null;
            }
            if (System.nanoTime() + WAIT_STEP_NANOS > deadline) {
                return null;
            }
            LockSupport.parkNanos(WAIT_STEP_NANOS);
        }
    }

    private void watch() {
        while (!closed) {
            check();
            LockSupport.parkNanos(POLL.toNanos());
        }
    }

    private void check() {
        long now = System.nanoTime();
        try {
            long position = primary.withHandle(h -> h.createQuery("SELECT pg_current_wal_lsn() - '0/0'")
                    .define(Database.QUERY_TYPE, "replica.primary_position").mapTo(Long.class).one());
            synchronized (samples) {
                samples.addLast(new long[] {now, position});
                // Kept long enough to tell a lag just past the bound; at least the newest stays.
                while (samples.size() > 1 && now - samples.peekFirst()[0] > maxLagNanos + POLL.toNanos() * 10) {
                    samples.removeFirst();
                }
            }
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "reading the primary's WAL position failed", e);
        }
        for (Replica r : replicas) {
            observe(r, now);
        }
    }

    private void observe(Replica r, long now) {
        boolean wasHealthy = r.healthy;
        String problem;
        try {
            Object[] seen = r.db.withHandle(h -> h.createQuery(
                            "SELECT pg_is_in_recovery(), coalesce(pg_last_wal_replay_lsn() - '0/0', -1)::bigint")
                    .define(Database.QUERY_TYPE, "replica.state")
                    .map((rs, ctx) -> new Object[] {rs.getBoolean(1), rs.getLong(2)}).one());
            boolean standby = (Boolean) seen[0];
            r.replayed = (Long) seen[1];
            r.lagSeconds = lagNanos(r.replayed, now) / 1e9;
            problem = !standby ? "not a standby (promoted?)"
                    : r.lagSeconds * 1e9 > maxLagNanos ? String.format("lags %.1f s behind the primary", r.lagSeconds)
                    : null;
        } catch (RuntimeException e) {
            problem = "unreachable: " + rootMessage(e);
        }
        r.problem = problem;
        r.healthy = problem == null;
        if (wasHealthy && !r.healthy) {
            LOG.warning(r.name + " left out of reads: " + problem);
        } else if (!wasHealthy && r.healthy) {
            LOG.info(r.name + " takes reads again");
        }
    }

    /** How long ago the primary's position first exceeded {@code replayed} (0 when it never did). */
    private long lagNanos(long replayed, long now) {
        synchronized (samples) {
            for (long[] s : samples) {
                if (s[1] > replayed) {
                    return now - s[0];
                }
            }
        }
        return 0;
    }

    private void leaveOut(Replica r, RuntimeException e) {
        if (r.healthy) {
            r.healthy = false;
            r.problem = "failed a read: " + rootMessage(e);
            LOG.warning(r.name + " left out of reads: " + r.problem);
        }
    }

    /** A lost connection, a server going away or a recovery conflict: the primary can answer instead. */
    static boolean replicaTrouble(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && sql.getSQLState() != null) {
                String s = sql.getSQLState();
                if (s.startsWith("08") || s.startsWith("57P") || s.equals("40001") || s.equals("53300")) {
                    return true;
                }
            }
        }
        return false;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }

    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(monitor);
        try {
            monitor.join(TimeUnit.SECONDS.toMillis(2));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        replicas.forEach(r -> r.db.close());
    }
}
