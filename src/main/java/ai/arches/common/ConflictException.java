package ai.arches.common;

import java.util.List;

/** The request collides with current state: a taken email or slug, the last owner (409). */
public final class ConflictException extends ArchesException {
    public ConflictException(String detail) {
        super(detail, List.of(), null);
    }


    @Override
    public int status() {
        return 409;
    }

    @Override
    public String title() {
        return "Conflict";
    }

    @Override
    public String type() {
        return "conflict";
    }
}
