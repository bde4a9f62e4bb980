package ai.arches.admin.pprof;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPInputStream;

/**
 * A pprof profile read back from its gzipped protobuf with a protobuf reader of its own (it shares
 * no code with the writer it checks): sample types as {@code type/unit}, samples with their
 * function names from the leaf, the comments and the period.
 */
record PprofFile(List<String> sampleTypes, List<Sample> samples, List<String> comments, String periodType,
                 long period, String defaultSampleType) {

    record Sample(List<String> functions, List<Long> values) {}

    /** Every function name that appears in a sample. */
    Set<String> functions() {
        Set<String> out = new LinkedHashSet<>();
        samples.forEach(s -> out.addAll(s.functions()));
        return out;
    }

    /** The sum of one sample type's values over samples whose stack has a function containing {@code part}. */
    long total(String sampleType, String part) {
        int i = sampleTypes.indexOf(sampleType);
        if (i < 0) {
            throw new AssertionError(sampleType + " not in " + sampleTypes);
        }
        return samples.stream().filter(s -> part.isEmpty() || s.functions().stream().anyMatch(f -> f.contains(part)))
                .mapToLong(s -> s.values().get(i)).sum();
    }

    static PprofFile parse(byte[] gzipped) {
        byte[] raw;
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gzipped))) {
            raw = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("not gzip", e);
        }
        List<long[]> types = new ArrayList<>();
        List<Reader> sampleMessages = new ArrayList<>();
        Map<Long, Long> locationFunction = new HashMap<>(); // location id -> function id (first line)
        Map<Long, Long> functionName = new HashMap<>();
        List<String> strings = new ArrayList<>();
        List<Long> comments = new ArrayList<>();
        long[] periodType = {0, 0};
        long period = 0;
        long defaultType = 0;
        Reader r = new Reader(raw, 0, raw.length);
        while (r.more()) {
            long tag = r.varint();
            int field = (int) (tag >>> 3);
            switch (field) {
                case 1 -> types.add(valueType(r.message()));
                case 2 -> sampleMessages.add(r.message());
                case 4 -> {
                    Reader loc = r.message();
                    long id = 0;
                    long fn = 0;
                    while (loc.more()) {
                        long t = loc.varint();
                        if (t >>> 3 == 1) {
                            id = loc.varint();
                        } else if (t >>> 3 == 4) {
                            Reader line = loc.message();
                            while (line.more()) {
                                long lt = line.varint();
                                long v = line.skipOrVarint(lt);
                                if (lt >>> 3 == 1 && fn == 0) {
                                    fn = v;
                                }
                            }
                        } else {
                            loc.skipOrVarint(t);
                        }
                    }
                    locationFunction.put(id, fn);
                }
                case 5 -> {
                    Reader fn = r.message();
                    long id = 0;
                    long name = 0;
                    while (fn.more()) {
                        long t = fn.varint();
                        long v = fn.skipOrVarint(t);
                        if (t >>> 3 == 1) {
                            id = v;
                        } else if (t >>> 3 == 2) {
                            name = v;
                        }
                    }
                    functionName.put(id, name);
                }
                case 6 -> strings.add(r.string());
                case 11 -> periodType = valueType(r.message());
                case 12 -> period = r.varint();
                case 13 -> comments.add(r.varint());
                case 14 -> defaultType = r.varint();
                default -> r.skipOrVarint(tag);
            }
        }
        List<Sample> samples = new ArrayList<>();
        for (Reader s : sampleMessages) {
            List<Long> locations = new ArrayList<>();
            List<Long> values = new ArrayList<>();
            while (s.more()) {
                long t = s.varint();
                List<Long> into = t >>> 3 == 1 ? locations : t >>> 3 == 2 ? values : null;
                if (into == null) {
                    s.skipOrVarint(t);
                } else if ((t & 7) == 2) {
                    Reader packed = s.message();
                    while (packed.more()) {
                        into.add(packed.varint());
                    }
                } else {
                    into.add(s.varint());
                }
            }
            List<String> functions = locations.stream()
                    .map(l -> strings.get(Math.toIntExact(functionName.get(locationFunction.get(l))))).toList();
            samples.add(new Sample(functions, values));
        }
        return new PprofFile(types.stream().map(t -> strings.get((int) t[0]) + "/" + strings.get((int) t[1])).toList(),
                samples, comments.stream().map(c -> strings.get(Math.toIntExact(c))).toList(),
                strings.get((int) periodType[0]) + "/" + strings.get((int) periodType[1]), period,
                strings.get(Math.toIntExact(defaultType)));
    }

    private static long[] valueType(Reader m) {
        long[] out = {0, 0};
        while (m.more()) {
            long t = m.varint();
            long v = m.skipOrVarint(t);
            if (t >>> 3 == 1) {
                out[0] = v;
            } else if (t >>> 3 == 2) {
                out[1] = v;
            }
        }
        return out;
    }

    /** Protobuf wire format over a byte range. */
    private static final class Reader {
        private final byte[] b;
        private int pos;
        private final int end;

        Reader(byte[] b, int from, int to) {
            this.b = b;
            this.pos = from;
            this.end = to;
        }

        boolean more() {
            return pos < end;
        }

        long varint() {
            long v = 0;
            for (int shift = 0; ; shift += 7) {
                byte x = b[pos++];
                v |= (long) (x & 0x7f) << shift;
                if (x >= 0) {
                    return v;
                }
            }
        }

        Reader message() {
            int len = Math.toIntExact(varint());
            Reader m = new Reader(b, pos, pos + len);
            pos += len;
            return m;
        }

        String string() {
            int len = Math.toIntExact(varint());
            String s = new String(b, pos, len, StandardCharsets.UTF_8);
            pos += len;
            return s;
        }

        /** The value of a varint field; other wire types are skipped (answering 0). */
        long skipOrVarint(long tag) {
            switch ((int) (tag & 7)) {
                case 0 -> {
                    return varint();
                }
                case 1 -> pos += 8;
                case 2 -> {
                    int len = Math.toIntExact(varint()); // read before pos += (which would read pos first)
                    pos += len;
                }
                case 5 -> pos += 4;
                default -> throw new IllegalStateException("wire type " + (tag & 7));
            }
            return 0;
        }
    }
}
