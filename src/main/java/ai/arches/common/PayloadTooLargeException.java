package ai.arches.common;

import java.util.List;

/** The request body exceeds server.max_body (413). */
public final class PayloadTooLargeException extends ArchesException {
    public PayloadTooLargeException(String detail) {
        super(detail, List.of(), null);
    }


    @Override
    public int status() {
        return 413;
    }

    @Override
    public String title() {
        return "Payload too large";
    }

    @Override
    public String type() {
        return "payload-too-large";
    }
}
