package ai.arches.auth;

import java.util.concurrent.TimeUnit;

import ai.arches.config.ArchesConfig;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The CPU cost of a login or registration: one Argon2id hash or verification at the production
 * cost from arches.yaml (19 MiB, 2 iterations, 1 lane). Each call takes tens of milliseconds,
 * so this samples individual calls and reports their distribution, with few, longer iterations.
 * Single-threaded, so the semaphore in {@link Passwords} is never contended here.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class PasswordBench {
    private static final String PASSWORD = "correct horse battery staple 42";

    private Passwords passwords;
    private String stored;

    @Setup
    public void setup() {
        passwords = new Passwords(new ArchesConfig.Password(19456, 2, 1, 4, java.time.Duration.ofSeconds(2)));
        stored = passwords.hash(PASSWORD);
        if (!passwords.verify(PASSWORD, stored)) {
            throw new IllegalStateException("password fixture does not verify");
        }
    }

    @Benchmark
    public String hash() {
        return passwords.hash(PASSWORD);
    }

    @Benchmark
    public boolean verify() {
        return passwords.verify(PASSWORD, stored);
    }
}
