package ai.arches.common;

import java.util.List;

/** Missing, malformed, expired or revoked credentials (401). */
public final class UnauthenticatedException extends ArchesException {
    public UnauthenticatedException(String detail) {
        super(detail, List.of(), null);
    }


    @Override
    public int status() {
        return 401;
    }

    @Override
    public String title() {
        return "Authentication required";
    }

    @Override
    public String type() {
        return "unauthenticated";
    }
}
