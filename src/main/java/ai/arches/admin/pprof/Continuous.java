package ai.arches.admin.pprof;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

import jdk.jfr.Recording;

/**
 * The always-on recording ({@code profiling.continuous}): Flight Recorder keeps CPU samples taken
 * every {@code profiling.interval} and allocation samples throttled to a few a second, on disk in
 * its repository, for {@code profiling.window}. It is JFR rather than async-profiler so that
 * on-demand profiles, which need async-profiler's one session, still run beside it. A download
 * dumps what JFR holds and keeps only the last window (JFR drops old data a whole chunk at a time).
 */
final class Continuous implements AutoCloseable {
    /** Allocation samples per second: enough to rank allocation sites over minutes, cheap to take. */
    private static final String ALLOCATION_THROTTLE = "20/s";
    /** Disk bound whatever the thread count and window: at this rate a window fits many times over. */
    private static final long MAX_BYTES = 256L * 1024 * 1024;

    private final Recording recording;
    private final Duration window;
    private final Duration interval;

    Continuous(Duration window, Duration interval) {
        this.window = window;
        this.interval = interval;
        recording = new Recording();
        recording.setName("arches-continuous");
        recording.enable("jdk.ExecutionSample").withPeriod(interval);
        recording.enable("jdk.ObjectAllocationSample").with("throttle", ALLOCATION_THROTTLE);
        recording.setToDisk(true);
        recording.setMaxAge(window);
        recording.setMaxSize(MAX_BYTES);
        recording.start();
    }

    Duration window() {
        return window;
    }

    /** The last window as a pprof of {@code kind} (CPU or ALLOCS), ending at {@code now}. */
    byte[] profile(Kind kind, Instant now, String comment) throws IOException {
        Path jfr = Files.createTempFile("arches-continuous-", ".jfr");
        try {
            recording.dump(jfr);
            Instant since = now.minus(window);
            long sinceNanos = since.getEpochSecond() * 1_000_000_000L + since.getNano();
            return JfrConversion.convert(jfr, kind, kind == Kind.CPU ? interval.toNanos() : 0, sinceNanos, comment);
        } finally {
            Files.deleteIfExists(jfr);
        }
    }

    @Override
    public void close() {
        recording.close();
    }
}
