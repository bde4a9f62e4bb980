package ai.arches.common;

import java.util.Optional;
import java.util.UUID;

import com.fasterxml.uuid.Generators;
import com.fasterxml.uuid.impl.TimeBasedEpochGenerator;

/** Time-ordered UUIDv7 ids: new rows land at the right edge of B-tree indexes. */
public final class Ids {
    private static final TimeBasedEpochGenerator V7 = Generators.timeBasedEpochGenerator();

    private Ids() {}

    public static UUID newId() {
        return V7.generate();
    }

    /** Parses a canonical UUID string; anything else is empty (never throws). */
    public static Optional<UUID> parse(String s) {
        if (s == null || s.length() != 36 || s.charAt(8) != '-' || s.charAt(13) != '-'
                || s.charAt(18) != '-' || s.charAt(23) != '-') {
            return Optional.empty();
        }
        try {
            return Optional.of(UUID.fromString(s));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
