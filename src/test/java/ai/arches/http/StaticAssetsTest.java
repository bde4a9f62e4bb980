package ai.arches.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import ai.arches.testing.Api;
import ai.arches.testing.ServerTest;
import ai.arches.web.WebAssets;

import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The console's pages and assets as HTTP serves them: caching (immutable assets, revalidated
 * pages), precompressed codings by Accept-Encoding, ETag revalidation, HEAD, the security
 * headers, and a clear problem for what is missing.
 */
class StaticAssetsTest extends ServerTest {
    private Api web;
    private String script;

    @BeforeAll
    void assets() {
        web = api.withoutContractCheck();
        assumeTrue(WebAssets.built(), WebAssets.NOT_BUILT);
        Matcher m = Pattern.compile("src=\"(/assets/console-[^\"]+\\.js)\"").matcher(web.get("/", null).text());
        assertThat(m.find()).as("the console page names its script").isTrue();
        script = m.group(1);
    }

    @Test
    void the_console_page_is_revalidated_and_locked_down() {
        Api.Response r = web.get("/", null);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("Content-Type")).isEqualTo("text/html; charset=utf-8");
        assertThat(r.header("Cache-Control")).isEqualTo("no-cache");
        assertThat(r.header("ETag")).matches("\"[0-9a-f]{24}\"");
        assertThat(r.header("X-Content-Type-Options")).isEqualTo("nosniff");
        assertThat(r.header("X-Frame-Options")).isEqualTo("DENY");
        String csp = r.header("Content-Security-Policy");
        assertThat(csp).contains("script-src 'self';", "frame-ancestors 'none'", "object-src 'none'", "default-src 'self'")
                .doesNotContain("unsafe-inline", "unsafe-eval");
        assertThat(r.text()).contains("<div id=\"app\">").doesNotContain("<script>");
        for (String page : new String[] {"/docs", "/graphiql"}) {
            Api.Response p = web.get(page, null);
            assertThat(p.status()).as(page).isEqualTo(200);
            assertThat(p.header("Cache-Control")).isEqualTo("no-cache");
            assertThat(p.header("Content-Security-Policy")).contains("script-src 'self';", "frame-ancestors 'none'")
                    .doesNotContain("unsafe-eval");
            assertThat(p.text()).doesNotContain("<script>").doesNotContainIgnoringCase("https://");
        }
    }

    @Test
    void assets_are_immutable_and_served_in_the_preferred_precompressed_coding() {
        byte[] identity = classpath("web" + script);
        Api.Response plain = web.get(script, null);
        assertThat(plain.status()).isEqualTo(200);
        assertThat(plain.header("Cache-Control")).isEqualTo("public, max-age=31536000, immutable");
        assertThat(plain.header("Content-Type")).isEqualTo("text/javascript; charset=utf-8");
        assertThat(plain.header("Vary")).isEqualTo("Accept-Encoding");
        assertThat(plain.header("Content-Encoding")).isNull();
        assertThat(plain.bytes()).isEqualTo(identity);

        Api.Response br = get(script, Map.of("Accept-Encoding", "gzip, deflate, br"));
        assertThat(br.header("Content-Encoding")).isEqualTo("br");
        assertThat(br.bytes()).isEqualTo(classpath("web" + script + ".br"));
        assertThat(br.bytes().length).isLessThan(identity.length / 2);

        Api.Response gzip = get(script, Map.of("Accept-Encoding", "br;q=0.5, gzip"));
        assertThat(gzip.header("Content-Encoding")).isEqualTo("gzip");
        assertThat(gzip.bytes()).isEqualTo(classpath("web" + script + ".gz"));

        Api.Response none = get(script, Map.of("Accept-Encoding", "identity"));
        assertThat(none.header("Content-Encoding")).isNull();
        assertThat(none.bytes()).isEqualTo(identity);
        // Each coding is its own representation, with its own validator.
        assertThat(br.header("ETag")).isNotEqualTo(gzip.header("ETag")).isNotEqualTo(plain.header("ETag"));
    }

    @Test
    void a_matching_etag_is_answered_304_without_a_body() {
        Api.Response first = get(script, Map.of("Accept-Encoding", "br"));
        Api.Response again = get(script, Map.of("Accept-Encoding", "br", "If-None-Match", first.header("ETag")));
        assertThat(again.status()).isEqualTo(304);
        assertThat(again.bytes()).isEmpty();
        assertThat(again.header("ETag")).isEqualTo(first.header("ETag"));
        assertThat(again.header("Cache-Control")).isEqualTo("public, max-age=31536000, immutable");

        Api.Response page = web.get("/", null);
        Api.Response page304 = get("/", Map.of("If-None-Match", "\"nope\", " + page.header("ETag")));
        assertThat(page304.status()).isEqualTo(304);
        Api.Response changed = get("/", Map.of("If-None-Match", "\"0123456789abcdef01234567\""));
        assertThat(changed.status()).isEqualTo(200);
        assertThat(changed.bytes()).isEqualTo(page.bytes());
    }

    @Test
    void head_answers_the_headers_of_get_without_the_body() {
        Api.Response get = get(script, Map.of("Accept-Encoding", "gzip"));
        Api.Response head = web.send("HEAD", script, null, null, null, Map.of("Accept-Encoding", "gzip"));
        assertThat(head.status()).isEqualTo(200);
        assertThat(head.bytes()).isEmpty();
        assertThat(head.header("Content-Length")).isEqualTo(Integer.toString(get.bytes().length));
        assertThat(head.header("Content-Encoding")).isEqualTo("gzip");
        assertThat(head.header("ETag")).isEqualTo(get.header("ETag"));
        assertThat(web.send("HEAD", "/", null, null, null, Map.of()).status()).isEqualTo(200);
    }

    @Test
    void an_unknown_asset_is_a_404_problem_and_the_api_is_untouched() {
        Api.Response r = web.get("/assets/console-NOPE.js", null);
        assertThat(r.status()).isEqualTo(404);
        assertThat(r.header("Content-Type")).isEqualTo("application/problem+json");
        assertThat(r.json().get("detail").asText()).contains("/assets/console-NOPE.js");
        assertThat(web.get("/assets/../web/manifest.json", null).status()).isEqualTo(404);
        assertThat(web.get("/index.html", null).status()).isEqualTo(404);
        assertThat(web.send("POST", "/", null, "application/json", "{}".getBytes(), Map.of()).status()).isIn(404, 405);
        // The API and operations routes answer as before.
        assertThat(api.get("/health", null).status()).isEqualTo(200);
        assertThat(api.get("/api/v1/openapi.json", null).status()).isEqualTo(200);
        assertThat(server.arches().routes()).noneMatch(route -> route.template().equals("/")
                || route.template().startsWith("/assets") || route.template().equals("/docs"));
    }

    @Test
    void without_built_assets_pages_say_so_with_503_and_assets_are_404() {
        StaticAssets none = StaticAssets.load("no-such-folder/");
        assertThat(none.built()).isFalse();
        HttpRouting.Builder routing = HttpRouting.builder();
        none.register(routing);
        JsonIo io = new JsonIo(1024, 1 << 20);
        Problems.register(routing, io, new ApiRouter(routing));
        WebServer bare = WebServer.builder().host("127.0.0.1").port(0).routing(routing).build().start();
        try {
            Api b = new Api("http://127.0.0.1:" + bare.port()).withoutContractCheck();
            Api.Response page = b.get("/", null);
            assertThat(page.status()).isEqualTo(503);
            assertThat(page.header("Content-Type")).isEqualTo("application/problem+json");
            assertThat(page.json().get("detail").asText()).contains("make build");
            assertThat(b.get("/docs", null).status()).isEqualTo(503);
            Api.Response asset = b.get("/assets/console-X.js", null);
            assertThat(asset.status()).isEqualTo(404);
            assertThat(asset.json().get("detail").asText()).contains("not built");
        } finally {
            bare.stop();
        }
    }

    @Test
    void accept_encoding_negotiation_follows_q_values() {
        assertThat(Compression.negotiate("gzip, br", true, true)).isEqualTo("br");
        assertThat(Compression.negotiate("br;q=0.1, gzip;q=0.9", true, true)).isEqualTo("gzip");
        assertThat(Compression.negotiate("*", true, true)).isEqualTo("br");
        assertThat(Compression.negotiate("br;q=0, *", true, true)).isEqualTo("gzip");
        assertThat(Compression.negotiate("br", false, true)).isNull();
        assertThat(Compression.negotiate(null, true, true)).isNull();
        assertThat(StaticAssets.notModified("W/\"abc-br\"", "\"abc\"")).isTrue();
        assertThat(StaticAssets.notModified("\"abd\"", "\"abc\"")).isFalse();
    }

    private Api.Response get(String path, Map<String, String> headers) {
        return web.send("GET", path, null, null, null, headers);
    }

    private static byte[] classpath(String name) {
        try (InputStream in = StaticAssetsTest.class.getClassLoader().getResourceAsStream(name)) {
            assertThat(in).as(name).isNotNull();
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
