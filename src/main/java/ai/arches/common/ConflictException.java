package ai.arches.common;

import java.util.List;

/**
 * The request collides with current state: a taken email or slug, the last owner, a request with
 * the same Idempotency-Key still in flight (409). A collision that will pass by itself carries a
 * Retry-After in seconds.
 */
public final class ConflictException extends ArchesException {
    /** Seconds a client should wait before trying again (the Retry-After header); 0: not said. */
    private final long retryAfterSeconds;

    public ConflictException(String detail) {
        this(detail, 0);
    }

    public ConflictException(String detail, long retryAfterSeconds) {
        super(detail, List.of(), null);
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }

    @Override
    public int status() {
        return 409;
    }

    @Override
    public String title() {
        return "Conflict";
    }

    @Override
    public String type() {
        return "conflict";
    }
}
