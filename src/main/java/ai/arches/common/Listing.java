package ai.arches.common;

import java.util.List;

/** A response whose {@code data} items {@code ?fields=} selects from (pages, search results). */
public interface Listing {
    List<?> data();
}
