package ai.arches.common;

import java.util.List;

/** No such resource, or one the caller may not know exists (404). */
public final class NotFoundException extends ArchesException {
    public NotFoundException(String detail) {
        super(detail, List.of(), null);
    }


    @Override
    public int status() {
        return 404;
    }

    @Override
    public String title() {
        return "Not found";
    }

    @Override
    public String type() {
        return "not-found";
    }
}
