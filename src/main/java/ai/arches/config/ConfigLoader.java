package ai.arches.config;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.logging.Level;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.helidon.common.media.type.MediaTypes;
import io.helidon.config.Config;

/**
 * Reads {@code arches.yaml} (the file named by ARCHES_CONFIG, else ./arches.yaml, else the copy
 * on the classpath), lays {@code ARCHES_*} environment variables over it, then explicit
 * overrides (tests), and validates every value. Every key the defaults file names can be
 * overridden; an {@code ARCHES_*} variable that names no key is an error, so typos do not pass
 * silently ({@code ARCHES_CONFIG}, {@code ARCHES_TEST_*} and {@code ARCHES_BENCH_*} belong to
 * tooling and are left alone).
 */
public final class ConfigLoader {
    private static final String ENV_PREFIX = "ARCHES_";
    private static final String CONFIG_PATH_VAR = "ARCHES_CONFIG";
    /** Variables of the test and benchmark tooling, not of the server. */
    private static final String TOOLING_PREFIX_TEST = "ARCHES_TEST_";
    private static final String TOOLING_PREFIX_BENCH = "ARCHES_BENCH_";
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(B|KiB|MiB|GiB)?");

    private final Map<String, String> values;

    private ConfigLoader(Map<String, String> values) {
        this.values = values;
    }

    /** Loads from the process environment. */
    public static ArchesConfig load() {
        return load(System.getenv(), Map.of());
    }

    public static ArchesConfig load(Map<String, String> env, Map<String, String> overrides) {
        Map<String, String> defaults = flatten(readYaml(env.get(CONFIG_PATH_VAR)));
        Map<String, String> merged = new LinkedHashMap<>(defaults);
        Map<String, String> envKeys = new HashMap<>();
        defaults.keySet().forEach(k -> envKeys.put(envName(k), k));
        for (var e : env.entrySet()) {
            if (!e.getKey().startsWith(ENV_PREFIX) || e.getKey().equals(CONFIG_PATH_VAR)
                    || e.getKey().startsWith(TOOLING_PREFIX_TEST) || e.getKey().startsWith(TOOLING_PREFIX_BENCH)) {
                continue;
            }
            String key = envKeys.get(e.getKey());
            if (key == null) {
                throw new ConfigException(e.getKey(), "no such setting (see arches.yaml for the keys)");
            }
            merged.put(key, e.getValue());
        }
        for (var e : overrides.entrySet()) {
            if (!defaults.containsKey(e.getKey())) {
                throw new ConfigException(e.getKey(), "no such setting (see arches.yaml for the keys)");
            }
            merged.put(e.getKey(), e.getValue());
        }
        try {
            return new ConfigLoader(merged).parse();
        } catch (ConfigException e) {
            throw e.without(Secrets.in(merged));
        }
    }

