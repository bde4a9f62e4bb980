package ai.arches.common;

import java.util.List;

/**
 * Root of the exceptions that map to an HTTP problem. Each subclass is named for what failed and
 * fixes its status; the http package turns them into problem+json in one place. Messages carry
 * diagnostic state, never tenant data.
 */
public abstract sealed class ArchesException extends RuntimeException
        permits InvalidInputException, UnauthenticatedException, ForbiddenException, NotFoundException,
        ConflictException, UnprocessableException, PayloadTooLargeException, UnsupportedMediaTypeException,
        ServiceUnavailableException, RateLimitedException, MethodNotAllowedException {

    private final List<FieldError> errors;

    protected ArchesException(String detail, List<FieldError> errors, Throwable cause) {
        super(detail, cause);
        this.errors = List.copyOf(errors);
    }

    public abstract int status();

    /** Short, stable summary of the problem type (RFC 9457 title). */
    public abstract String title();

    /** Slug for the problem type URI. */
    public abstract String type();

    public List<FieldError> errors() {
        return errors;
    }
}
