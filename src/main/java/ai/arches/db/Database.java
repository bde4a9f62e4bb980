package ai.arches.db;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.sql.DataSource;

import ai.arches.common.ServiceUnavailableException;
import ai.arches.config.ArchesConfig;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.HikariPoolMXBean;
import com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.HandleCallback;
import org.jdbi.v3.core.Jdbi;
import org.jdbi.v3.core.argument.AbstractArgumentFactory;
import org.jdbi.v3.core.argument.Argument;
import org.jdbi.v3.core.config.ConfigRegistry;
import org.jdbi.v3.core.statement.SqlLogger;
import org.jdbi.v3.core.statement.SqlStatements;
import org.jdbi.v3.core.statement.StatementContext;
import org.jdbi.v3.core.statement.StatementExceptions;
import org.jdbi.v3.postgres.PostgresPlugin;

/**
 * The connection pool, JDBI and the gate in front of them.
 *
 * <p>Thousands of virtual threads blocking inside HikariCP are served unfairly (p99 in seconds),
 * so every use of a connection first passes a fair {@link Semaphore} with as many permits as the
 * pool has connections: waiters queue in arrival order here and the pool never sees contention.
 * A caller that waits longer than the configured connection timeout gets a 503.
 *
 * <p>Every statement is timed into {@code db_query_duration_seconds{query_type}}; callers name
 * the query with {@code .define(Database.QUERY_TYPE, "content.get")} (a small, fixed set),
 * otherwise the SQL verb is used. A named statement's text and recent arguments are kept in
 * {@link NamedStatements}, which lets the admin listener's statement report put names on
 * pg_stat_statements' entries and EXPLAIN them.
 */
public final class Database implements AutoCloseable {
    public static final String QUERY_TYPE = "queryType";
    private static final java.util.regex.Pattern WRITING_CTE =
            java.util.regex.Pattern.compile("\\b(insert|update|delete)\\b", java.util.regex.Pattern.CASE_INSENSITIVE);
    private static final Logger LOG = Logger.getLogger(Database.class.getName());

    private final HikariDataSource dataSource;
    private final Jdbi jdbi;
    private final Semaphore gate;
    private final long acquireTimeoutNanos;
    private final MeterRegistry registry;
    private final Map<String, Timer> timers = new ConcurrentHashMap<>();
    private final Timer gateWait;
    private final NamedStatements statements = new NamedStatements();
    private volatile Replicas replicas;
    private volatile ReadYourWrites writes;

    private Database(HikariDataSource dataSource, String poolName, int permits, Duration acquireTimeout,
                     MeterRegistry registry) {
        this.dataSource = dataSource;
        this.gate = new Semaphore(permits, true);
        this.acquireTimeoutNanos = acquireTimeout.toNanos();
        this.registry = registry;
        this.gateWait = Timer.builder("db.pool.wait").tag("pool", poolName)
                .description("Time a request waited at the fair gate for a database connection")
                .publishPercentileHistogram(false)
                .serviceLevelObjectives(Duration.ofMillis(1), Duration.ofMillis(5), Duration.ofMillis(10),
                        Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(500), Duration.ofSeconds(1),
                        Duration.ofSeconds(5))
                .register(registry);
        this.jdbi = Jdbi.create(dataSource).installPlugin(new PostgresPlugin());
        // JDBI's default message lists the bound arguments (titles, emails, bodies), and every
        // logged failure would carry them: keep the driver's message and the SQL text only.
        jdbi.getConfig(StatementExceptions.class).setMessageRendering(e -> {
            StatementContext ctx = e.getStatementContext();
            String sql = ctx == null ? null : ctx.getRenderedSql();
            return sql == null ? e.getShortMessage()
                    : e.getShortMessage() + " [statement:\"" + (sql.length() <= 1000 ? sql : sql.substring(0, 1000) + "…") + "\"]";
        });
        // Instants travel as timestamptz in UTC, never through the JVM's default time zone.
        jdbi.registerArgument(new AbstractArgumentFactory<Instant>(Types.TIMESTAMP_WITH_TIMEZONE) {
            @Override
            protected Argument build(Instant value, ConfigRegistry config) {
                return (position, statement, ctx) -> statement.setObject(position, value.atOffset(ZoneOffset.UTC));
            }
        });
        jdbi.getConfig(SqlStatements.class).setSqlLogger(new SqlLogger() {
            @Override
            public void logAfterExecution(StatementContext ctx) {
                record(ctx);
            }

            @Override
            public void logException(StatementContext ctx, SQLException ex) {
                record(ctx);
            }
        });
    }

