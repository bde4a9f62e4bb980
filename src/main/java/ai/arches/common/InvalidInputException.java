package ai.arches.common;

import java.util.List;

/** Malformed JSON, wrong types, bad parameters: the request cannot be read as asked (400). */
public final class InvalidInputException extends ArchesException {
    public InvalidInputException(String detail) {
        super(detail, List.of(), null);
    }

    public InvalidInputException(String detail, List<FieldError> errors) {
        super(detail, errors, null);
    }

    @Override
    public int status() {
        return 400;
    }

    @Override
    public String title() {
        return "Invalid request";
    }

    @Override
    public String type() {
        return "invalid-request";
    }
}
