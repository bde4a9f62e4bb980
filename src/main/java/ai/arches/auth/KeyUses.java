package ai.arches.auth;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.logging.Level;
import java.util.logging.Logger;

import ai.arches.db.Database;

/**
 * API keys' last use, recorded in memory on each request and written every {@code interval} in
 * one statement, so authenticating with a key never writes to the database on the request path.
 *
 * <p>Concurrency: {@link #record} is a map put (the latest use per key wins). A flush takes each
 * entry out with {@code remove(key, value)}, so a use recorded meanwhile stays for the next flush;
 * if the write fails the taken entries go back (keeping the later instant). The statement never
 * moves {@code last_used_at} backwards, so nodes flushing in any order agree. The map holds one
 * entry per key used since the last flush: bounded by the keys that exist, since only a key that
 * authenticated is recorded. Flushes run on one virtual thread and at {@link #close}; a lock keeps
 * them one at a time. What a node recorded but had not flushed when it died is lost: at most one
 * interval of last-use precision, never a key's validity.
 */
final class KeyUses implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(KeyUses.class.getName());

    private final Database db;
    private final Duration interval;
    private final Map<UUID, Instant> pending = new ConcurrentHashMap<>();
    private final ReentrantLock flushing = new ReentrantLock();
    private final Thread flusher;
    private volatile boolean stopping;

    KeyUses(Database db, Duration interval) {
        this.db = db;
        this.interval = interval;
        this.flusher = Thread.ofVirtual().name("api-key-last-used").start(this::run);
    }

    void record(UUID keyId, Instant at) {
        pending.merge(keyId, at, (a, b) -> a.isAfter(b) ? a : b);
    }

    /** Writes what was recorded; answers how many keys were written (0: no statement ran). */
    int flush() {
        flushing.lock();
        try {
            List<UUID> ids = new ArrayList<>();
            List<Instant> ats = new ArrayList<>();
            for (var e : pending.entrySet()) {
                if (pending.remove(e.getKey(), e.getValue())) {
                    ids.add(e.getKey());
                    ats.add(e.getValue());
                }
            }
            if (ids.isEmpty()) {
                return 0;
            }
            try {
                return write(ids, ats);
            } catch (RuntimeException e) {
                for (int i = 0; i < ids.size(); i++) {
                    record(ids.get(i), ats.get(i));
                }
                throw e;
            }
        } finally {
            flushing.unlock();
        }
    }

    private int write(List<UUID> ids, List<Instant> ats) {
        // Instants travel as ISO-8601 text: Jdbi has no array type for Instant.
        String[] at = ats.stream().map(Instant::toString).toArray(String[]::new);
        db.withHandle(h -> h.createUpdate("""
                        UPDATE api_keys k SET last_used_at = u.at
                        FROM unnest(CAST(:ids AS uuid[]), CAST(:ats AS timestamptz[])) AS u(id, at)
                        WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.at)""")
                .define(Database.QUERY_TYPE, "api_keys.last_used")
                .bindArray("ids", UUID.class, ids).bindArray("ats", String.class, (Object[]) at)
                .execute());
        return ids.size();
    }

    private void run() {
        while (!stopping) {
            LockSupport.parkNanos(interval.toNanos());
            if (Thread.interrupted() || stopping) {
                return;
            }
            try {
                flush();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "api keys: writing last use failed; retrying next interval", e);
            }
        }
    }

    /** Stops the flusher and writes what is left (the database must still be open). */
    @Override
    public void close() {
        stopping = true;
        flusher.interrupt();
        try {
            flusher.join(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            flush();
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "api keys: writing last use at shutdown failed", e);
        }
    }
}