    public static Database connect(ArchesConfig.Database cfg, String poolName, MeterRegistry registry) {
        return connect(cfg, poolName, registry, Map.of());
    }

    /**
     * A pool whose connections start with these settings (name to value, sent in the start-up
     * packet): settings every statement of the platform wants cost no statement of their own, and
     * no transaction to scope them. Values must not contain spaces.
     */
    public static Database connect(ArchesConfig.Database cfg, String poolName, MeterRegistry registry,
                                   Map<String, String> sessionSettings) {
        HikariConfig hc = hikari(cfg, poolName, registry, sessionSettings);
        var pool = cfg.pool();
        Database db = new Database(new HikariDataSource(hc), poolName, pool.maxConnections(), pool.connectionTimeout(),
                registry);
        db.warnIfPoolExceedsServer(pool.maxConnections());
        return db;
    }

    /**
     * A pool that starts even while its server is down (a replica's: the node serves from the
     * primary meanwhile). A server that stops answering mid-statement, which statement_timeout
     * cannot cut short, is given up after the statement timeout and 5 s more.
     */
    static Database connectLazily(ArchesConfig.Database cfg, String poolName, MeterRegistry registry) {
        HikariConfig hc = hikari(cfg, poolName, registry, Map.of());
        hc.setInitializationFailTimeout(-1);
        hc.setConnectionTimeout(cfg.pool().connectionTimeout().toMillis());
        hc.addDataSourceProperty("socketTimeout", Long.toString(cfg.statementTimeout().toSeconds() + 5));
        hc.addDataSourceProperty("connectTimeout", "2");
        return new Database(new HikariDataSource(hc), poolName, cfg.pool().maxConnections(),
                cfg.pool().connectionTimeout(), registry);
    }

    private static HikariConfig hikari(ArchesConfig.Database cfg, String poolName, MeterRegistry registry,
                                       Map<String, String> sessionSettings) {
        HikariConfig hc = new HikariConfig();
        hc.setPoolName(poolName);
        hc.setJdbcUrl(cfg.url());
        hc.setUsername(cfg.user());
        if (!cfg.password().isEmpty()) {
            hc.setPassword(cfg.password());
        }
        var pool = cfg.pool();
        hc.setMaximumPoolSize(pool.maxConnections());
        hc.setMinimumIdle(pool.minConnections());
        hc.setMaxLifetime(pool.maxLifetime().toMillis());
        hc.setIdleTimeout(pool.idleTimeout().toMillis());
        // The gate enforces the caller-facing timeout; the pool's own is a backstop behind it.
        hc.setConnectionTimeout(pool.connectionTimeout().toMillis() + 1000);
        hc.setInitializationFailTimeout(pool.connectionTimeout().toMillis());
        hc.addDataSourceProperty("ApplicationName", "arches");
        hc.addDataSourceProperty("reWriteBatchedInserts", "true");
        // PostgreSQL's error detail quotes row values ("Key (email)=(...) already exists"); the
        // SQLSTATE and message say enough, and tenant data stays out of exceptions and logs.
        hc.addDataSourceProperty("logServerErrorDetail", "false");
        StringBuilder options = new StringBuilder("-c statement_timeout=" + cfg.statementTimeout().toMillis());
        sessionSettings.forEach((name, value) -> options.append(" -c ").append(name).append('=').append(value));
        hc.addDataSourceProperty("options", options.toString());
        hc.setMetricsTrackerFactory(new MicrometerMetricsTrackerFactory(registry));
        return hc;
    }

