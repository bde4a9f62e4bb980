package ai.arches.admin.pprof;

import java.util.List;

import ai.arches.admin.pprof.Pprof.ValueType;

import one.jfr.event.AllocationSample;
import one.jfr.event.ContendedLock;
import one.jfr.event.Event;
import one.jfr.event.ExecutionSample;
import one.jfr.event.LiveObject;

/**
 * The profiles recorded for a number of seconds, by their Go name ({@code /debug/pprof/NAME}),
 * with the sample types Go's tooling expects and the sampling period each is recorded at.
 */
enum Kind {
    CPU("profile", "CPU profile: where this JVM spends CPU time, sampled every 10 ms.",
            ExecutionSample.class, 10_000_000L,
            new ValueType("samples", "count"), new ValueType("cpu", "nanoseconds"), new ValueType("cpu", "nanoseconds")),
    WALL("wall", "Wall-clock profile: where threads spend time, running or waiting, sampled every 50 ms.",
            ExecutionSample.class, 50_000_000L,
            new ValueType("samples", "count"), new ValueType("wall", "nanoseconds"), new ValueType("wall", "nanoseconds")),
    ALLOCS("allocs", "Allocations made while recording, sampled every 512 KiB.",
            AllocationSample.class, 512 * 1024L,
            new ValueType("alloc_objects", "count"), new ValueType("alloc_space", "bytes"), new ValueType("space", "bytes")),
    MUTEX("mutex", "Holders of contended locks: time threads waited to enter a monitor or a lock.",
            ContendedLock.class, 10_000L,
            new ValueType("contentions", "count"), new ValueType("delay", "nanoseconds"), new ValueType("contentions", "count")),
    /** heap?seconds=N: objects allocated while recording that are still live at its end. */
    LIVE("heap", "Live objects: without seconds, every live object by class (forces a full GC); "
            + "with seconds=N, objects allocated in those seconds and still live, by allocation site.",
            LiveObject.class, 512 * 1024L,
            new ValueType("inuse_objects", "count"), new ValueType("inuse_space", "bytes"), new ValueType("space", "bytes"));

    private final String goName;
    private final String description;
    private final Class<? extends Event> event;
    /** Sampling period in the period type's unit (nanoseconds or bytes); for MUTEX the lock threshold in ns. */
    private final long interval;
    private final List<ValueType> sampleTypes;
    private final ValueType periodType;

    Kind(String goName, String description, Class<? extends Event> event, long interval, ValueType count,
         ValueType total, ValueType periodType) {
        this.goName = goName;
        this.description = description;
        this.event = event;
        this.interval = interval;
        this.sampleTypes = List.of(count, total);
        this.periodType = periodType;
    }

    String goName() {
        return goName;
    }

    String description() {
        return description;
    }

    Class<? extends Event> event() {
        return event;
    }

    long interval() {
        return interval;
    }

    String filename() {
        return goName + ".pb.gz";
    }

    /** An empty profile of this kind sampled every {@code interval}; MUTEX counts contentions, so its period is 1. */
    Pprof newProfile(String comment, long interval) {
        return new Pprof(sampleTypes, periodType, this == MUTEX ? 1 : interval, comment);
    }
}
