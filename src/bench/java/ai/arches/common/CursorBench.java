package ai.arches.common;

import java.time.Instant;
import java.util.Random;
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
 * Keyset cursor handling paid on every list request: making the next cursor (an HMAC-SHA256 over
 * scope and position), checking one a client sent back, and the whole {@code ?limit=&cursor=}
 * parse. Each call builds a fresh {@code Mac}, so that cost is part of what is measured.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class CursorBench {
    private Cursors cursors;
    private String scope;
    private Cursors.Position position;
    private String cursor;

    @Setup
    public void setup() {
        byte[] secret = new byte[32];
        new Random(7).nextBytes(secret);
        cursors = new Cursors(secret, 1 << 20);
        // The shape Contents.list uses: feature, organization, optional tag filter.
        scope = "content:0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b:quarterly";
        position = new Cursors.Position(Instant.parse("2026-01-15T09:30:00.123456Z"),
                UUID.fromString("0190a1b2-c3d4-7e5f-8a9b-6c7d8e9fa0b1"));
        cursor = cursors.encode(scope, position);
        if (!cursors.decode(scope, cursor).equals(position)) {
            throw new IllegalStateException("cursor fixture does not round-trip");
        }
    }

    @Benchmark
    public String encode() {
        return cursors.encode(scope, position);
    }

    @Benchmark
    public Cursors.Position decode() {
        return cursors.decode(scope, cursor);
    }

    @Benchmark
    public Cursors.PageRequest request() {
        return cursors.request(scope, "20", cursor);
    }
}
