package ai.arches.admin.pprof;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

import one.proto.Proto;

/**
 * One profile in Go's format (github.com/google/pprof, proto/profile.proto), built sample by
 * sample and written gzipped, as Go's /debug/pprof handlers serve it. Frames are already
 * symbolized (a function name and a line), so the single mapping says so and `go tool pprof`
 * never asks this server for symbols. Not thread-safe: one request builds one profile.
 */
final class Pprof {
    record ValueType(String type, String unit) {}

    /** One frame: a Java method ({@code pkg.Class.method}), a class, or a native symbol; line 0 when unknown. */
    record Frame(String function, int line) {}

    // profile.proto field numbers
    private static final int SAMPLE_TYPE = 1, SAMPLE = 2, MAPPING = 3, LOCATION = 4, FUNCTION = 5,
            STRING_TABLE = 6, TIME_NANOS = 9, DURATION_NANOS = 10, PERIOD_TYPE = 11, PERIOD = 12,
            COMMENT = 13, DEFAULT_SAMPLE_TYPE = 14;

    private final List<ValueType> sampleTypes;
    private final Proto samples = new Proto(64 * 1024);
    private final Proto sample = new Proto(256);
    private final Map<String, Integer> strings = new LinkedHashMap<>();
    private final Map<String, Integer> functions = new LinkedHashMap<>();
    private final Map<Frame, Integer> locations = new HashMap<>();
    private final Proto locationTable = new Proto(16 * 1024);
    private final ValueType periodType;
    private final long period;
    private final String comment;

    /** {@code comment} names the engine, so a reader of the file knows how it was made. */
    Pprof(List<ValueType> sampleTypes, ValueType periodType, long period, String comment) {
        this.sampleTypes = List.copyOf(sampleTypes);
        this.periodType = periodType;
        this.period = period;
        this.comment = comment;
        string(""); // string_table[0] must be ""
    }

    /** Adds a sample; {@code frames} start at the leaf, {@code values} follow the sample types. */
    void add(List<Frame> frames, long... values) {
        if (values.length != sampleTypes.size()) {
            throw new IllegalArgumentException(values.length + " values for " + sampleTypes.size() + " sample types");
        }
        sample.reset();
        long ids = sample.startField(1, 3);
        for (Frame f : frames) {
            sample.writeLong(location(f));
        }
        sample.commitField(ids);
        long packed = sample.startField(2, 2);
        for (long v : values) {
            sample.writeLong(v);
        }
        sample.commitField(packed);
        samples.field(SAMPLE, sample);
    }

    /** The gzipped protobuf; {@code startNanos} is wall-clock time since the epoch. */
    byte[] gzipped(long startNanos, long durationNanos) {
        // Every string gets its index before the string table is written; field order is free.
        Proto head = new Proto(256);
        for (ValueType t : sampleTypes) {
            head.field(SAMPLE_TYPE, valueType(t));
        }
        // One mapping standing for the JVM, marked symbolized (has_functions, has_line_numbers).
        head.field(MAPPING, new Proto(32).field(1, 1L).field(2, 0L).field(3, Long.MAX_VALUE)
                .field(5, (long) string("jvm")).field(7, 1).field(9, 1));
        head.field(TIME_NANOS, startNanos).field(DURATION_NANOS, durationNanos)
                .field(PERIOD_TYPE, valueType(periodType)).field(PERIOD, period)
                .field(COMMENT, (long) string(comment))
                .field(DEFAULT_SAMPLE_TYPE, (long) string(sampleTypes.getLast().type()));
        Proto functionTable = new Proto(functions.size() * 16 + 16);
        Proto fn = new Proto(32);
        for (Map.Entry<String, Integer> e : functions.entrySet()) {
            long name = string(e.getKey());
            fn.reset();
            functionTable.field(FUNCTION, fn.field(1, (long) e.getValue()).field(2, name).field(3, name));
        }
        Proto stringTable = new Proto(strings.size() * 48 + 16);
        for (String s : strings.keySet()) {
            stringTable.field(STRING_TABLE, s);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(
                (head.size() + samples.size() + locationTable.size() + functionTable.size() + stringTable.size()) / 4 + 64);
        try (GZIPOutputStream gz = new GZIPOutputStream(out, 8192)) {
            for (Proto part : List.of(head, samples, locationTable, functionTable, stringTable)) {
                gz.write(part.buffer(), 0, part.size());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // in memory: cannot happen
        }
        return out.toByteArray();
    }

    private long location(Frame f) {
        Integer id = locations.get(f);
        if (id == null) {
            id = locations.size() + 1;
            locations.put(f, id);
            Proto line = new Proto(16).field(1, (long) function(f.function())).field(2, (long) f.line());
            locationTable.field(LOCATION, new Proto(32).field(1, (long) id).field(2, 1L).field(4, line));
        }
        return id;
    }

    private int function(String name) {
        Integer id = functions.get(name);
        if (id == null) {
            id = functions.size() + 1;
            functions.put(name, id);
        }
        return id;
    }

    private int string(String s) {
        Integer i = strings.get(s);
        if (i == null) {
            i = strings.size();
            strings.put(s, i);
        }
        return i;
    }

    private Proto valueType(ValueType t) {
        return new Proto(16).field(1, (long) string(t.type())).field(2, (long) string(t.unit()));
    }
}
