package ai.arches.admin.pprof;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import ai.arches.testing.Prerequisites;

/**
 * Go's own reader as the oracle: {@code go tool pprof} must read what the server sends. Skipped
 * (the checks return null) where Go is not installed, unless ARCHES_TEST_REQUIRE_GO=1, which
 * {@code make test} sets after scripts/setup-services.sh --test installed it.
 */
final class GoPprof {
    private GoPprof() {}

    static boolean available() {
        boolean found = Prerequisites.onPath("go") != null;
        if (!found && Prerequisites.required("GO")) {
            throw new AssertionError("go is not on PATH but ARCHES_TEST_REQUIRE_GO=1");
        }
        return found;
    }

    /** {@code go tool pprof <flag> <file>} of the given profile; null when Go is not installed. */
    static String run(String flag, byte[] profile) throws IOException, InterruptedException {
        if (!available()) {
            return null;
        }
        Path file = Files.createTempFile("pprof-test-", ".pb.gz");
        try {
            Files.write(file, profile);
            return run(flag, file.toString());
        } finally {
            Files.delete(file);
        }
    }

    /** {@code go tool pprof <flag> <source>}, where the source may be a URL; null when Go is not installed. */
    static String run(String flag, String source) throws IOException, InterruptedException {
        if (!available()) {
            return null;
        }
        Path home = Files.createTempDirectory("pprof-home-");
        List<String> cmd = new ArrayList<>(List.of(Prerequisites.onPath("go").toString(), "tool", "pprof", flag, source));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        // pprof keeps fetched profiles under $HOME/pprof and reads no terminal.
        pb.environment().put("HOME", home.toString());
        pb.environment().put("PPROF_TMPDIR", home.toString());
        pb.environment().putIfAbsent("GOCACHE", home.resolve("cache").toString());
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        try (var files = Files.walk(home)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
        return out;
    }
}
