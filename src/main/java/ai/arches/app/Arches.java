package ai.arches.app;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.logging.Logger;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import ai.arches.admin.AdminRoutes;
import ai.arches.admin.database.DatabaseReports;
import ai.arches.admin.pprof.Profiles;
import ai.arches.auth.ApiKeys;
import ai.arches.auth.Auth;
import ai.arches.auth.AuthGraph;
import ai.arches.auth.AuthRoutes;
import ai.arches.auth.Guard;
import ai.arches.auth.Principal;
import ai.arches.auth.Role;
import ai.arches.auth.Tokens;
import ai.arches.cache.Caches;
import ai.arches.common.Cursors;
import ai.arches.common.NotFoundException;
import ai.arches.config.ArchesConfig;
import ai.arches.config.Cidr;
import ai.arches.content.ContentGraph;
import ai.arches.content.ContentRoutes;
import ai.arches.content.Contents;
import ai.arches.content.EmbeddingWorker;
import ai.arches.content.Search;
import ai.arches.content.SearchRoutes;
import ai.arches.content.VectorIndex;
import ai.arches.embedding.Embedder;
import ai.arches.embedding.LocalMiniLm;
import ai.arches.embedding.OpenAiEmbedder;
import ai.arches.embedding.Passages;
import ai.arches.db.Database;
import ai.arches.db.Migrations;
import ai.arches.db.ReadYourWrites;
import ai.arches.db.Replicas;
import ai.arches.db.ReplicationLag;
import ai.arches.graphql.Graphql;
import ai.arches.graphql.GraphqlRoutes;
import ai.arches.http.ApiRouter;
import ai.arches.http.ClientAddresses;
import ai.arches.http.Json;
import ai.arches.http.JsonIo;
import ai.arches.http.Problems;
import ai.arches.http.StaticAssets;
import ai.arches.http.TransportProblems;
import ai.arches.http.UnknownProtocol;
import ai.arches.idempotency.Idempotency;
import ai.arches.observability.AccessLog;
import ai.arches.observability.Metrics;
import ai.arches.observability.OpsRoutes;
import ai.arches.observability.RequestObserver;
import ai.arches.organizations.Access;
import ai.arches.organizations.OrgGuard;
import ai.arches.organizations.OrganizationGraph;
import ai.arches.organizations.OrganizationRoutes;
import ai.arches.ratelimit.RateLimiter;
import ai.arches.organizations.Organizations;
import ai.arches.workflows.Executor;
import ai.arches.workflows.RunRoutes;
import ai.arches.workflows.Runs;
import ai.arches.workflows.WorkflowGraph;
import ai.arches.workflows.WorkflowRoutes;
import ai.arches.workflows.Workflows;
import ai.arches.workflows.tools.Toolbox;

import io.helidon.common.socket.SocketOptions;
import io.helidon.http.Status;
import io.helidon.http.encoding.ContentEncodingContext;
import io.helidon.webserver.ErrorHandling;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.WebServerConfig;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http1.Http1Config;

/**
 * Builds the running platform from a validated config: metrics, pool, migrations, Redis probe,
 * features, routes, server. Owns everything it builds and closes it in reverse order.
 */
public final class Arches implements AutoCloseable {
    public static final String API_BASE = "/api/v1";
    /** The operators' listener's socket name (admin.host:admin.port). */
    public static final String ADMIN_SOCKET = "admin";
    private static final Logger LOG = Logger.getLogger(Arches.class.getName());
    /** Request line (method, URI, version): longer is 414. Paths and queries here stay far below. */
    private static final int MAX_REQUEST_LINE = 8192;
    /** Whole header block: larger is 431. Tokens and cookies fit many times over. */
    private static final int MAX_HEADERS = 16 * 1024;
    /** Access lines waiting for the writer; past this they are dropped (and counted), never waited for. */
    private static final int ACCESS_LOG_QUEUE = 4096;

