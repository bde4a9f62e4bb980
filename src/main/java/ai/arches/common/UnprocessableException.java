package ai.arches.common;

import java.util.List;

/** Well-formed input that breaks a domain rule, such as a cyclic workflow definition (422). */
public final class UnprocessableException extends ArchesException {
    public UnprocessableException(String detail) {
        super(detail, List.of(), null);
    }

    public UnprocessableException(String detail, List<FieldError> errors) {
        super(detail, errors, null);
    }

    @Override
    public int status() {
        return 422;
    }

    @Override
    public String title() {
        return "Unprocessable content";
    }

    @Override
    public String type() {
        return "unprocessable";
    }
}
