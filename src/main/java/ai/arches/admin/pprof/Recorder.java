package ai.arches.admin.pprof;

import java.io.IOException;
import java.nio.file.Path;

/**
 * An engine that records a {@link Kind} into a JFR file: async-profiler where its native library
 * loads, else the JVM's own Flight Recorder. Callers run one recording at a time.
 */
sealed interface Recorder permits AsyncRecorder, FlightRecorder {
    /** A recording in progress; {@link #finish()} stops it and completes its file. */
    interface Running {
        void finish() throws IOException;
    }

    /** Written into each profile's comment, so a reader knows how it was made. */
    String name();

    /** Null when this engine records {@code kind}, else why it cannot. */
    String unsupported(Kind kind);

    /** Starts recording {@code kind} into {@code jfr}, an existing empty file. */
    Running start(Kind kind, Path jfr) throws IOException;
}