    /**
     * A pool larger than the connections PostgreSQL grants non-superusers fails only under load,
     * when the pool grows; say so at start-up instead.
     */
    private void warnIfPoolExceedsServer(int poolMax) {
        try {
            int available = withHandle(h -> h.createQuery(
                            "SELECT current_setting('max_connections')::int"
                                    + " - current_setting('superuser_reserved_connections')::int")
                    .mapTo(Integer.class).one());
            if (poolMax > available) {
                LOG.warning("database.pool.max_connections (" + poolMax + ") exceeds the " + available
                        + " connections PostgreSQL grants this role; the pool will fail to grow under load. "
                        + "Lower it (a few per database core is plenty) or raise PostgreSQL's max_connections.");
            }
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "could not read max_connections", e);
        }
    }

    /**
     * Autovacuum off hurts only later, as tables churn: they keep their dead rows and the
     * statistics of when they were small, and cached plans scan them whole (the run tables:
     * measured at 248 instead of 1,039 one-step runs/s in QUICK runs). Said once at start-up, for
     * the server rather than for each pool on it.
     */
    public void warnIfAutovacuumOff() {
        try {
            boolean on = withHandle(h -> h.createQuery("SELECT current_setting('autovacuum') = 'on'"
                            + " AND current_setting('track_counts') = 'on'")
                    .mapTo(Boolean.class).one());
            if (!on) {
                LOG.warning("PostgreSQL runs with autovacuum (or track_counts) off: tables keep their dead rows and "
                        + "stale statistics, and the workflow run tables slow down as they grow. Turn it on "
                        + "(ALTER SYSTEM SET autovacuum = on; SELECT pg_reload_conf()), or VACUUM ANALYZE them often.");
            }
        } catch (RuntimeException e) {
            LOG.log(Level.FINE, "could not read autovacuum", e);
        }
    }

    public <R> R withHandle(HandleCallback<R, RuntimeException> callback) {
        enter();
        try {
            ReadYourWrites w = writes;
            return w == null ? jdbi.withHandle(callback) : jdbi.withHandle(h -> noted(w, h, callback.withHandle(h)));
        } finally {
            gate.release();
        }
    }

    public <R> R inTransaction(HandleCallback<R, RuntimeException> callback) {
        enter();
        try {
            ReadYourWrites w = writes;
            return w == null ? jdbi.inTransaction(callback) : jdbi.withHandle(h -> noted(w, h, h.inTransaction(callback)));
        } finally {
            gate.release();
        }
    }

    /**
     * A read that may be slightly stale: on a replica that has replayed the caller's own writes
     * when replicas are configured, else here. Never for a read whose result fills the shared cache
     * (a stale value would outlive the write that replaced it) nor for authentication.
     */
    public <R> R withReadHandle(HandleCallback<R, RuntimeException> callback) {
        Replicas r = replicas;
        return r == null ? withHandle(callback) : r.read(callback);
    }

    /** Sends reads to these replicas and records callers' writes for them (once, at start-up). */
    public void useReplicas(Replicas replicas, ReadYourWrites writes) {
        this.writes = writes;
        this.replicas = replicas;
    }

    /** After a committed write, the WAL position a replica must reach to show it to the caller. */
    private static <R> R noted(ReadYourWrites w, Handle h, R result) {
        if (ReadYourWrites.takeWrote()) {
            w.recorded(h.createQuery(ReadYourWrites.POSITION_SQL).mapTo(Long.class).one());
        }
        return result;
    }

    /**
     * True when PostgreSQL answers a trivial query within the timeout. The whole ping is bounded,
     * opening a connection included: with PostgreSQL down the pool waits its own, longer timeout
     * for one, and a balancer's health check (2 s) would time out before /ready answered.
     */
    public boolean ping(Duration timeout) {
        var answer = new java.util.concurrent.CompletableFuture<Boolean>();
        Thread.ofVirtual().name("db-ping").start(() -> answer.complete(pingWaiting(timeout)));
        try {
            return answer.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private boolean pingWaiting(Duration timeout) {
        try {
            if (!gate.tryAcquire(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                return false;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            s.setQueryTimeout((int) Math.max(1, timeout.toSeconds()));
            s.execute("SELECT 1");
            return true;
        } catch (SQLException e) {
            return false;
        } finally {
            gate.release();
        }
    }

    /** True when the failure is PostgreSQL's unique_violation (23505). */
    public static boolean isUniqueViolation(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && "23505".equals(sql.getSQLState())) {
                return true;
            }
        }
        return false;
    }

    public DataSource dataSource() {
        return dataSource;
    }

    /** The text and recent arguments of each named statement this pool ran (for the admin reports). */
    public NamedStatements statements() {
        return statements;
    }

    /** Connections currently borrowed from the pool (tests use it to find leaks). */
    public int activeConnections() {
        HikariPoolMXBean mx = dataSource.getHikariPoolMXBean();
        return mx == null ? 0 : mx.getActiveConnections();
    }

    @Override
    public void close() {
        dataSource.close();
    }

    private void enter() {
        boolean acquired;
        long start = System.nanoTime();
        try {
            acquired = gate.tryAcquire(acquireTimeoutNanos, TimeUnit.NANOSECONDS);
            gateWait.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ServiceUnavailableException("interrupted while waiting for a database connection", e);
        }
        if (!acquired) {
            HikariPoolMXBean mx = dataSource.getHikariPoolMXBean();
            String state = mx == null ? "pool not started"
                    : "active=" + mx.getActiveConnections() + ", idle=" + mx.getIdleConnections()
                    + ", total=" + mx.getTotalConnections() + ", waiting at gate=" + gate.getQueueLength();
            // The client learns only that the database is busy; the pool's state is for the log.
            throw new ServiceUnavailableException("the database is busy: no connection within "
                    + Duration.ofNanos(acquireTimeoutNanos).toMillis() + " ms",
                    new PoolExhaustedException(state), 1);
        }
    }

    /** Carries the pool's state to the log behind a 503; never part of a response. */
    static final class PoolExhaustedException extends RuntimeException {
        PoolExhaustedException(String state) {
            super(state, null, false, false);
        }
    }

    private void record(StatementContext ctx) {
        Object named = ctx.getAttribute(QUERY_TYPE);
        // The verb is parsed only where needed: most statements are named, and replicas are optional.
        String verb = named == null || writes != null ? verb(ctx.getRawSql()) : null;
        if (writes != null && changesData(verb, ctx.getRawSql())) {
            ReadYourWrites.wrote();
        }
        String type = named != null ? named.toString() : verb;
        if (named != null) {
            statements.ran(type, ctx);
        }
        long nanos = ctx.getElapsedTime(ChronoUnit.NANOS);
        if (nanos < 0) {
            return;
        }
        timers.computeIfAbsent(type, t -> Timer.builder("db.query.duration")
                        .description("Time PostgreSQL took to execute a statement")
                        .tag("query_type", t)
                        .publishPercentileHistogram()
                        .register(registry))
                .record(nanos, TimeUnit.NANOSECONDS);
    }

    /** Whether a statement may change data (a WITH that inserts, updates or deletes does). */
    private static boolean changesData(String verb, String sql) {
        return switch (verb) {
            case "select" -> sql.stripLeading().regionMatches(true, 0, "with", 0, 4) && WRITING_CTE.matcher(sql).find();
            default -> true; // insert, update, delete, and anything unrecognised, to be safe
        };
    }

    private static String verb(String sql) {
        if (sql == null) {
            return "other";
        }
        String s = sql.stripLeading();
        int end = 0;
        while (end < s.length() && Character.isLetter(s.charAt(end))) {
            end++;
        }
        return switch (s.substring(0, end).toLowerCase(java.util.Locale.ROOT)) {
            case "select", "with" -> "select";
            case "insert" -> "insert";
            case "update" -> "update";
            case "delete" -> "delete";
            default -> "other";
        };
    }
}