    private final Metrics metrics;
    private final Database db;
    private final Caches caches;
    private final WebServer server;
    private final List<ApiRouter.Route> routes;
    private final List<ApiRouter.Route> adminRoutes;
    private final List<AutoCloseable> background;
    private final VectorIndex vectorIndex;
    private final Executor executor;
    private final OpsRoutes ops;
    private final Idempotency idempotency;
    private final Duration drainDelay;

    private Arches(Metrics metrics, Database db, Caches caches, WebServer server, List<ApiRouter.Route> routes,
                   List<ApiRouter.Route> adminRoutes, List<AutoCloseable> background, VectorIndex vectorIndex,
                   Executor executor, OpsRoutes ops, Idempotency idempotency, Duration drainDelay) {
        this.metrics = metrics;
        this.db = db;
        this.caches = caches;
        this.server = server;
        this.routes = routes;
        this.adminRoutes = adminRoutes;
        this.background = background;
        this.vectorIndex = vectorIndex;
        this.executor = executor;
        this.ops = ops;
        this.idempotency = idempotency;
        this.drainDelay = drainDelay;
    }

    public static Arches start(ArchesConfig cfg, Clock clock) {
        Embedder embedder = embedder(cfg.embedding());
        Arches arches = start(cfg, clock, embedder);
        arches.background.addFirst(embedder); // closed last, after the workers that use it
        return arches;
    }

    /** The configured embedding provider (the local model loads in about a second). */
    public static Embedder embedder(ArchesConfig.Embedding cfg) {
        return cfg.provider().equals("openai") ? new OpenAiEmbedder(cfg.openai()) : new LocalMiniLm();
    }

