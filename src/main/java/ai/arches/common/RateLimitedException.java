package ai.arches.common;

import java.util.List;

/** Too many requests for this caller in the current window (429, with Retry-After). */
public final class RateLimitedException extends ArchesException {
    private final RateLimitStatus status;

    public RateLimitedException(String detail, RateLimitStatus status) {
        super(detail, List.of(), null);
        this.status = status;
    }

    public RateLimitStatus limit() {
        return status;
    }

    @Override
    public int status() {
        return 429;
    }

    @Override
    public String title() {
        return "Too many requests";
    }

    @Override
    public String type() {
        return "rate-limited";
    }
}
