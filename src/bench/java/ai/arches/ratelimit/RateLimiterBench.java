package ai.arches.ratelimit;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

import ai.arches.cache.Redis;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The per-request budget check every authenticated request pays ({@code RateLimiter.consume}),
 * with Redis up: 4 threads over 10,000 callers, at the production limit (100 per 60 s, where most
 * calls are refused once the bench has run a few seconds) and at a limit never reached. The bench
 * runs its own redis-server, so INFO commandstats counts only this limiter's commands; each
 * iteration prints the Redis commands it cost per consume (commands a script runs included) and,
 * of them, the scripts (round trips that carry a script).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Threads(4)
public class RateLimiterBench {
    private static final int CALLERS = 10_000;
    private static final Duration WINDOW = Duration.ofSeconds(60);

    @Param({"100", "1000000000"})
    public long limit;

    private Process server;
    private Path dir;
    private Redis redis;
    private RedisClient statsClient;
    private StatefulRedisConnection<String, String> stats;
    private RateLimiter limiter;
    private String[] keys;
    private final LongAdder calls = new LongAdder();
    private long[] commandsBefore;

    @Setup(Level.Trial)
    public void setup() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        dir = Files.createTempDirectory("arches-bench-redis");
        server = new ProcessBuilder("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", dir.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("redis.log").toFile()).start();
        String url = "redis://127.0.0.1:" + port;
        statsClient = RedisClient.create(url);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (stats == null) {
            try {
                stats = statsClient.connect();
            } catch (RuntimeException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                LockSupport.parkNanos(20_000_000);
            }
        }
        redis = new Redis(url, Duration.ofMillis(100), "bench", Clock.systemUTC(), m -> { }, s -> { }, () -> { });
        limiter = limiter(redis);
        keys = new String[CALLERS];
        for (int i = 0; i < CALLERS; i++) {
            keys[i] = "user:" + i;
        }
    }

    static RateLimiter limiter(Redis redis) {
        RateLimiter l = new RateLimiter(Optional.of(redis), Duration.ofMillis(100), "bench:", Duration.ofMillis(100),
                Clock.systemUTC());
        l.start();
        return l;
    }

    @Setup(Level.Iteration)
    public void startCounting() {
        calls.reset();
        commandsBefore = commands();
    }

    @TearDown(Level.Iteration)
    public void report() {
        long[] now = commands();
        long commands = now[0] - commandsBefore[0];
        long scripts = now[1] - commandsBefore[1];
        double n = Math.max(1, calls.sum());
        System.out.printf("%n  redis: %d commands (%.4f per consume), of them %d scripts (%.6f per consume), "
                + "over %d consumes%n", commands, commands / n, scripts, scripts / n, calls.sum());
    }

    /**
     * Commands Redis has run (those a script runs count too), except the INFO calls that ask, and
     * of them the scripts (EVAL, EVALSHA).
     */
    private long[] commands() {
        long total = 0;
        long scripts = 0;
        for (String line : stats.sync().info("commandstats").split("\r?\n")) {
            if (line.startsWith("cmdstat_") && !line.startsWith("cmdstat_info:")) {
                int from = line.indexOf("calls=") + 6;
                long calls = Long.parseLong(line.substring(from, line.indexOf(',', from)));
                total += calls;
                if (line.startsWith("cmdstat_eval")) {
                    scripts += calls;
                }
            }
        }
        return new long[] {total, scripts};
    }

    @TearDown(Level.Trial)
    public void close() throws Exception {
        limiter.close();
        redis.close();
        stats.close();
        statsClient.shutdown();
        server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Benchmark
    public boolean consume() {
        calls.increment();
        String key = keys[ThreadLocalRandom.current().nextInt(CALLERS)];
        return limiter.consume(key, limit, WINDOW).allowed();
    }
}