    /** Starts with a given embedder, which the caller owns (tests share one model). */
    public static Arches start(ArchesConfig cfg, Clock clock, Embedder embedder) {
        Metrics metrics = new Metrics();
        Database db = Database.connect(cfg.database(), "arches", metrics.registry(),
                Search.connectionSettings(cfg.search()));
        Caches caches = null;
        List<AutoCloseable> background = new ArrayList<>();
        try {
            if (cfg.database().migrate()) {
                int ran = Migrations.migrate(db.dataSource());
                LOG.info("migrations applied: " + ran);
            }
            db.warnIfAutovacuumOff();
            caches = new Caches(cfg.cache(), cfg.redis(), clock, Json.MAPPER, metrics.registry());
            ReplicationLag.register(db, metrics.registry());
            Replicas replicas = null;
            if (!cfg.database().replicas().isEmpty()) {
                // A position is needed for the lag bound and the monitor's poll; then any replica in use has it.
                ReadYourWrites writes = new ReadYourWrites(caches.redisConnection(), caches.keyPrefix(),
                        cfg.database().replicaMaxLag().plusSeconds(1));
                replicas = new Replicas(db, cfg.database(), writes, metrics.registry());
                background.add(replicas); // closed late: reads use it until the server has stopped
                db.useReplicas(replicas, writes);
            }

            byte[] secret = secret(cfg.auth());
            Tokens tokens = new Tokens(secret, cfg.auth().issuer(), cfg.auth().accessTokenTtl(), clock);
            Cursors cursors = new Cursors(derive(secret, "cursor"), cfg.server().maxPageBytes());
            JsonIo io = new JsonIo(cfg.server().maxBody(), cfg.server().compressionMinSize());
            ApiKeys apiKeys = new ApiKeys(db, tokens, clock, caches, cfg.auth().apiKeyLastUsedInterval());
            background.add(apiKeys); // closed after the workers, while the database is still open
            RateLimiter limiter = new RateLimiter(caches.redisConnection(), cfg.redis().timeout(), caches.keyPrefix(),
                    cfg.rateLimit().syncInterval(), clock);
            limiter.start();
            background.add(limiter);
            Auth auth = new Auth(db, cfg.auth(), tokens, apiKeys, clock, caches, limiter, cfg.rateLimit(),
                    metrics.registry());
            Organizations orgs = new Organizations(db, auth, apiKeys, cursors, clock, caches);
            Passages passages = new Passages(cfg.embedding().passageWords(), cfg.embedding().passageOverlap());
            Contents contents = new Contents(db, cursors, clock, caches, passages);
            VectorIndex vectorIndex = VectorIndex.ensure(db.dataSource(), cfg.search());
            Search search = new Search(db, embedder, caches, cfg.search(), cfg.server().maxPageBytes());
            background.add(search);
            background.add(new EmbeddingWorker(contents, embedder, passages, cfg.embedding(), metrics.registry()));
            Toolbox toolbox = new Toolbox(contents, search, passages, cfg.workflows(), Json.MAPPER);
            background.add(toolbox);
            Workflows workflows = new Workflows(db, cursors, clock, toolbox, caches);
            // The executor's writes (claims, step ends, reclaims) do not wait for the WAL flush: lost
            // in a PostgreSQL crash they are redone (a claimed step is still due; an ended one runs
            // out its lease and runs again; the tools that write are idempotent per run and node).
            // Run starts go through the requests' pool and keep synchronous commit, so a run a
            // client was told about is never lost. Measured: WAL flushes (IO/WALSync, LWLock/WALWrite)
            // were what the executor waited on.
            Database runDb = Database.connect(executorDatabase(cfg), "arches-workflows", metrics.registry(),
                    Map.of("synchronous_commit", "off"));
            background.add(runDb); // closed after the executor (closed in reverse order)
            Executor executor = new Executor(runDb, toolbox, cfg.workflows(), cfg.database(), clock,
                    (org, by) -> runAccess(orgs, org, by), metrics.registry());
            background.add(executor); // closed before the toolbox and the pool its steps use
            Runs runs = new Runs(db, workflows, executor, cursors, clock, cfg.workflows());
            background.add(runs); // closed before the executor

            Map<String, Supplier<OpsRoutes.Health>> checks = new LinkedHashMap<>();
            Duration pingTimeout = Duration.ofSeconds(2);
            checks.put("postgres", () -> db.ping(pingTimeout) ? OpsRoutes.Health.UP : OpsRoutes.Health.DOWN);
            if (cfg.redis().enabled()) {
                // Without Redis the node still serves every request from PostgreSQL: degraded, not down.
                Caches c = caches;
                checks.put("redis", () -> c.redisHealth().equals("up") ? OpsRoutes.Health.UP : OpsRoutes.Health.DEGRADED);
            }
            if (replicas != null) {
                // Reads a replica cannot take go to the primary: degraded, not down.
                Replicas r = replicas;
                checks.put("replica", () -> r.allHealthy() ? OpsRoutes.Health.UP : OpsRoutes.Health.DEGRADED);
            }
            OpsRoutes ops = new OpsRoutes(metrics, checks, cfg.metrics().token());
            byte[] openapi = resource("/openapi.json");

            AccessLog accessLog = null;
            if (cfg.log().access()) {
                // Lines go where the ConsoleHandler writes; closed after the server stops, so it flushes every request's line.
                accessLog = new AccessLog(System.err, ACCESS_LOG_QUEUE, clock, metrics.registry());
                background.add(accessLog);
            }
            HttpRouting.Builder routing = HttpRouting.builder();
            routing.addFilter(new RequestObserver(metrics, accessLog));
            List<Cidr> proxies = cfg.server().trustedProxies();
            routing.addFilter(new ClientAddresses(a -> proxies.stream().anyMatch(c -> c.contains(a)), !proxies.isEmpty()));
            ApiRouter router = new ApiRouter(routing);
            router.get("/health", ops::health);
            router.get("/ready", ops::ready);
            router.get("/metrics", ops::metrics);
            router.get(API_BASE + "/openapi.json",
                    (req, res) -> io.write(req, res, Status.OK_200, JsonIo.JSON, openapi));
            // Kept responses are sealed under a key of their own, the same on every node that shares the secret.
            Idempotency idempotency = new Idempotency(db, io, derive(secret, "idempotency"), cfg.idempotency(), clock,
                    metrics.registry());
            background.add(idempotency);
            // Identity is resolved once per request, by these wrappers, and handed to the handlers
            // (a POST with Idempotency-Key through Idempotency first).
            Guard guard = new Guard(auth, idempotency);
            OrgGuard orgGuard = new OrgGuard(guard, orgs);
            // Helidon tries routes in registration order, a regular expression per templated route:
            // the busiest templates (content, search) go first, ahead of the organization routes.
            new AuthRoutes(auth, guard, io).register(router, API_BASE);
            new ContentRoutes(contents, orgGuard, io).register(router, API_BASE);
            new SearchRoutes(search, orgGuard, io).register(router, API_BASE);
            new OrganizationRoutes(orgs, guard, orgGuard, apiKeys, cursors, io, clock).register(router, API_BASE);
            new WorkflowRoutes(workflows, orgGuard, io).register(router, API_BASE);
            new RunRoutes(runs, orgGuard, io).register(router, API_BASE);
            // The console, /docs and /graphiql: pages, not API routes, so not through the ApiRouter.
            StaticAssets web = StaticAssets.fromClasspath();
            if (!web.built()) {
                LOG.info("web console assets not built (make build builds them): /, /docs and /graphiql answer 503");
            }
            web.register(routing);
            // One schema from the features' pieces; the same wrapper as REST authenticates and rate-limits.
            Graphql graphql = new Graphql(List.of(
                    AuthGraph.piece(auth),
                    OrganizationGraph.piece(orgs, orgGuard),
                    ContentGraph.piece(contents, search, orgGuard),
                    WorkflowGraph.piece(workflows, runs, orgGuard)), cfg.graphql());
            new GraphqlRoutes(graphql, io).register(router, API_BASE, h -> guard.caller(h::handle));
            Problems.register(routing, io, router);

            WebServerConfig.Builder builder = WebServer.builder();
            List<ApiRouter.Route> adminRoutes = List.of();
            if (cfg.admin().enabled()) {
                Profiles profiles = new Profiles(cfg.profiling());
                background.add(profiles);
                AdminRoutes admin = AdminRoutes.of(cfg.admin(), io, profiles, new DatabaseReports(db, cfg, runDb));
                adminRoutes = admin.routes();
                builder.putSocket(ADMIN_SOCKET, s -> s.host(cfg.admin().host()).port(cfg.admin().port())
                        .routing(admin.routing()));
            }
            WebServer server = builder
                    .host(cfg.server().host())
                    .port(cfg.server().port())
                    .backlog(8192)
                    // Helidon leaves Nagle on: a response written as headers then body waited for
                    // the client's delayed ACK, 40 ms each (cached searches: 1,453 req/s at 64
                    // connections with p50 44 ms, though each took about a millisecond).
                    .connectionOptions(SocketOptions.builder().tcpNoDelay(true).build())
                    .shutdownHook(false)
                    // Requests in flight when the node stops get this long to finish.
                    .shutdownGracePeriod(cfg.server().shutdownGrace())
                    // Compression is JsonIo's (size-aware); no encoder here.
                    .contentEncoding(ContentEncodingContext.builder().contentEncodingsDiscoverServices(false).build())
                    // Limits Helidon enforces before routing, answered as problem+json. The payload
                    // limit sits a little above server.max_body, so JsonIo's 413 answers near it.
                    .addProtocol(Http1Config.builder()
                            .maxPrologueLength(MAX_REQUEST_LINE)
                            .maxHeadersSize(MAX_HEADERS)
                            // Request headers stay validated. Response headers are all the
                            // platform's own (constants, numbers, UUIDs, request ids RequestId
                            // checked): re-validating each on every response cost 6% of a
                            // cached read's CPU (JFR, 44k req/s).
                            .validateResponseHeaders(false)
                            .build())
                    .maxPayloadSize(cfg.server().maxBody() + 1024)
                    .directHandlers(TransportProblems.handlers())
                    .addConnectionSelector(new UnknownProtocol(MAX_REQUEST_LINE))
                    // Hands Helidon's message to TransportProblems, which classifies and never sends it.
                    .errorHandling(ErrorHandling.builder().includeEntity(true).build())
                    .routing(routing)
                    .build()
                    .start();
            return new Arches(metrics, db, caches, server, router.routes(), adminRoutes, background, vectorIndex,
                    executor, ops, idempotency, cfg.server().drainDelay());
        } catch (RuntimeException e) {
            closeAll(background);
            if (caches != null) {
                caches.close();
            }
            db.close();
            metrics.close();
            throw e;
        }
    }

