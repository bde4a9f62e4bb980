package ai.arches.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import ai.arches.testing.Api;
import ai.arches.testing.ServerTest;

import org.junit.jupiter.api.Test;

/**
 * The console's first page may cost at most 150 KiB of JavaScript over the wire: every script
 * the page loads (and every module those import) fetched from the running server as a browser
 * would, brotli first, and counted as the bytes of the response bodies. Prints the figures, and
 * those of /docs and /graphiql, which have no budget (they are not the console's first page).
 */
class WebBudgetTest extends ServerTest {
    static final long BUDGET = 150 * 1024;
    private static final Pattern SCRIPT = Pattern.compile("<script[^>]*\\ssrc=\"(/assets/[^\"]+\\.js)\"");
    private static final Pattern PRELOAD = Pattern.compile("<link[^>]*rel=\"modulepreload\"[^>]*href=\"(/assets/[^\"]+)\"");
    /** Static and dynamic imports of sibling chunks in esbuild's minified output, and worker scripts. */
    private static final Pattern IMPORT = Pattern.compile("(?:from|import)\\s*\\(?\\s*\"\\./([^\"]+\\.js)\"|\"(/assets/[^\"]+\\.js)\"");

    record Weight(int scripts, long raw, long gzip, long br) {
        String kib(long n) {
            return String.format("%.1f KiB", n / 1024.0);
        }

        @Override
        public String toString() {
            return scripts + " scripts, " + kib(raw) + " raw, " + kib(gzip) + " gzip, " + kib(br) + " brotli";
        }
    }

    @Test
    void the_console_first_page_stays_within_its_javascript_budget() {
        assumeTrue(WebAssets.built(), WebAssets.NOT_BUILT);
        Weight console = weigh("/");
        Weight docs = weigh("/docs");
        Weight graphiql = weigh("/graphiql");
        System.out.println("web budget: console first page JavaScript over the wire: " + console
                + " (budget 150 KiB)");
        System.out.println("web budget: /docs (Redoc) " + docs);
        System.out.println("web budget: /graphiql (GraphiQL, Monaco and its workers) " + graphiql);
        assertThat(console.scripts()).isPositive();
        assertThat(console.br()).as("first-page JavaScript, brotli").isLessThanOrEqualTo(BUDGET);
        assertThat(console.gzip()).as("first-page JavaScript, gzip").isLessThanOrEqualTo(BUDGET);
    }

    /** The scripts a page loads, transitively, each fetched once per coding. */
    private Weight weigh(String page) {
        Api web = api.withoutContractCheck();
        String html = web.get(page, null).text();
        Set<String> seen = new LinkedHashSet<>();
        Deque<String> todo = new ArrayDeque<>();
        for (Pattern p : new Pattern[] {SCRIPT, PRELOAD}) {
            Matcher m = p.matcher(html);
            while (m.find()) {
                todo.add(m.group(1));
            }
        }
        long raw = 0, gzip = 0, br = 0;
        while (!todo.isEmpty()) {
            String path = todo.poll();
            if (!path.endsWith(".js") || !seen.add(path)) {
                continue;
            }
            Api.Response plain = web.get(path, null);
            assertThat(plain.status()).as(path).isEqualTo(200);
            raw += plain.bytes().length;
            Api.Response b = web.send("GET", path, null, null, null, Map.of("Accept-Encoding", "br, gzip"));
            assertThat(b.header("Content-Encoding")).as(path).isEqualTo("br");
            br += b.bytes().length;
            gzip += web.send("GET", path, null, null, null, Map.of("Accept-Encoding", "gzip")).bytes().length;
            Matcher m = IMPORT.matcher(plain.text());
            while (m.find()) {
                todo.add(m.group(1) != null ? path.substring(0, path.lastIndexOf('/') + 1) + m.group(1) : m.group(2));
            }
        }
        return new Weight(seen.size(), raw, gzip, br);
    }
}
