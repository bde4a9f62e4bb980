package ai.arches.http;

/**
 * The body of the response {@link JsonIo} writes, for a layer that must keep it (idempotency keys
 * store a POST's response to replay it). That layer registers an instance in the request's
 * context before the handler runs; {@link JsonIo#write} fills it, uncompressed, just before it
 * sends, so the layer's {@code beforeSend} callback finds it whether the handler or
 * {@link Problems} answered. Only POST responses are offered. One request's thread uses it.
 */
public final class WrittenEntity {
    private String contentType;
    private byte[] bytes;

    void set(String contentType, byte[] bytes) {
        this.contentType = contentType;
        this.bytes = bytes;
    }

    /** Null until JsonIo wrote the response (also for a response sent without it, such as a 204). */
    public String contentType() {
        return contentType;
    }

    public byte[] bytes() {
        return bytes;
    }
}