    public int port() {
        return server.port();
    }

    /** The admin listener's port; -1 when it is off. */
    public int adminPort() {
        return server.port(ADMIN_SOCKET);
    }

    public Database database() {
        return db;
    }

    public Metrics metrics() {
        return metrics;
    }

    /** Every (method, template) the server serves. */
    public List<ApiRouter.Route> routes() {
        return routes;
    }

    /** Every (method, template) the admin listener serves; empty when it is off. */
    public List<ApiRouter.Route> adminRoutes() {
        return adminRoutes;
    }

    /** This node's workflow executor (tests stop it as if the node were killed). */
    public Executor executor() {
        return executor;
    }

    /** Idempotency-Key on POST (tests sweep expired keys through it). */
    public Idempotency idempotency() {
        return idempotency;
    }

    /** The passage vector index, built in the background at start-up. */
    public VectorIndex vectorIndex() {
        return vectorIndex;
    }

    /**
     * Stops the node without failing a request a balancer sent it: /ready turns 503 at once, the
     * node serves on for {@code server.drain_delay}, then stops accepting and gives requests in
     * flight {@code server.shutdown_grace}; the background work and pools close after them.
     */
    @Override
    public void close() {
        ops.drain();
        if (!drainDelay.isZero()) {
            try {
                Thread.sleep(drainDelay);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        server.stop();
        closeAll(background);
        caches.close();
        db.close();
        metrics.close();
    }

    /** Last started, first closed; one failing close does not keep the others open. */
    private static void closeAll(List<AutoCloseable> items) {
        for (AutoCloseable c : items.reversed()) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.log(java.util.logging.Level.WARNING, "closing " + c.getClass().getSimpleName() + " failed", e);
            }
        }
    }

