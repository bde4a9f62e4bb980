package ai.arches.testing;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Assumptions;

/**
 * What a test needs from the machine (a program, a built asset, a preloaded library, a replica).
 * Alone, Maven skips a test whose prerequisite is missing; {@code make test} installs them and sets
 * {@code ARCHES_TEST_REQUIRE_<NAME>=1}, which turns the skip into a failure, so CI never passes by
 * skipping what it should have run.
 */
public final class Prerequisites {
    private Prerequisites() {}

    /** Whether {@code ARCHES_TEST_REQUIRE_<name>=1} demands this prerequisite. */
    public static boolean required(String name) {
        return "1".equals(System.getenv("ARCHES_TEST_REQUIRE_" + name));
    }

    /** Skips the calling test when {@code present} is false, or fails it when {@code name} is required. */
    public static void assume(String name, boolean present, String missing) {
        if (!present && required(name)) {
            throw new AssertionError(missing + " (ARCHES_TEST_REQUIRE_" + name + "=1)");
        }
        Assumptions.assumeTrue(present, missing);
    }

    /** The program's path on PATH, or null. */
    public static Path onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(dir, program);
            if (!dir.isEmpty() && Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }
}
