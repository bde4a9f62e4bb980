package ai.arches.admin.pprof;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import ai.arches.admin.pprof.Pprof.Frame;
import ai.arches.admin.pprof.Pprof.ValueType;
import ai.arches.http.Json;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.management.HotSpotDiagnosticMXBean;

/**
 * Thread dumps in the JDK's JSON format, which unlike jstack's lists virtual threads (grouped by
 * the executor or scope that started them), and Go's goroutine profile made from one: a sample per
 * distinct stack, counting the threads on it.
 */
final class ThreadDump {
    private static final ValueType GOROUTINES = new ValueType("goroutine", "count");

    private final HotSpotDiagnosticMXBean diagnostics = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);

    /** The dump as JSON. The JDK writes it only to a file that does not exist yet: a private temp dir's. */
    byte[] json() throws IOException {
        Path dir = Files.createTempDirectory("arches-threads-");
        Path file = dir.resolve("threads.json");
        try {
            diagnostics.dumpThreads(file.toString(), HotSpotDiagnosticMXBean.ThreadDumpFormat.JSON);
            return Files.readAllBytes(file);
        } finally {
            Files.deleteIfExists(file);
            Files.delete(dir);
        }
    }

    /** Go's goroutine profile (goroutine/count) of every thread, virtual ones included. */
    byte[] goroutines(String comment) throws IOException {
        JsonNode dump = Json.MAPPER.readTree(json()).path("threadDump");
        Map<List<Frame>, Long> stacks = new LinkedHashMap<>();
        for (JsonNode container : dump.path("threadContainers")) {
            for (JsonNode thread : container.path("threads")) {
                List<Frame> frames = new ArrayList<>();
                for (JsonNode f : thread.path("stack")) {
                    frames.add(frame(f.asText()));
                }
                if (frames.isEmpty()) {
                    frames.add(new Frame("[no stack]", 0));
                }
                stacks.merge(frames, 1L, Long::sum);
            }
        }
        Pprof profile = new Pprof(List.of(GOROUTINES), GOROUTINES, 1, comment);
        stacks.forEach((frames, count) -> profile.add(frames, count));
        Instant time = Instant.parse(dump.path("time").asText());
        return profile.gzipped(time.getEpochSecond() * 1_000_000_000L + time.getNano(), 0);
    }

    /**
     * A frame as StackTraceElement prints it: {@code [loader/][module@version/]pkg.Class.method(File.java:12)}.
     * A hidden class's name has a slash too ({@code Foo$$Lambda/0x0000…}), followed by 0x.
     */
    static Frame frame(String s) {
        int paren = s.indexOf('(');
        String method = paren < 0 ? s : s.substring(0, paren);
        int start = 0;
        for (int slash = method.indexOf('/'); slash >= 0; slash = method.indexOf('/', slash + 1)) {
            if (!method.startsWith("0x", slash + 1)) {
                start = slash + 1;
            }
        }
        int line = 0;
        int colon = s.lastIndexOf(':');
        if (paren >= 0 && colon > paren && s.endsWith(")")) {
            try {
                line = Integer.parseInt(s.substring(colon + 1, s.length() - 1));
            } catch (NumberFormatException e) {
                line = 0; // "(Native Method)", "(Unknown Source)"
            }
        }
        return new Frame(method.substring(start), line);
    }
}
