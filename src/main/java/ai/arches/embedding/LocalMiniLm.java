package ai.arches.embedding;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
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
 *
 * <p>Each text is tokenized once and run alone. langchain4j's encoder tokenizes a text three times
 * (to count, to rebuild the sentence, to encode); one pass gives the same tokens and the same
 * vector (cosine 1.0 against it) for 10–15% less time per short query. Texts are never batched
 * into one model run: the quantized model scales activations over the whole input tensor, so a
 * text's vector would change with its batch companions (cosine 0.977–0.993 against the text run
 * alone), and a query would rank differently under load; batching also saved under 30%.
 */
public final class LocalMiniLm implements Embedder {
    /** Names this model in cache keys; a constant, so naming it loads nothing. */
    public static final String ID = "all-minilm-l6-v2-q";
    private static final String MODEL = "/all-minilm-l6-v2-q.onnx";
    private static final String TOKENIZER = "/all-minilm-l6-v2-q-tokenizer.json";
    /** BERT's position limit; longer texts go through langchain4j's windowed path. */
    private static final int MAX_TOKENS = 512;

    private final OrtEnvironment env;
    private final OrtSession session;
    private final HuggingFaceTokenizer tokenizer;
    private final boolean typeIds;
    private final Model model;

    public LocalMiniLm() {
        env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
             InputStream tokenizerJson = resource(TOKENIZER);
             InputStream tokenizerJson2 = resource(TOKENIZER)) {
            options.setIntraOpNumThreads(1);
            options.setInterOpNumThreads(1);
            options.addConfigEntry("session.intra_op.allow_spinning", "0");
            byte[] onnx;
            try (InputStream in = resource(MODEL)) {
                onnx = in.readAllBytes();
            }
            session = env.createSession(onnx, options);
            typeIds = session.getInputNames().contains("token_type_ids");
            // The same settings as langchain4j's encoder (no padding; its defaults otherwise).
            tokenizer = HuggingFaceTokenizer.newInstance(tokenizerJson, Map.of("padding", "false"));
            model = new Model(new OnnxBertBiEncoder(env, session, tokenizerJson2, PoolingMode.MEAN));
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
        List<float[]> vectors = new ArrayList<>(texts.size());
        try {
            for (String text : texts) {
                // The model refuses blank text; a blank passage means nothing, like a single space.
                String t = text.isBlank() ? "." : text;
                Encoding e = tokenizer.encode(t);
                float[] v = e.getIds().length <= MAX_TOKENS ? run(e) : model.embed(TextSegment.from(t)).content().vector();
                vectors.add(Vectors.normalize(v));
            }
        } catch (OrtException | RuntimeException e) {
            throw new EmbeddingException("local model failed: " + e.getMessage(), e);
        }
        return vectors;
    }

    /** One model run over one text: the mean of its token vectors. */
    private float[] run(Encoding e) throws OrtException {
        long[] shape = {1, e.getIds().length};
        Map<String, OnnxTensor> inputs = new HashMap<>();
        try {
            inputs.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(e.getIds()), shape));
            inputs.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(e.getAttentionMask()), shape));
            if (typeIds) {
                inputs.put("token_type_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(e.getTypeIds()), shape));
            }
            try (OrtSession.Result result = session.run(inputs)) {
                float[][] tokens = ((float[][][]) result.get(0).getValue())[0];
                return meanPool(tokens, tokens.length);
            }
        } finally {
            inputs.values().forEach(OnnxTensor::close);
        }
    }

    private static float[] meanPool(float[][] tokens, int n) {
        float[] mean = new float[tokens[0].length];
        for (int t = 0; t < n; t++) {
            for (int d = 0; d < mean.length; d++) {
                mean[d] += tokens[t][d];
            }
        }
        for (int d = 0; d < mean.length; d++) {
            mean[d] /= n;
        }
        return mean;
    }

    @Override
    public void close() {
        tokenizer.close();
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
