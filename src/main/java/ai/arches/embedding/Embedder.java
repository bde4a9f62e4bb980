package ai.arches.embedding;

import java.util.List;

/**
 * Turns texts into vectors: the boundary between the platform and a model, which runs either in
 * this process or behind an HTTP endpoint. Implementations are safe for concurrent use.
 */
public interface Embedder extends AutoCloseable {
    /** The schema stores vector(384); every provider must produce that many dimensions. */
    int DIMENSIONS = 384;

    /** Names the model, so cached query vectors of one model are never served for another. */
    String modelId();

    /**
     * One vector of {@link #DIMENSIONS} unit-length floats per text, in order.
     *
     * @throws EmbeddingException when the provider fails after its own retries
     */
    List<float[]> embed(List<String> texts);

    @Override
    default void close() {}
}