    /** {@code database.pool.max_connections} becomes {@code ARCHES_DATABASE_POOL_MAX_CONNECTIONS}. */
    public static String envName(String key) {
        return ENV_PREFIX + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    private ArchesConfig parse() {
        var pool = new ArchesConfig.Pool(
                integer("database.pool.max_connections", 1, 10_000),
                integer("database.pool.min_connections", 0, 10_000),
                duration("database.pool.max_lifetime", Duration.ofSeconds(30), Duration.ofDays(1)),
                duration("database.pool.idle_timeout", Duration.ofSeconds(10), Duration.ofDays(1)),
                duration("database.pool.connection_timeout", Duration.ofMillis(250), Duration.ofMinutes(5)));
        if (pool.minConnections() > pool.maxConnections()) {
            throw new ConfigException("database.pool.min_connections",
                    "must not exceed database.pool.max_connections (" + pool.maxConnections() + "), was "
                            + pool.minConnections());
        }
        var database = new ArchesConfig.Database(
                jdbcUrl("database.url"),
                string("database.user", false),
                string("database.password", true),
                bool("database.migrate"),
                duration("database.statement_timeout", Duration.ofMillis(100), Duration.ofHours(1)),
                pool,
                jdbcUrls("database.replicas"),
                duration("database.replica_max_lag", Duration.ofMillis(100), Duration.ofHours(1)),
                duration("database.replica_wait", Duration.ZERO, Duration.ofSeconds(10)));
        var server = new ArchesConfig.Server(
                string("server.host", false),
                integer("server.port", 0, 65_535),
                size("server.max_body", 1024, 1L << 30),
                integer("server.compression_min_size", 0, 1 << 30),
                size("server.max_page_bytes", 64L << 10, 1L << 30),
                cidrs("server.trusted_proxies"),
                duration("server.drain_delay", Duration.ZERO, Duration.ofMinutes(5)),
                duration("server.shutdown_grace", Duration.ZERO, Duration.ofMinutes(10)));
        // A page always carries one item, so below a document's size the budget would not hold.
        if (server.maxPageBytes() < server.maxBody()) {
            throw new ConfigException("server.max_page_bytes",
                    "must be at least server.max_body (" + server.maxBody() + " bytes), was " + server.maxPageBytes());
        }
        String redisUrl = string("redis.url", true);
        if (!redisUrl.isBlank() && !redisUrl.startsWith("redis://") && !redisUrl.startsWith("rediss://")) {
            throw new ConfigException("redis.url", "must start with redis:// or rediss://, or be empty");
        }
        if (!redisUrl.isBlank()) {
            try {
                if (URI.create(redisUrl).getHost() == null) {
                    throw new ConfigException("redis.url", "needs a host");
                }
            } catch (IllegalArgumentException e) {
                // Not the parser's message: it quotes the whole URL, password included.
                throw new ConfigException("redis.url", "not a valid URL (characters such as spaces, '@' or '/' in the "
                        + "password must be percent-encoded)");
            }
        }
        String prefix = string("redis.key_prefix", false);
        if (!prefix.matches("[A-Za-z0-9_.-]{1,64}")) {
            throw new ConfigException("redis.key_prefix", "must be 1 to 64 letters, digits, '_', '.' or '-', was '" + prefix + "'");
        }
        var redis = new ArchesConfig.Redis(redisUrl,
                duration("redis.timeout", Duration.ofMillis(10), Duration.ofMinutes(1)), prefix);
        var cache = new ArchesConfig.Cache(
                duration("cache.l1_ttl", Duration.ofMillis(100), Duration.ofHours(1)),
                integer("cache.l1_max_entries", 100, 100_000_000),
                duration("cache.l2_ttl", Duration.ofSeconds(1), Duration.ofDays(1)),
                duration("cache.negative_ttl", Duration.ofMillis(100), Duration.ofHours(1)),
                size("cache.l1_max_bytes", 1L << 20, 64L << 30),
                size("cache.l2_max_value_bytes", 1L << 10, 512L << 20));
        var rateLimit = new ArchesConfig.RateLimit(
                bool("rate_limit.enabled"),
                duration("rate_limit.window", Duration.ofSeconds(1), Duration.ofDays(1)),
                integer("rate_limit.max_requests", 1, 1_000_000_000),
                duration("rate_limit.login_window", Duration.ofSeconds(1), Duration.ofDays(1)),
                integer("rate_limit.login_max_failures_per_account", 1, 1_000_000),
                integer("rate_limit.login_max_failures_per_address", 1, 1_000_000),
                integer("rate_limit.register_max_per_address", 1, 1_000_000),
                duration("rate_limit.register_window", Duration.ofSeconds(1), Duration.ofDays(1)),
                duration("rate_limit.sync_interval", Duration.ofMillis(10), Duration.ofMinutes(1)));
        String secret = string("auth.token_secret", true);
        if (!secret.isEmpty() && secret.length() < 32) {
            throw new ConfigException("auth.token_secret", "must be at least 32 characters, was " + secret.length());
        }
        var password = new ArchesConfig.Password(
                integer("auth.password.memory_kib", 8, 4 * 1024 * 1024),
                integer("auth.password.iterations", 1, 100),
                integer("auth.password.parallelism", 1, 64),
                integer("auth.password.max_concurrent", 1, 1024),
                duration("auth.password.max_wait", Duration.ofMillis(1), Duration.ofMinutes(1)));
        var auth = new ArchesConfig.Auth(secret, string("auth.issuer", false),
                duration("auth.access_token_ttl", Duration.ofSeconds(10), Duration.ofDays(1)),
                duration("auth.refresh_token_ttl", Duration.ofMinutes(1), Duration.ofDays(365)),
                password, integer("auth.access_token_cache", 0, 100_000_000),
                duration("auth.api_key_last_used_interval", Duration.ofMillis(10), Duration.ofHours(1)));
        var log = new ArchesConfig.Log(level("log.level"), bool("log.access"));
        return new ArchesConfig(server, database, redis, cache, rateLimit, auth, idempotency(database), log,
                embedding(), search(), metrics(), workflows(), admin(server), profiling(), graphql());
    }

    private ArchesConfig.Idempotency idempotency(ArchesConfig.Database database) {
        var idempotency = new ArchesConfig.Idempotency(
                duration("idempotency.lock_timeout", Duration.ofSeconds(1), Duration.ofHours(1)),
                duration("idempotency.max_wait", Duration.ZERO, Duration.ofMinutes(1)));
        // A key whose request still runs would be taken over by a retry, which would write again.
        if (idempotency.lockTimeout().compareTo(database.statementTimeout()) <= 0) {
            throw new ConfigException("idempotency.lock_timeout", "must be longer than database.statement_timeout ("
                    + format(database.statementTimeout()) + "), was " + format(idempotency.lockTimeout()));
        }
        return idempotency;
    }

    private ArchesConfig.Graphql graphql() {
        return new ArchesConfig.Graphql(
                integer("graphql.max_query_characters", 100, 10_000_000),
                integer("graphql.max_query_tokens", 10, 1_000_000),
                integer("graphql.max_depth", 2, 1000),
                integer("graphql.max_fields", 1, 1_000_000),
                integer("graphql.max_complexity", 1, 1_000_000_000),
                integer("graphql.persisted_queries", 0, 1_000_000));
    }

    private ArchesConfig.Workflows workflows() {
        String url = string("workflows.summarize.url", true).replaceAll("/+$", "");
        if (!url.isEmpty() && !url.startsWith("http://") && !url.startsWith("https://")) {
            throw new ConfigException("workflows.summarize.url", "must be empty or start with http:// or https://");
        }
        return new ArchesConfig.Workflows(
                integer("workflows.workers", 0, 10_000),
                integer("workflows.pool_connections", 1, 1000),
                integer("workflows.max_running_per_org", 1, 10_000),
                integer("workflows.max_queued_per_org", 1, 10_000_000),
                duration("workflows.lease", Duration.ofSeconds(1), Duration.ofHours(1)),
                duration("workflows.poll_interval", Duration.ofMillis(10), Duration.ofMinutes(10)),
                duration("workflows.default_step_timeout", Duration.ofMillis(10), Duration.ofHours(24)),
                new ArchesConfig.Http(cidrs("workflows.http.allow"),
                        duration("workflows.http.timeout", Duration.ofMillis(10), Duration.ofMinutes(10)),
                        size("workflows.http.max_response_bytes", 1024, 256L << 20)),
                new ArchesConfig.Summarize(url, string("workflows.summarize.model", true),
                        string("workflows.summarize.api_key", true),
                        duration("workflows.summarize.timeout", Duration.ofMillis(10), Duration.ofMinutes(10))));
    }

    private ArchesConfig.Metrics metrics() {
        return new ArchesConfig.Metrics(token("metrics.token"));
    }

    private ArchesConfig.Admin admin(ArchesConfig.Server server) {
        var admin = new ArchesConfig.Admin(string("admin.host", false), integer("admin.port", 0, 65535),
                token("admin.token"));
        // Two sockets of one server cannot share a port, and the API port must never serve profiles.
        if (admin.port() != 0 && admin.port() == server.port()) {
            throw new ConfigException("admin.port", "must differ from server.port (" + server.port()
                    + "), or be 0 to turn the admin listener off");
        }
        return admin;
    }

    private ArchesConfig.Profiling profiling() {
        return new ArchesConfig.Profiling(bool("profiling.continuous"),
                duration("profiling.window", Duration.ofMinutes(1), Duration.ofHours(24)),
                duration("profiling.interval", Duration.ofMillis(1), Duration.ofSeconds(1)));
    }

    private String token(String key) {
        String token = string(key, true);
        // Never quote the value: only its length and the rule it broke.
        if (!token.isEmpty() && (token.length() < 16 || token.length() > 512 || !token.matches("[\\x21-\\x7e]+"))) {
            throw new ConfigException(key,
                    "must be empty or 16 to 512 visible ASCII characters without spaces, was " + token.length() + " characters");
        }
        return token;
    }

    private ArchesConfig.Embedding embedding() {
        String provider = oneOf("embedding.provider", "local", "openai");
        String workers = raw("embedding.workers");
        int workerCount = workers.equalsIgnoreCase("auto")
                ? Runtime.getRuntime().availableProcessors() : integer("embedding.workers", 0, 256);
        int words = integer("embedding.passage_words", 8, 400);
        int overlap = integer("embedding.passage_overlap", 0, 200);
        if (overlap >= words) {
            throw new ConfigException("embedding.passage_overlap",
                    "must be smaller than embedding.passage_words (" + words + "), was " + overlap);
        }
        String url = string("embedding.openai.url", false);
        if (!url.startsWith("http://") && !url.startsWith("https://")) {
            throw new ConfigException("embedding.openai.url", "must start with http:// or https://, was '" + url + "'");
        }
        var openai = new ArchesConfig.OpenAi(url.replaceAll("/+$", ""),
                string("embedding.openai.model", false),
                string("embedding.openai.api_key", true),
                duration("embedding.openai.timeout", Duration.ofMillis(100), Duration.ofMinutes(10)),
                integer("embedding.openai.max_retries", 0, 20),
                duration("embedding.openai.retry_backoff", Duration.ofMillis(1), Duration.ofMinutes(10)),
                integer("embedding.openai.max_concurrent", 1, 1024));
        return new ArchesConfig.Embedding(provider, workerCount,
                integer("embedding.batch_size", 1, 1000), words, overlap,
                integer("embedding.max_attempts", 1, 100),
                duration("embedding.retry_backoff", Duration.ofMillis(10), Duration.ofHours(1)),
                duration("embedding.poll_interval", Duration.ofMillis(10), Duration.ofMinutes(10)),
                duration("embedding.lease", Duration.ofSeconds(1), Duration.ofHours(24)),
                openai,
                integer("embedding.slice_passages", 1, 1000));
    }

    private ArchesConfig.Search search() {
        return new ArchesConfig.Search(
                oneOf("search.index", "hnsw", "ivfflat"),
                new ArchesConfig.Hnsw(integer("search.hnsw.m", 2, 100),
                        integer("search.hnsw.ef_construction", 4, 1000),
                        integer("search.hnsw.ef_search", 1, 1000)),
                new ArchesConfig.IvfFlat(integer("search.ivfflat.lists", 1, 32768),
                        integer("search.ivfflat.probes", 1, 32768)),
                integer("search.exact_threshold", 0, 100_000_000),
                integer("search.max_scan_tuples", 1, 1_000_000_000),
                integer("search.rrf_k", 1, 10_000),
                integer("search.query_embed_concurrency", 1, 256),
                duration("search.query_vector_ttl", Duration.ofSeconds(1), Duration.ofDays(365)),
                bool("search.cache_results"),
                duration("search.query_embed_timeout", Duration.ofMillis(10), Duration.ofMinutes(1)),
                integer("search.query_embed_queue", 0, 100_000));
    }

    private String oneOf(String key, String... allowed) {
        String v = raw(key).toLowerCase(Locale.ROOT);
        for (String a : allowed) {
            if (a.equals(v)) {
                return v;
            }
        }
        throw new ConfigException(key, "must be one of " + String.join(", ", allowed) + ", was '" + raw(key) + "'");
    }

    private String raw(String key) {
        String v = values.get(key);
        if (v == null) {
            throw new ConfigException(key, "missing");
        }
        return v.trim();
    }

    private String string(String key, boolean mayBeEmpty) {
        String v = raw(key);
        if (!mayBeEmpty && v.isEmpty()) {
            throw new ConfigException(key, "must not be empty");
        }
        return v;
    }

    /** A comma-separated list of IPv4/IPv6 networks (or single addresses); empty is an empty list. */
    private List<Cidr> cidrs(String key) {
        List<Cidr> out = new ArrayList<>();
        for (String part : raw(key).split(",")) {
            if (part.isBlank()) {
                continue;
            }
            try {
                out.add(Cidr.parse(part));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(key, e.getMessage() + " (expected comma-separated CIDRs such as 10.0.0.0/8, fd00::/8)");
            }
        }
        return out;
    }

    private boolean bool(String key) {
        return switch (raw(key).toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on", "1" -> true;
            case "false", "no", "off", "0" -> false;
            default -> throw new ConfigException(key, "must be true or false, was '" + raw(key) + "'");
        };
    }

    private int integer(String key, int min, int max) {
        String v = raw(key);
        long n;
        try {
            n = Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new ConfigException(key, "must be a whole number, was '" + v + "'");
        }
        if (n < min || n > max) {
            throw new ConfigException(key, "must be between " + min + " and " + max + ", was " + n);
        }
        return (int) n;
    }

    private Duration duration(String key, Duration min, Duration max) {
        String v = raw(key);
        Matcher m = DURATION.matcher(v);
        if (!m.matches()) {
            throw new ConfigException(key, "must be a duration such as 500ms, 5s, 10m, 2h or 30d, was '" + v + "'");
        }
        long n = Long.parseLong(m.group(1));
        Duration d = switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
        if (d.compareTo(min) < 0 || d.compareTo(max) > 0) {
            throw new ConfigException(key, "must be between " + format(min) + " and " + format(max) + ", was " + v);
        }
        return d;
    }

    private long size(String key, long min, long max) {
        String v = raw(key);
        Matcher m = SIZE.matcher(v);
        if (!m.matches()) {
            throw new ConfigException(key, "must be a size such as 1048576, 512KiB or 1MiB, was '" + v + "'");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "B" : m.group(2);
        long bytes = switch (unit) {
            case "KiB" -> n << 10;
            case "MiB" -> n << 20;
            case "GiB" -> n << 30;
            default -> n;
        };
        if (bytes < min || bytes > max) {
            throw new ConfigException(key, "must be between " + min + " and " + max + " bytes, was " + v);
        }
        return bytes;
    }

    private Level level(String key) {
        String v = raw(key).toUpperCase(Locale.ROOT);
        return switch (v) {
            case "SEVERE", "ERROR" -> Level.SEVERE;
            case "WARNING", "WARN" -> Level.WARNING;
            case "INFO" -> Level.INFO;
            case "FINE", "DEBUG" -> Level.FINE;
            default -> throw new ConfigException(key, "must be one of SEVERE, WARNING, INFO, FINE, was '" + v + "'");
        };
    }

    /**
     * A comma-separated list of database URLs (a comma inside a JDBC URL's host list stays: only
     * a comma followed by a new URL's scheme separates).
     */
    private List<String> jdbcUrls(String key) {
        List<String> out = new ArrayList<>();
        for (String part : raw(key).split(",(?=\\s*(jdbc:|postgres))")) {
            if (!part.isBlank()) {
                out.add(jdbcUrl(key, part.strip()));
            }
        }
        return out;
    }

    private String jdbcUrl(String key) {
        return jdbcUrl(key, string(key, false));
    }

    /** Accepts jdbc:postgresql:// as is and turns postgres://user:pass@host:port/db into JDBC form. */
    private String jdbcUrl(String key, String v) {
        if (v.startsWith("jdbc:postgresql://")) {
            return v;
        }
        if (v.startsWith("postgres://") || v.startsWith("postgresql://")) {
            try {
                URI uri = URI.create(v);
                if (uri.getHost() == null || uri.getPath() == null || uri.getPath().length() < 2) {
                    throw new ConfigException(key, "a postgres:// URL needs a host and a database name");
                }
                StringBuilder jdbc = new StringBuilder("jdbc:postgresql://").append(uri.getHost());
                if (uri.getPort() > 0) {
                    jdbc.append(':').append(uri.getPort());
                }
                jdbc.append(uri.getPath());
                String sep = "?";
                if (uri.getRawUserInfo() != null) {
                    String[] parts = uri.getRawUserInfo().split(":", 2);
                    jdbc.append(sep).append("user=").append(parts[0]);
                    sep = "&";
                    if (parts.length == 2) {
                        jdbc.append(sep).append("password=").append(parts[1]);
                    }
                }
                if (uri.getRawQuery() != null) {
                    jdbc.append(sep).append(uri.getRawQuery());
                }
                return jdbc.toString();
            } catch (IllegalArgumentException e) {
                // Not the parser's message: it quotes the whole URL, password included.
                throw new ConfigException(key, "not a valid URL (characters such as spaces, '@' or '/' in the user "
                        + "or password must be percent-encoded)");
            }
        }
        throw new ConfigException(key, "must start with jdbc:postgresql:// or postgres://");
    }

    private static String format(Duration d) {
        return d.toString().substring(2).toLowerCase(Locale.ROOT);
    }

    private static Config readYaml(String explicitPath) {
        try {
            if (explicitPath != null && !explicitPath.isBlank()) {
                Path p = Path.of(explicitPath);
                if (!Files.isRegularFile(p)) {
                    throw new ConfigException(CONFIG_PATH_VAR, "no such file: " + explicitPath);
                }
                return yaml(Files.newInputStream(p));
            }
            Path local = Path.of("arches.yaml");
            if (Files.isRegularFile(local)) {
                return yaml(Files.newInputStream(local));
            }
            InputStream in = ConfigLoader.class.getResourceAsStream("/arches.yaml");
            if (in == null) {
                throw new ConfigException(CONFIG_PATH_VAR, "no arches.yaml in the working directory or on the classpath");
            }
            return yaml(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Config yaml(InputStream in) throws IOException {
        try (in) {
            return Config.just(new String(in.readAllBytes(), StandardCharsets.UTF_8), MediaTypes.APPLICATION_YAML);
        }
    }

    private static Map<String, String> flatten(Config root) {
        Map<String, String> out = new LinkedHashMap<>();
        root.traverse()
                .filter(Config::isLeaf)
                .forEach(node -> out.put(node.key().toString(), node.asString().orElse("")));
        return out;
    }
}
