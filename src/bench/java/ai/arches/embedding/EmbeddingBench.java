package ai.arches.embedding;

import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Passages embedded per second by the local model, as the workers call it: one passage of 64
 * words (headed by a title) per call, from one thread and from two (one worker per core on this
 * machine). {@code platform*} is {@link LocalMiniLm} (ONNX session on the calling thread, no
 * spinning); {@code langchain4j*} is the model class as shipped, whose session runs an intra-op
 * pool that spins, so two callers on two cores fight four busy threads. Throughput is per
 * benchmark, summed over its threads.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 2, time = 5)
@Measurement(iterations = 3, time = 5)
public class EmbeddingBench {
    private static final String PASSAGE = Passages.modelInput("ls(1) – list directory contents", 1,
            ("List information about the files in the current directory by default. Sort entries "
                    + "alphabetically if none of the sort options is specified. Mandatory arguments to long options "
                    + "are mandatory for short options too. With a long listing, show the author of each file, and "
                    + "print sizes in human readable units, powers of 1024, such as 1K 234M 2G, and scale sizes by "
                    + "SIZE before printing them, as the block size option describes here.").strip());

    private LocalMiniLm platform;
    private AllMiniLmL6V2QuantizedEmbeddingModel shipped;

    @Setup
    public void setup() {
        platform = new LocalMiniLm();
        shipped = new AllMiniLmL6V2QuantizedEmbeddingModel(Runnable::run);
    }

    @TearDown
    public void close() {
        platform.close();
    }

    @Benchmark
    @Threads(1)
    public List<float[]> platformOneThread() {
        return platform.embed(List.of(PASSAGE));
    }

    @Benchmark
    @Threads(2)
    public List<float[]> platformTwoThreads() {
        return platform.embed(List.of(PASSAGE));
    }

    @Benchmark
    @Threads(1)
    public Object langchain4jOneThread() {
        return shipped.embed(TextSegment.from(PASSAGE)).content();
    }

    @Benchmark
    @Threads(2)
    public Object langchain4jTwoThreads() {
        return shipped.embed(TextSegment.from(PASSAGE)).content();
    }
}
