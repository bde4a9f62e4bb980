package ai.arches.auth;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import ai.arches.cache.Caches;
import ai.arches.config.ArchesConfig;
import ai.arches.db.Database;
import ai.arches.http.Json;
import ai.arches.ratelimit.RateLimiter;
import ai.arches.testing.TestServer;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What every authenticated request pays before its handler runs: verifying an HS256 access
 * token in memory, and the rejection path for a token whose signature was altered (the verifier
 * throws, {@link Tokens} turns that into empty). Issuing is the per-login/refresh cost.
 *
 * <p>{@code requestJwt} and {@code requestApiKey} measure the whole credential-to-principal step
 * of a request ({@link Auth#principalFor}, rate limit aside) on a warm node: a second node built
 * over a test server's database and Redis, as {@code app.Arches} builds one, so the session and
 * key lookups are the real two-level caches. They need the test PostgreSQL and Redis.
 *
 * <p>Measured on the 2-core dev machine (-f 1 -wi 3 -i 5, noisy): requestJwt 6.17 us/op before
 * VerifiedTokens (a full verification per request), 0.58 after (cache hit plus session check);
 * requestApiKey 0.93 before and after (0.59 on a quieter rerun), of which hashing is 0.17.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class TokenBench {
    private static final byte[] SECRET = "0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8);

    private final UUID userId = UUID.fromString("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b");
    private final UUID sessionId = UUID.fromString("0190a1b2-c3d4-7e5f-8a9b-6c7d8e9fa0b1");
    private Tokens tokens;
    private String validToken;
    private String tamperedToken;

    @Setup
    public void setup() {
        tokens = new Tokens(SECRET, "arches", Duration.ofMinutes(15), Clock.systemUTC());
        validToken = tokens.issueAccess(userId, sessionId);
        // Flip a character in the middle of the signature: the last base64url character carries
        // padding bits a lenient decoder may ignore, so changing it might not change the signature.
        int sig = validToken.lastIndexOf('.') + 1;
        int at = sig + (validToken.length() - sig) / 2;
        char c = validToken.charAt(at);
        tamperedToken = validToken.substring(0, at) + (c == 'A' ? 'B' : 'A') + validToken.substring(at + 1);
        if (tokens.verifyAccess(validToken).isEmpty() || tokens.verifyAccess(tamperedToken).isPresent()) {
            throw new IllegalStateException("token fixtures do not behave as expected");
        }
    }

    @Benchmark
    public Optional<Principal.User> verifyValid() {
        return tokens.verifyAccess(validToken);
    }

    @Benchmark
    public Optional<Principal.User> verifyTampered() {
        return tokens.verifyAccess(tamperedToken);
    }

    @Benchmark
    public String issue() {
        return tokens.issueAccess(userId, sessionId);
    }

    /** The share of {@code requestApiKey} spent hashing the presented key. */
    @Benchmark
    public byte[] hashApiKey(Node node) {
        return Tokens.sha256(node.apiKey);
    }

    @Benchmark
    public Principal requestJwt(Node node) {
        return node.auth.principalFor(node.accessToken);
    }

    @Benchmark
    public Principal requestApiKey(Node node) {
        return node.auth.principalFor(node.apiKey);
    }

    /** A test server that seeds a user, organization and key, and a second node over its data. */
    @State(Scope.Benchmark)
    public static class Node {
        TestServer server;
        Database db;
        Caches caches;
        ApiKeys keys;
        Auth auth;
        String accessToken;
        String apiKey;

        @Setup(Level.Trial)
        public void start() {
            server = TestServer.start();
            var owner = server.api().newUser("Bench");
            String org = server.api().newOrg(owner, "bench");
            apiKey = server.api().post("/api/v1/organizations/" + org + "/api-keys", owner.token(),
                    Map.of("name", "bench", "role", "viewer")).json().get("key").asText();
            accessToken = owner.token();

            ArchesConfig cfg = TestServer.config(server.database(), Map.of());
            var meters = new SimpleMeterRegistry();
            Clock clock = Clock.systemUTC();
            db = Database.connect(cfg.database(), "bench", meters);
            caches = new Caches(cfg.cache(), cfg.redis(), clock, Json.MAPPER, meters);
            Tokens tokens = new Tokens(TestServer.SECRET.getBytes(StandardCharsets.UTF_8), cfg.auth().issuer(),
                    cfg.auth().accessTokenTtl(), clock);
            keys = new ApiKeys(db, tokens, clock, caches, cfg.auth().apiKeyLastUsedInterval());
            auth = new Auth(db, cfg.auth(), tokens, keys, clock, caches,
                    new RateLimiter(caches.redisConnection(), cfg.redis().timeout(), caches.keyPrefix(),
                            cfg.rateLimit().syncInterval(), clock),
                    cfg.rateLimit(), meters);
            if (!(auth.principalFor(accessToken) instanceof Principal.User)
                    || !(auth.principalFor(apiKey) instanceof Principal.ApiKey)) {
                throw new IllegalStateException("credential fixtures do not behave as expected");
            }
        }

        @TearDown(Level.Trial)
        public void stop() {
            keys.close();
            caches.close();
            db.close();
            server.close();
        }
    }
}
