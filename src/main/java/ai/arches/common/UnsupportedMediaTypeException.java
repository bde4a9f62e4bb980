package ai.arches.common;

import java.util.List;

/** A request body that is not JSON (415). */
public final class UnsupportedMediaTypeException extends ArchesException {
    public UnsupportedMediaTypeException(String detail) {
        super(detail, List.of(), null);
    }


    @Override
    public int status() {
        return 415;
    }

    @Override
    public String title() {
        return "Unsupported media type";
    }

    @Override
    public String type() {
        return "unsupported-media-type";
    }
}
