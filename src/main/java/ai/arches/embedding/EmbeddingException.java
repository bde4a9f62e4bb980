package ai.arches.embedding;

/** A provider failed (after its retries); the message is stored as the document's error. */
public final class EmbeddingException extends RuntimeException {
    public EmbeddingException(String message) {
        super(message);
    }

    public EmbeddingException(String message, Throwable cause) {
        super(message, cause);
    }
}
