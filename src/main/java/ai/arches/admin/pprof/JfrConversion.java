package ai.arches.admin.pprof;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.AbstractOwnableSynchronizer;

import ai.arches.admin.pprof.Pprof.Frame;

import one.convert.Arguments;
import one.convert.JfrConverter;
import one.jfr.JfrReader;
import one.jfr.StackTrace;
import one.jfr.event.AllocationSample;
import one.jfr.event.ContendedLock;
import one.jfr.event.Event;
import one.jfr.event.LiveObject;

/**
 * Turns the events of one {@link Kind} in a JFR recording into a pprof profile with Go's sample
 * types (jfr-converter's own JfrToPprof writes one value per sample under its own names, which
 * Go's tooling reads but does not recognize as a CPU or heap profile). jfr-converter's reader
 * knows both async-profiler's recordings and the JDK's own, so the fallback engine and the
 * continuous recording go through here too. Method ids are per chunk: each chunk is aggregated
 * by (stack, class) and resolved to names before the next is read.
 */
final class JfrConversion extends JfrConverter {
    private static final String PARK = "jdk.internal.misc.Unsafe.park";

    private record Key(int stackTraceId, long classId) {}

    private final Kind kind;
    private final long interval;
    private final long sinceNanos;
    private final Pprof profile;
    private final Map<Key, long[]> chunk = new HashMap<>();
    /** Blocker class name to whether it is a lock; the same few classes recur. */
    private final Map<String, Boolean> locks = new HashMap<>();

    private JfrConversion(JfrReader jfr, Kind kind, long interval, long sinceNanos, String comment) {
        super(jfr, arguments());
        this.kind = kind;
        this.interval = interval;
        this.sinceNanos = sinceNanos;
        this.profile = kind.newProfile(comment, interval);
    }

    /**
     * The gzipped pprof of {@code kind}'s events in {@code recording} that happened at or after
     * {@code sinceNanos} (epoch nanoseconds; 0 for all), sampled every {@code interval}.
     */
    static byte[] convert(Path recording, Kind kind, long interval, long sinceNanos, String comment) throws IOException {
        try (JfrReader jfr = new JfrReader(recording.toString())) {
            JfrConversion c = new JfrConversion(jfr, kind, interval, sinceNanos, comment);
            c.convert();
            long start = Math.max(jfr.startNanos, sinceNanos);
            return c.profile.gzipped(start, Math.max(0, jfr.endNanos - start));
        }
    }

    private static Arguments arguments() {
        Arguments args = new Arguments();
        args.dot = true;  // ai.arches.Foo.bar, not ai/arches/Foo.bar
        args.norm = true; // one name per lambda, not one per hidden class
        return args;
    }

    @Override
    protected void collectEvents() throws IOException {
        long since = sinceNanos == 0 ? Long.MIN_VALUE
                : (long) ((sinceNanos - jfr.chunkStartNanos) * (jfr.ticksPerSec / 1e9)) + jfr.chunkStartTicks;
        double nanosPerTick = 1e9 / jfr.ticksPerSec;
        for (Event e; (e = jfr.readEvent(kind.event())) != null; ) {
            if (e.time >= since) {
                long[] v = values(e, nanosPerTick);
                chunk.merge(new Key(e.stackTraceId, e.classId()), v, (a, b) -> {
                    a[0] += b[0];
                    a[1] += b[1];
                    return a;
                });
            }
        }
    }

    /** The (count, total) pair Go's sample types want, scaled like Go scales its sampled profiles. */
    private long[] values(Event e, double nanosPerTick) {
        return switch (kind) {
            case CPU, WALL -> new long[] {e.samples(), e.samples() * interval};
            case ALLOCS -> {
                // async-profiler: allocationSize is the object's size and tlabSize the bytes the
                // sample stands for; the JDK's ObjectAllocationSample has only the latter (its weight).
                AllocationSample a = (AllocationSample) e;
                long bytes = a.value();
                yield new long[] {a.tlabSize != 0 && a.allocationSize > 0 ? Math.max(1, bytes / a.allocationSize) : 1, bytes};
            }
            case MUTEX -> new long[] {1, Math.round(((ContendedLock) e).duration * nanosPerTick)};
            case LIVE -> {
                // A sampled live object stands for about one sampling interval of allocation.
                long size = Math.max(1, ((LiveObject) e).allocationSize);
                long bytes = Math.max(size, interval);
                yield new long[] {Math.max(1, bytes / size), bytes};
            }
        };
    }

    @Override
    protected void convertChunk() {
        for (Map.Entry<Key, long[]> e : chunk.entrySet()) {
            StackTrace stack = jfr.stackTraces.get(e.getKey().stackTraceId());
            if (kind == Kind.MUTEX && !contention(e.getKey().classId(), stack)) {
                continue;
            }
            List<Frame> frames = new ArrayList<>();
            if (e.getKey().classId() != 0) {
                // What was allocated or locked, as the leaf (async-profiler's convention).
                frames.add(new Frame(getClassName(e.getKey().classId()), 0));
            }
            if (stack != null) {
                for (int i = 0; i < stack.methods.length; i++) {
                    frames.add(new Frame(getMethodName(stack.methods[i], stack.types[i]), stack.locations[i] >>> 16));
                }
            }
            if (frames.isEmpty()) {
                frames.add(new Frame("[no stack]", 0));
            }
            profile.add(frames, e.getValue());
        }
        chunk.clear();
    }

    /**
     * Whether a lock event is contention. Monitor entries are; a park (jdk.ThreadPark, which JFR
     * records for every wait) is only when its blocker is a lock, an AbstractOwnableSynchronizer
     * such as ReentrantLock's, and not a pool waiting for work or an awaited condition: the filter
     * async-profiler applies to its own park events, which therefore always pass.
     */
    private boolean contention(long classId, StackTrace stack) {
        boolean park = stack != null && stack.methods.length > 0
                && getMethodName(stack.methods[0], stack.types[0]).equals(PARK);
        if (!park) {
            return true;
        }
        return classId != 0 && locks.computeIfAbsent(getClassName(classId), name -> {
            try {
                return AbstractOwnableSynchronizer.class.isAssignableFrom(
                        Class.forName(name, false, ClassLoader.getSystemClassLoader()));
            } catch (ClassNotFoundException | LinkageError ex) {
                return true; // not loadable here: keep rather than hide it
            }
        });
    }
}
