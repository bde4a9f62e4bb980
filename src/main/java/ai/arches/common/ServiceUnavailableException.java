package ai.arches.common;

import java.util.List;

/**
 * A backing service is exhausted or down, such as no database connection in time (503). When the
 * refusal is a matter of load rather than an outage it carries a Retry-After in seconds.
 */
public final class ServiceUnavailableException extends ArchesException {
    /** Seconds a client should wait before trying again (the Retry-After header); 0: not said. */
    private final long retryAfterSeconds;

    public ServiceUnavailableException(String detail) {
        this(detail, null, 0);
    }

    public ServiceUnavailableException(String detail, Throwable cause) {
        this(detail, cause, 0);
    }

    /** Refused for load: the client may retry after {@code retryAfterSeconds} (at least 1). */
    public ServiceUnavailableException(String detail, long retryAfterSeconds) {
        this(detail, null, Math.max(1, retryAfterSeconds));
    }

    public ServiceUnavailableException(String detail, Throwable cause, long retryAfterSeconds) {
        super(detail, List.of(), cause);
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }

    @Override
    public int status() {
        return 503;
    }

    @Override
    public String title() {
        return "Service unavailable";
    }

    @Override
    public String type() {
        return "unavailable";
    }
}
