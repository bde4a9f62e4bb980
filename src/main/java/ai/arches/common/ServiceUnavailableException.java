package ai.arches.common;

import java.util.List;

/** A backing service is exhausted or down, such as no database connection in time (503). */
public final class ServiceUnavailableException extends ArchesException {
    public ServiceUnavailableException(String detail) {
        super(detail, List.of(), null);
    }

    public ServiceUnavailableException(String detail, Throwable cause) {
        super(detail, List.of(), cause);
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
