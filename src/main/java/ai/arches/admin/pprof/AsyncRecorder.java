package ai.arches.admin.pprof;

import java.io.IOException;
import java.nio.file.Path;

import ai.arches.common.ConflictException;

import one.profiler.AsyncProfiler;

/**
 * async-profiler, loaded from the native library inside its jar. It is one per process: a second
 * start while one runs (here, or by anyone else in this JVM) fails, and is answered 409.
 */
final class AsyncRecorder implements Recorder {
    private final AsyncProfiler profiler;
    private final String version;

    private AsyncRecorder(AsyncProfiler profiler, String version) {
        this.profiler = profiler;
        this.version = version;
    }

    /** Loads the native library; throws (an Error, often) where it cannot: another OS, a musl libc, no /tmp exec. */
    static AsyncRecorder load() {
        AsyncProfiler p = AsyncProfiler.getInstance();
        return new AsyncRecorder(p, p.getVersion());
    }

    @Override
    public String name() {
        return "async-profiler " + version;
    }

    @Override
    public String unsupported(Kind kind) {
        return null;
    }

    @Override
    public Running start(Kind kind, Path jfr) throws IOException {
        String events = switch (kind) {
            case CPU -> "event=cpu,interval=" + kind.interval();
            case WALL -> "event=wall,interval=" + kind.interval();
            case ALLOCS -> "alloc=" + kind.interval();
            case LIVE -> "alloc=" + kind.interval() + ",live";
            case MUTEX -> "lock=" + kind.interval();
        };
        try {
            profiler.execute("start," + events + ",jfr,file=" + jfr);
        } catch (IllegalStateException e) {
            throw new ConflictException("async-profiler is already recording in this JVM: " + e.getMessage());
        }
        if (kind == Kind.LIVE) {
            // async-profiler drops a sampled object when its weak reference is cleared: without a
            // collection first, garbage not yet collected would count as live (a whole heap's worth).
            return () -> {
                System.gc();
                profiler.execute("stop");
            };
        }
        return () -> profiler.execute("stop");
    }
}
