package ai.arches.admin.pprof;

import java.nio.file.Path;
import java.time.Duration;

import jdk.jfr.Recording;

/**
 * The fallback engine: a Flight Recorder recording with only the events one profile needs. JFR
 * samples at most a few running threads per period, so CPU time is an estimate, and it has no
 * wall-clock sampler nor live-object tracking with allocation sites: those kinds need
 * async-profiler. Recordings of this JVM share event settings, so while one runs a concurrent
 * recording (the continuous one) sees its higher rate too.
 */
final class FlightRecorder implements Recorder {
    private final String why;

    /** {@code why}: why async-profiler is not in use, said in each profile's comment. */
    FlightRecorder(String why) {
        this.why = why;
    }

    @Override
    public String name() {
        return "JDK Flight Recorder (" + why + ")";
    }

    @Override
    public String unsupported(Kind kind) {
        return switch (kind) {
            case WALL, LIVE -> kind.goName() + (kind == Kind.LIVE ? "?seconds" : "")
                    + " needs async-profiler, which is not in use: " + why;
            case CPU, ALLOCS, MUTEX -> null;
        };
    }

    @Override
    public Running start(Kind kind, Path jfr) {
        Recording r = new Recording();
        r.setName("arches-pprof-" + kind.goName());
        switch (kind) {
            case CPU -> r.enable("jdk.ExecutionSample").withPeriod(Duration.ofNanos(kind.interval()));
            // Throttled to a rate rather than every N bytes; alloc_space is JFR's weight estimate.
            case ALLOCS -> r.enable("jdk.ObjectAllocationSample").with("throttle", "300/s");
            case MUTEX -> {
                r.enable("jdk.JavaMonitorEnter").withThreshold(Duration.ofNanos(kind.interval())).withStackTrace();
                r.enable("jdk.ThreadPark").withThreshold(Duration.ofNanos(kind.interval())).withStackTrace();
            }
            case WALL, LIVE -> throw new IllegalArgumentException(unsupported(kind));
        }
        r.start();
        return () -> {
            try (r) {
                r.stop();
                r.dump(jfr);
            }
        };
    }
}
