package ai.arches.common;

import java.util.List;
import java.util.OptionalLong;

/**
 * A backing service is exhausted or down, such as no database connection in time (503). When the
 * refusal is a matter of load rather than an outage it carries a Retry-After in seconds.
 */
public final class ServiceUnavailableException extends ArchesException {
    private final OptionalLong retryAfterSeconds;

    public ServiceUnavailableException(String detail) {
        this(detail, null);
    }

    public ServiceUnavailableException(String detail, Throwable cause) {
        super(detail, List.of(), cause);
        this.retryAfterSeconds = OptionalLong.empty();
    }

    /** Refused for load: the client may retry after {@code retryAfterSeconds} (at least 1). */
    public ServiceUnavailableException(String detail, long retryAfterSeconds) {
        super(detail, List.of(), null);
        this.retryAfterSeconds = OptionalLong.of(Math.max(1, retryAfterSeconds));
    }

    public OptionalLong retryAfterSeconds() {
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
