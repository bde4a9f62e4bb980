package ai.arches.db;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

import ai.arches.config.ArchesConfig;

import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * LISTEN on one channel over a connection of its own (a pooled one would be lost to the pool for
 * good), handing each payload to {@code onPayload} on this listener's thread. A broken connection
 * is reopened with backoff; after every (re)connect {@code onConnected} runs, because whatever
 * was notified while nobody listened is gone and the owner must look for itself.
 */
public final class PgListener implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(PgListener.class.getName());
    private static final int WAIT_MS = 1000;

    private final ArchesConfig.Database cfg;
    private final String channel;
    private final Consumer<String> onPayload;
    private final Runnable onConnected;
    private final Thread thread;
    private volatile boolean stopping;
    private volatile Connection connection;

    public PgListener(ArchesConfig.Database cfg, String channel, Consumer<String> onPayload, Runnable onConnected) {
        if (!channel.matches("[a-z_][a-z0-9_]*")) {
            throw new IllegalArgumentException("channel must be a plain lower-case identifier: " + channel);
        }
        this.cfg = cfg;
        this.channel = channel;
        this.onPayload = onPayload;
        this.onConnected = onConnected;
        this.thread = Thread.ofPlatform().daemon().name("pg-listen-" + channel).start(this::loop);
    }

    private void loop() {
        Duration backoff = Duration.ofMillis(100);
        while (!stopping) {
            try (Connection c = open()) {
                connection = c;
                try (Statement s = c.createStatement()) {
                    s.execute("LISTEN " + channel);
                }
                backoff = Duration.ofMillis(100);
                onConnected.run();
                PGConnection pg = c.unwrap(PGConnection.class);
                while (!stopping) {
                    PGNotification[] got = pg.getNotifications(WAIT_MS);
                    if (got != null) {
                        for (PGNotification n : got) {
                            deliver(n.getParameter());
                        }
                    }
                }
            } catch (SQLException | RuntimeException e) {
                if (stopping) {
                    return;
                }
                LOG.log(Level.WARNING, "LISTEN " + channel + " lost its connection; reconnecting in " + backoff.toMillis()
                        + " ms: " + e.getMessage());
                try {
                    Thread.sleep(backoff);
                } catch (InterruptedException ie) {
                    return;
                }
                backoff = backoff.multipliedBy(2).compareTo(Duration.ofSeconds(5)) > 0 ? Duration.ofSeconds(5)
                        : backoff.multipliedBy(2);
            }
        }
    }

    private void deliver(String payload) {
        try {
            onPayload.accept(payload);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "a " + channel + " notification's handler failed", e);
        }
    }

    private Connection open() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", cfg.user());
        if (!cfg.password().isEmpty()) {
            p.setProperty("password", cfg.password());
        }
        p.setProperty("ApplicationName", "arches-listen");
        p.setProperty("tcpKeepAlive", "true");
        return DriverManager.getConnection(cfg.url(), p);
    }

    @Override
    public void close() {
        stopping = true;
        Connection c = connection;
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // closing to stop the listener; nothing left to do
            }
        }
        try {
            thread.join(WAIT_MS * 3L);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
