package ai.arches.db;

import java.time.Duration;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * {@code database_replication_lag_seconds}: the largest replay lag of the primary's streaming
 * replicas ({@code pg_stat_replication.replay_lag}; 0 without replicas), for the replica-lag
 * alert. Read when scraped, at most once per {@link #REFRESH}, so scrapes from several
 * Prometheus servers cost one query; a failed read keeps the last value (the database being
 * down has its own alerts) and is logged once per failure streak.
 */
public final class ReplicationLag {
    private static final Logger LOG = Logger.getLogger(ReplicationLag.class.getName());
    private static final Duration REFRESH = Duration.ofSeconds(5);

    private final Database db;
    private volatile double seconds;
    private volatile long readAt;
    private volatile boolean failing;

    private ReplicationLag(Database db) {
        this.db = db;
    }

    public static void register(Database db, MeterRegistry registry) {
        ReplicationLag lag = new ReplicationLag(db);
        Gauge.builder("database_replication_lag_seconds", lag, ReplicationLag::read)
                .description("Largest replay lag of the primary's streaming replicas (0 without replicas)")
                .baseUnit("seconds").register(registry);
    }

    private synchronized double read() {
        long now = System.nanoTime();
        if (readAt != 0 && now - readAt < REFRESH.toNanos()) {
            return seconds;
        }
        readAt = now;
        try {
            seconds = db.withHandle(h -> h.createQuery(
                            "SELECT coalesce(max(extract(epoch FROM replay_lag)), 0) FROM pg_stat_replication")
                    .define(Database.QUERY_TYPE, "database.replication_lag").mapTo(Double.class).one());
            failing = false;
        } catch (RuntimeException e) {
            if (!failing) {
                LOG.log(Level.WARNING, "reading the replicas' lag failed; keeping the last value", e);
            }
            failing = true;
        }
        return seconds;
    }
}
