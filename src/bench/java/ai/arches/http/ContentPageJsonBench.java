package ai.arches.http;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import ai.arches.common.Page;
import ai.arches.content.Content;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
 * The cost of answering {@code GET /content} with a full page of 20 documents: Jackson
 * serialization of the records, the {@code ?fields=id,title} path (tree conversion, retain,
 * re-serialize, as {@code JsonIo.select} does it), and compressing the full body with gzip and
 * brotli at the levels {@link Compression} uses. The page is deterministic (fixed seed, ids and
 * times) so runs compare.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class ContentPageJsonBench {
    private static final String[] WORDS = ("the of and to in is that for it as with was on be by this are from at or "
            + "an which have not has but all their can were more one its been also when there will into other may "
            + "document search vector index embedding query model workflow organization member access token "
            + "retrieval ranking similarity latency throughput cache database schema migration pipeline request "
            + "response result summary report policy customer product quarterly revenue forecast analysis support "
            + "knowledge article guide release feature deployment monitoring incident review process team project").split(" ");

    private Page<Content> page;
    private Set<String> fields;
    private Compression compression;
    private byte[] pageBytes;

    @Setup
    public void setup() throws IOException {
        Random rnd = new Random(42);
        UUID org = new UUID(0x0190_0000_0000_7000L, 0x8000_0000_0000_0001L);
        UUID author = new UUID(0x0190_0000_0000_7000L, 0x8000_0000_0000_0002L);
        Instant t0 = Instant.parse("2026-01-15T09:30:00.123456Z");
        List<Content> items = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            ObjectNode metadata = Json.MAPPER.createObjectNode();
            metadata.put("source", "confluence");
            metadata.put("language", "en");
            metadata.put("wordCount", 230 + i);
            metadata.putArray("authors").add("Dana Whitfield").add("R. Okafor");
            Instant created = t0.minusSeconds(3_600L * i);
            items.add(new Content(
                    new UUID(0x0190_0000_0000_7000L | i, 0x8000_0000_0000_1000L + i),
                    org,
                    capitalize(text(rnd, 60)),
                    text(rnd, 1_500),
                    "document",
                    "text/markdown",
                    List.of(WORDS[41 + i % 19], WORDS[60 + i % 20], "q" + (1 + i % 4) + "-2026"),
                    metadata,
                    "ready",
                    author,
                    created,
                    created.plusSeconds(90)));
        }
        page = new Page<>(List.copyOf(items), "AZAAAAAAcAAAgAAAAAAQAA-3q2-7kn7kDj0vK1pT");
        fields = new LinkedHashSet<>(List.of("id", "title"));
        compression = new Compression();
        pageBytes = Json.MAPPER.writeValueAsBytes(page);
        System.out.printf("page: %d bytes JSON, %d gzip, %d br, %d with fields=id,title%n", pageBytes.length,
                compression.encode(Compression.GZIP, pageBytes).length,
                compression.encode(Compression.BROTLI, pageBytes).length, selectIdTitle().length);
    }

    @Benchmark
    public byte[] serializePage() throws IOException {
        return Json.MAPPER.writeValueAsBytes(page);
    }

    /**
     * A cached read's body: one document (the page's first), as the hot path writes it. About
     * 8 µs; Jackson's Blackbird module (generated accessors instead of reflection) measured the
     * same (8.2 against 7.7 µs, page 193 against 191), so it is not used.
     */
    @Benchmark
    public byte[] serializeOne() throws IOException {
        return Json.MAPPER.writeValueAsBytes(page.data().getFirst());
    }

    /** {@code ?fields=id,title}: the lines of {@code JsonIo.select} (private there), then serialization. */
    @Benchmark
    public byte[] selectIdTitle() throws IOException {
        ObjectNode out = Json.MAPPER.createObjectNode();
        ArrayNode data = out.putArray("data");
        for (Object item : page.data()) {
            ObjectNode node = Json.MAPPER.valueToTree(item);
            node.retain(fields);
            data.add(node);
        }
        out.put("nextCursor", page.nextCursor());
        return Json.MAPPER.writeValueAsBytes(out);
    }

    @Benchmark
    public byte[] gzipPage() {
        return compression.encode(Compression.GZIP, pageBytes);
    }

    @Benchmark
    public byte[] brotliPage() {
        return compression.encode(Compression.BROTLI, pageBytes);
    }

    /** English-like text of about {@code length} characters: sentences of common and domain words. */
    private static String text(Random rnd, int length) {
        StringBuilder sb = new StringBuilder(length + 16);
        int inSentence = 0;
        while (sb.length() < length) {
            String w = WORDS[rnd.nextInt(WORDS.length)];
            if (inSentence == 0) {
                if (!sb.isEmpty()) {
                    sb.append(' ');
                }
                sb.append(capitalize(w));
            } else {
                sb.append(' ').append(w);
            }
            inSentence++;
            if (inSentence > 6 && rnd.nextInt(8) == 0) {
                sb.append(rnd.nextInt(4) == 0 ? ',' : '.');
                if (sb.charAt(sb.length() - 1) == '.') {
                    inSentence = 0;
                }
            }
        }
        return sb.toString();
    }

    private static String capitalize(String s) {
        return Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }
}
