package ai.arches.common;

import java.util.List;

/** The caller is known and a member, but its role is too low for this action (403). */
public final class ForbiddenException extends ArchesException {
    public ForbiddenException(String detail) {
        super(detail, List.of(), null);
    }


    @Override
    public int status() {
        return 403;
    }

    @Override
    public String title() {
        return "Forbidden";
    }

    @Override
    public String type() {
        return "forbidden";
    }
}
