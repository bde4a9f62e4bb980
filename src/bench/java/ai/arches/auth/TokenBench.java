package ai.arches.auth;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

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
 * What every authenticated request pays before its handler runs: verifying an HS256 access
 * token in memory, and the rejection path for a token whose signature was altered (the verifier
 * throws, {@link Tokens} turns that into empty). Issuing is the per-login/refresh cost.
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
}
