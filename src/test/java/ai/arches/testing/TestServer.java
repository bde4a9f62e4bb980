package ai.arches.testing;

import java.time.Clock;
import java.util.HashMap;
import java.util.Map;

import ai.arches.app.Arches;
import ai.arches.config.ArchesConfig;
import ai.arches.config.ConfigLoader;
import ai.arches.embedding.Embedder;
import ai.arches.embedding.LocalMiniLm;

/**
 * A real server on a random port over its own fresh database, with test-friendly settings
 * (small pool, cheap password hashing). Close it to stop the server and drop the database.
 */
public final class TestServer implements AutoCloseable {
    public static final String SECRET = "test-secret-test-secret-test-secret-0123456789";

    /**
     * One model for every server in the test JVM: it is thread-safe and loading it costs a second
     * and ~100 MB each time.
     */
    public static final Embedder MODEL = new LocalMiniLm();

    private final String database;
    private final boolean ownsDatabase;
    private final Arches arches;
    private final Api api;

    private TestServer(String database, boolean ownsDatabase, Arches arches) {
        this.database = database;
        this.ownsDatabase = ownsDatabase;
        this.arches = arches;
        this.api = new Api("http://127.0.0.1:" + arches.port());
    }

    public static TestServer start() {
        return start(Map.of());
    }

    public static TestServer start(Map<String, String> overrides) {
        return start(overrides, MODEL);
    }

    /** With another embedding model (a stub that counts, fails or blocks); the caller owns it. */
    public static TestServer start(Map<String, String> overrides, Embedder embedder) {
        return start(overrides, embedder, Clock.systemUTC());
    }

    /** With another embedding model and a clock the test moves (such as {@link OffsetClock}). */
    public static TestServer start(Map<String, String> overrides, Embedder embedder, Clock clock) {
        String db = TestDatabases.create();
        try {
            return new TestServer(db, true, Arches.start(config(db, overrides), clock, embedder));
        } catch (RuntimeException e) {
            TestDatabases.drop(db);
            throw e;
        }
    }

    /** A second node on another server's database (it leaves the database to its owner). */
    public static TestServer startOn(String database, Map<String, String> overrides) {
        return startOn(database, overrides, MODEL);
    }

    /** A second node with its own embedding model; the caller owns the model. */
    public static TestServer startOn(String database, Map<String, String> overrides, Embedder embedder) {
        return new TestServer(database, false, Arches.start(config(database, overrides), Clock.systemUTC(), embedder));
    }

    /** Test defaults over arches.yaml, then the caller's overrides. */
    public static ArchesConfig config(String database, Map<String, String> overrides) {
        Map<String, String> o = new HashMap<>();
        o.put("server.port", "0");
        o.put("server.host", "127.0.0.1");
        o.put("database.url", TestDatabases.url(database));
        o.put("database.user", TestDatabases.APP_USER);
        o.put("database.pool.max_connections", "8");
        o.put("database.pool.min_connections", "1");
        o.put("auth.token_secret", SECRET);
        o.put("auth.password.memory_kib", "64");
        o.put("auth.password.iterations", "1");
        o.put("log.access", "false");
        // Off unless a test asks (AdminListenerTest picks a free port): servers run side by side.
        o.put("admin.port", "0");
        // Every test server has its own Redis namespace: test classes and runs share one Redis.
        o.put("redis.key_prefix", "t-" + database);
        // Tests make many requests per user; the rate-limit tests set their own limits.
        o.put("rate_limit.max_requests", "1000000000");
        o.put("rate_limit.login_max_failures_per_account", "1000000");
        o.put("rate_limit.login_max_failures_per_address", "1000000");
        o.put("rate_limit.register_max_per_address", "1000000");
        // Embedding is CPU work the suite would pay in every class; classes that test it turn it on.
        o.put("embedding.workers", "0");
        o.put("embedding.poll_interval", "50ms");
        o.putAll(overrides);
        return ConfigLoader.load(Map.of(), o);
    }

    public Api api() {
        return api;
    }

    public Arches arches() {
        return arches;
    }

    public String database() {
        return database;
    }

    @Override
    public void close() {
        try {
            arches.close();
        } finally {
            if (ownsDatabase) {
                TestDatabases.drop(database);
            }
        }
    }
}