    /** The database settings with the executor's own, small pool; migrations already ran on the main pool. */
    private static ArchesConfig.Database executorDatabase(ArchesConfig cfg) {
        ArchesConfig.Database d = cfg.database();
        ArchesConfig.Pool p = d.pool();
        int n = cfg.workflows().poolConnections();
        return d.derived(d.url(), new ArchesConfig.Pool(n, Math.min(1, n), p.maxLifetime(), p.idleTimeout(), p.connectionTimeout()));
    }

    /**
     * The rights a run's steps act with: its organization, as the member who started it (or as
     * the API key that did), never above member, whatever the starter's role.
     */
    private static Access runAccess(Organizations orgs, UUID org, UUID startedBy) {
        Principal p = startedBy != null ? new Principal.User(startedBy, null)
                : new Principal.ApiKey(null, org, Role.MEMBER, null);
        return orgs.onBehalf(org, p, Role.MEMBER).orElseThrow(() -> new NotFoundException("organization not found"));
    }

    private static byte[] secret(ArchesConfig.Auth auth) {
        if (!auth.tokenSecret().isEmpty()) {
            return auth.tokenSecret().getBytes(StandardCharsets.UTF_8);
        }
        LOG.warning("auth.token_secret is empty: using a random secret; tokens will not survive a restart "
                + "and other nodes will reject them. Set ARCHES_AUTH_TOKEN_SECRET in production.");
        byte[] b = new byte[32];
        new SecureRandom().nextBytes(b);
        return b;
    }

    /** A separate key per use, so a cursor MAC can never be replayed as a token signature. */
    private static byte[] derive(byte[] secret, String purpose) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            return mac.doFinal(purpose.getBytes(StandardCharsets.UTF_8));
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] resource(String name) {
        try (InputStream in = Arches.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException(name + " missing from the classpath");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
