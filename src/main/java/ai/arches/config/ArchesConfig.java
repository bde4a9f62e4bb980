package ai.arches.config;

import java.time.Duration;
import java.util.logging.Level;

/**
 * The whole configuration, parsed and validated once at start-up ({@link ConfigLoader}) and
 * immutable afterwards. Each record mirrors one section of {@code arches.yaml}.
 */
public record ArchesConfig(Server server, Database database, Redis redis, Cache cache, RateLimit rateLimit,
                           Auth auth, Idempotency idempotency, Log log, Embedding embedding, Search search,
                           Metrics metrics, Workflows workflows, Admin admin, Profiling profiling, Graphql graphql) {

    /**
     * {@code maxPageBytes}: a list page or search result stops adding items before passing it.
     * {@code trustedProxies}: the only peers whose Forwarded / X-Forwarded-For headers are
     * believed when resolving a client's address (empty: none, the TCP peer is the client).
     * {@code drainDelay}: at shutdown, how long /ready says 503 while the node still serves;
     * {@code shutdownGrace}: then, how long requests in flight get to finish.
     */
    public record Server(String host, int port, long maxBody, int compressionMinSize, long maxPageBytes,
                         java.util.List<Cidr> trustedProxies, Duration drainDelay, Duration shutdownGrace) {
        public Server {
            trustedProxies = java.util.List.copyOf(trustedProxies);
        }
    }

    /**
     * {@code replicas}: streaming replicas' URLs (same user and password) that take reads which may
     * be slightly stale; one lagging more than {@code replicaMaxLag} is left out until it catches
     * up. {@code replicaWait}: how long a read waits for a replica to replay the caller's own last
     * write before it goes to the primary instead.
     */
    public record Database(String url, String user, String password, boolean migrate,
                           Duration statementTimeout, Pool pool, java.util.List<String> replicas,
                           Duration replicaMaxLag, Duration replicaWait) {
        public Database {
            replicas = java.util.List.copyOf(replicas);
        }

        /** These settings for another pool: no migrations, no replicas of its own. */
        public Database derived(String url, Pool pool) {
            return new Database(url, user, password, false, statementTimeout, pool, java.util.List.of(), replicaMaxLag,
                    replicaWait);
        }
    }

    public record Pool(int maxConnections, int minConnections, Duration maxLifetime,
                       Duration idleTimeout, Duration connectionTimeout) {}

    /** {@code url} empty means Redis is not used. */
    public record Redis(String url, Duration timeout, String keyPrefix) {
        public boolean enabled() {
            return !url.isBlank();
        }
    }

    /**
     * {@code l1MaxEntries} and {@code l1MaxBytes} bound each named L1 cache; a value whose JSON is
     * larger than {@code l2MaxValueBytes} is not written to Redis.
     */
    public record Cache(Duration l1Ttl, long l1MaxEntries, Duration l2Ttl, Duration negativeTtl, long l1MaxBytes,
                        long l2MaxValueBytes) {}

    public record RateLimit(boolean enabled, Duration window, int maxRequests, Duration loginWindow,
                            int loginMaxFailuresPerAccount, int loginMaxFailuresPerAddress,
                            int registerMaxPerAddress, Duration registerWindow, Duration syncInterval) {}

    /**
     * {@code accessTokenCache}: verified access tokens kept per node (0: verify every request).
     * {@code apiKeyLastUsedInterval}: how often a node writes the API keys' last use it recorded.
     */
    public record Auth(String tokenSecret, String issuer, Duration accessTokenTtl,
                       Duration refreshTokenTtl, Password password, int accessTokenCache,
                       Duration apiKeyLastUsedInterval) {}

    /** {@code maxWait}: longest a request queues for a hash slot before it is refused with 503. */
    public record Password(int memoryKib, int iterations, int parallelism, int maxConcurrent, Duration maxWait) {}

    /**
     * Idempotency-Key on POST. {@code lockTimeout}: how long a request in flight holds its key (a
     * retry takes over a key held longer: its node died); {@code maxWait}: how long a retry waits for
     * the request holding its key before it is refused with 409.
     */
    public record Idempotency(Duration lockTimeout, Duration maxWait) {}

    public record Log(Level level, boolean access) {}

    /** {@code token} empty: /metrics is open; else it needs {@code Authorization: Bearer <token>}. */
    public record Metrics(String token) {
        public boolean protectedByToken() {
            return !token.isEmpty();
        }
    }

    /**
     * The operators' listener: {@code port} 0 turns it off; {@code token} empty leaves it open to
     * whoever reaches {@code host:port}.
     */
    public record Admin(String host, int port, String token) {
        public boolean enabled() {
            return port != 0;
        }
    }

    /** The rolling CPU/allocation recording served at /debug/pprof/continuous. */
    public record Profiling(boolean continuous, Duration window, Duration interval) {}

    /**
     * How documents become vectors. {@code provider} is {@code local} (in-process MiniLM) or
     * {@code openai} (any OpenAI-compatible endpoint); {@code workers} 0 means this node embeds
     * nothing (another node does).
     */
    public record Embedding(String provider, int workers, int batchSize, int passageWords, int passageOverlap,
                            int maxAttempts, Duration retryBackoff, Duration pollInterval, Duration lease,
                            OpenAi openai, int slicePassages) {}

    public record OpenAi(String url, String model, String apiKey, Duration timeout, int maxRetries,
                         Duration retryBackoff, int maxConcurrent) {}

    /** {@code index} is {@code hnsw} or {@code ivfflat}; only the chosen one's settings apply. */
    public record Search(String index, Hnsw hnsw, IvfFlat ivfflat, int exactThreshold, int maxScanTuples,
                         int rrfK, int queryEmbedConcurrency, Duration queryVectorTtl, boolean cacheResults,
                         Duration queryEmbedTimeout, int queryEmbedQueue) {}

    public record Hnsw(int m, int efConstruction, int efSearch) {}

    public record IvfFlat(int lists, int probes) {}

    /**
     * The run executor. {@code workers}: steps this node runs at once (0: it runs none);
     * {@code maxRunningPerOrg}: steps of one organization running at once across all nodes;
     * {@code maxQueuedPerOrg}: runs of one organization waiting to start (429 beyond it);
     * {@code lease}: a claimed step not renewed for this long is run again by another node;
     * {@code poolConnections}: the executor's own connections, apart from the requests' pool.
     */
    public record Workflows(int workers, int poolConnections, int maxRunningPerOrg, int maxQueuedPerOrg, Duration lease,
                            Duration pollInterval, Duration defaultStepTimeout, Http http, Summarize summarize) {}

    /** The {@code http} tool: addresses in {@code allow} are reachable even if private or loopback. */
    public record Http(java.util.List<Cidr> allow, Duration timeout, long maxResponseBytes) {
        public Http {
            allow = java.util.List.copyOf(allow);
        }
    }

    /** The {@code summarize} tool: empty {@code url} means extractive summaries, in process. */
    public record Summarize(String url, String model, String apiKey, Duration timeout) {
        public boolean remote() {
            return !url.isBlank();
        }
    }

    /**
     * Bounds on one GraphQL request, checked before any resolver runs: {@code maxQueryCharacters}
     * and {@code maxQueryTokens} stop the parser; {@code maxDepth} (nested fields) and
     * {@code maxFields} (fields in the document, fragments counted where spread) are validation
     * rules; {@code maxComplexity} bounds the work: each field costs 1 plus its children's cost,
     * times its {@code limit} argument for lists. {@code persistedQueries}: parsed documents kept
     * for Automatic Persisted Queries on this node.
     */
    public record Graphql(int maxQueryCharacters, int maxQueryTokens, int maxDepth, int maxFields,
                          int maxComplexity, int persistedQueries) {}
}
