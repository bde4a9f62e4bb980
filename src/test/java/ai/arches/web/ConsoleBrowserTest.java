package ai.arches.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import ai.arches.testing.Prerequisites;
import ai.arches.testing.TestServer;

import org.junit.jupiter.api.Test;

/**
 * The console in a real browser: Debian's Chromium driven by playwright-core (web/test/
 * console.e2e.mjs) against a real server: sign in, create a document, find it by search, run a
 * workflow and watch it succeed from its event stream, and /docs and /graphiql render without
 * console errors. Screenshots of every page land in target/screenshots/ for a person to look at.
 * Needs the built assets, node, web/node_modules and /usr/bin/chromium: skipped without them,
 * failed without them when ARCHES_TEST_REQUIRE_WEB=1 (make test installs and builds them).
 */
class ConsoleBrowserTest {
    private static final Path SCRIPT = Path.of("web", "test", "console.e2e.mjs");
    private static final Path PLAYWRIGHT = Path.of("web", "node_modules", "playwright-core");
    private static final Path SCREENSHOTS = Path.of("target", "screenshots");

    @Test
    void a_person_signs_in_writes_finds_and_runs_in_the_console() throws Exception {
        assumeTrue(WebAssets.built(), WebAssets.NOT_BUILT);
        String chromium = System.getenv().getOrDefault("CHROMIUM", "/usr/bin/chromium");
        Path node = Prerequisites.onPath("node");
        boolean ready = node != null && Files.isDirectory(PLAYWRIGHT) && Files.isExecutable(Path.of(chromium));
        Prerequisites.assume("WEB", ready, "node (" + node + "), " + PLAYWRIGHT + " (npm ci in web/) and " + chromium
                + " (apt-get install chromium) are needed");

        // Embedding on, so hybrid search ranks by both meaning and words, as in production.
        try (TestServer server = TestServer.start(Map.of("embedding.workers", "1"))) {
            Path log = Files.createTempFile("console-e2e", ".log");
            Process p = new ProcessBuilder(List.of(node.toString(), SCRIPT.toString(), server.api().base(),
                    SCREENSHOTS.toString()))
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            boolean ended = p.waitFor(4, TimeUnit.MINUTES);
            if (!ended) {
                p.destroyForcibly().waitFor();
            }
            String out = Files.readString(log, StandardCharsets.UTF_8);
            Files.deleteIfExists(log);
            System.out.println(out);
            assertThat(ended).as("the browser run ended within 4 minutes:\n" + out).isTrue();
            assertThat(p.exitValue()).as("the browser run:\n" + out).isZero();
            assertThat(out).contains("console e2e: ok");
        }
        for (String shot : List.of("01-sign-in", "03-organizations", "04-members-and-keys", "07-content", "08-search",
                "10-workflow", "11-run", "12-docs", "13-graphiql")) {
            Path png = SCREENSHOTS.resolve(shot + ".png");
            assertThat(png).as(shot).exists();
            assertThat(Files.size(png)).as(shot).isGreaterThan(5_000);
        }
    }

}
