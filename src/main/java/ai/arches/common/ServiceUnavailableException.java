package ai.arches.common;

import java.util.List;

/** A backing service is exhausted or down, such as no database connection in time (503). */
public final class ServiceUnavailableException extends ArchesException {
    /** Seconds a client should wait before trying again (the Retry-After header); 0: not said. */
    private final long retryAfterSeconds;

    public ServiceUnavailableException(String detail) {
        this(detail, null, 0);
    }

    public ServiceUnavailableException(String detail, Throwable cause) {
        this(detail, cause, 0);
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
