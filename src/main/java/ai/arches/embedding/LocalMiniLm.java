package ai.arches.embedding;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.onnx.AbstractInProcessEmbeddingModel;
import dev.langchain4j.model.embedding.onnx.OnnxBertBiEncoder;
import dev.langchain4j.model.embedding.onnx.PoolingMode;
import dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel;

/**
 * all-MiniLM-L6-v2 (quantized) through ONNX Runtime, in this process: no service to run, about
 * 15 ms of one core for a 64-word passage here. Parallelism is exactly the number of threads that
 * call it (the workers and the query-embedding gate): the model's executor is the calling thread,
 * and the ONNX session runs each call on that thread alone, without spinning. Its default, an
 * intra-op pool per call that spins while it waits, let two workers on two cores embed 67
 * passages/s where this session does 133 (a direct run; {@code EmbeddingBench}, noisier: 111
 * and 144).
 */
public final class LocalMiniLm implements Embedder {
    /** Names this model in cache keys; a constant, so naming it loads nothing. */
    public static final String ID = "all-minilm-l6-v2-q";
    private static final String MODEL = "/all-minilm-l6-v2-q.onnx";
    private static final String TOKENIZER = "/all-minilm-l6-v2-q-tokenizer.json";

    private final OrtSession session;
    private final Model model;

    public LocalMiniLm() {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
             InputStream tokenizer = resource(TOKENIZER)) {
            options.setIntraOpNumThreads(1);
            options.setInterOpNumThreads(1);
            options.addConfigEntry("session.intra_op.allow_spinning", "0");
            byte[] onnx;
            try (InputStream in = resource(MODEL)) {
                onnx = in.readAllBytes();
            }
            session = env.createSession(onnx, options);
            model = new Model(new OnnxBertBiEncoder(env, session, tokenizer, PoolingMode.MEAN));
        } catch (OrtException e) {
            throw new EmbeddingException("local model could not be loaded: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public String modelId() {
        return ID;
    }

    @Override
    public List<float[]> embed(List<String> texts) {
        List<TextSegment> segments = new ArrayList<>(texts.size());
        for (String t : texts) {
            // The model refuses blank text; a blank passage means nothing, like a single space.
            segments.add(TextSegment.from(t.isBlank() ? "." : t));
        }
        List<Embedding> out;
        try {
            out = model.embedAll(segments).content();
        } catch (RuntimeException e) {
            throw new EmbeddingException("local model failed: " + e.getMessage(), e);
        }
        List<float[]> vectors = new ArrayList<>(out.size());
        for (Embedding e : out) {
            vectors.add(Vectors.normalize(e.vector()));
        }
        return vectors;
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            throw new EmbeddingException("closing the local model failed: " + e.getMessage(), e);
        }
    }

    private static InputStream resource(String name) {
        // The model jar ships the ONNX file and its tokenizer at its root.
        InputStream in = AllMiniLmL6V2QuantizedEmbeddingModel.class.getResourceAsStream(name);
        if (in == null) {
            throw new EmbeddingException("local model resource " + name + " is missing from the classpath", null);
        }
        return in;
    }

    /** langchain4j's batching and pooling over our session, on the calling thread. */
    private static final class Model extends AbstractInProcessEmbeddingModel {
        private final OnnxBertBiEncoder encoder;

        Model(OnnxBertBiEncoder encoder) {
            super(Runnable::run);
            this.encoder = encoder;
        }

        @Override
        protected OnnxBertBiEncoder model() {
            return encoder;
        }
    }
}
