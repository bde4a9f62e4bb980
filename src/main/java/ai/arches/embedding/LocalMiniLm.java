package ai.arches.embedding;

import java.util.ArrayList;
import java.util.List;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel;

/**
 * all-MiniLM-L6-v2 (quantized) through ONNX Runtime, in this process: no service to run, about
 * 3 ms for a short text and 5 ms for a 64-word passage on one core here. The model's own executor
 * is the calling thread, so parallelism is exactly the number of threads that call it (the
 * workers and the query-embedding gate), never a hidden pool competing for the same cores.
 */
public final class LocalMiniLm implements Embedder {
    private final AllMiniLmL6V2QuantizedEmbeddingModel model = new AllMiniLmL6V2QuantizedEmbeddingModel(Runnable::run);

    @Override
    public String modelId() {
        return "all-minilm-l6-v2-q";
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
}
