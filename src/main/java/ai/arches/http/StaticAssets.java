package ai.arches.http;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import ai.arches.common.NotFoundException;
import ai.arches.common.ServiceUnavailableException;

import com.fasterxml.jackson.databind.JsonNode;
import io.helidon.http.Header;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.Method;
import io.helidon.http.PathMatchers;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * The web pages the server carries besides its API: the console at {@code /}, the API reference
 * at {@code /docs} and GraphiQL at {@code /graphiql}, with their files under {@code /assets/}.
 * They are built by npm (web/, {@code make build}) into the classpath folder {@code web/}, whose
 * {@code manifest.json} lists every file; each file is shipped beside its brotli and gzip
 * forms, compressed ahead of time, and all of it is read into memory once at start-up (a few
 * megabytes), so a request costs a map lookup. Assets have content-hashed names and are cached
 * for a year ({@code immutable}); pages are {@code no-cache} and revalidate by ETag.
 *
 * <p>These are not API routes: they are registered on the routing directly, not through
 * {@link ApiRouter}, so the OpenAPI contract does not list them. When the assets were not built
 * (a plain {@code ./mvnw verify}), the pages answer 503 and assets 404, as problem+json saying so.
 * Immutable after construction; safe for any number of threads.
 */
public final class StaticAssets {
    static final String ROOT = "web/";
    static final String IMMUTABLE = "public, max-age=31536000, immutable";
    static final String NO_CACHE = "no-cache";

    /**
     * Pages run only their own scripts ({@code script-src 'self'}, never inline) and cannot be
     * framed. The reference and GraphiQL render with libraries that add style elements at run
     * time (styled-components, Monaco) and start web workers, hence their wider style and worker
     * sources; the console needs neither.
     */
    static final String CONSOLE_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
            + "frame-ancestors 'none'";
    static final String TOOL_CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            + "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
            + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /** Each served path and the built page behind it. */
    private static final List<Page> PAGES = List.of(
            new Page("/", "index.html", CONSOLE_CSP),
            new Page("/docs", "docs.html", TOOL_CSP),
            new Page("/graphiql", "graphiql.html", TOOL_CSP));

    private static final Header VARY = HeaderValues.createCached(HeaderNames.VARY, "Accept-Encoding");
    private static final Header NOSNIFF = HeaderValues.createCached(HeaderNames.create("X-Content-Type-Options"), "nosniff");
    private static final Header FRAME_DENY = HeaderValues.createCached(HeaderNames.create("X-Frame-Options"), "DENY");
    private static final Header REFERRER = HeaderValues.createCached(HeaderNames.create("Referrer-Policy"), "same-origin");
    private static final Header CACHE_IMMUTABLE = HeaderValues.createCached(HeaderNames.CACHE_CONTROL, IMMUTABLE);
    private static final Header CACHE_NO_CACHE = HeaderValues.createCached(HeaderNames.CACHE_CONTROL, NO_CACHE);

    record Page(String route, String file, String csp) {}

    /** One file in its three codings; {@code br} or {@code gzip} null when not built. */
    record Asset(String contentType, byte[] identity, byte[] br, byte[] gzip, String etag) {}

    private final Map<String, Asset> files;

    private StaticAssets(Map<String, Asset> files) {
        this.files = files;
    }

    /** The built assets on the classpath; none (every page 503) when {@code web/manifest.json} is absent. */
    public static StaticAssets fromClasspath() {
        return load(ROOT);
    }

    /** The assets under a classpath folder ({@code root} ends in a slash). */
    static StaticAssets load(String root) {
        byte[] manifest = read(root + "manifest.json");
        if (manifest == null) {
            return new StaticAssets(Map.of());
        }
        Map<String, Asset> files = new HashMap<>();
        try {
            JsonNode list = Json.MAPPER.readTree(manifest).path("files");
            for (JsonNode f : list) {
                String name = f.asText();
                byte[] identity = read(root + name);
                if (identity == null) {
                    throw new IllegalStateException(root + "manifest.json lists " + name + ", which is not on the classpath");
                }
                files.put(name, new Asset(contentType(name), identity, read(root + name + ".br"),
                        read(root + name + ".gz"), etag(identity)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(root + "manifest.json is unreadable", e);
        }
        return new StaticAssets(Map.copyOf(files));
    }

    /** Whether the built assets were found (false: pages answer 503). */
    public boolean built() {
        return !files.isEmpty();
    }

    /** GET and HEAD for the pages and {@code /assets/*}. */
    public void register(HttpRouting.Builder routing) {
        for (Page page : PAGES) {
            routing.route(Method.predicate(Method.GET, Method.HEAD), PathMatchers.create(page.route()), (req, res) -> page(page, req, res));
        }
        routing.route(Method.predicate(Method.GET, Method.HEAD), PathMatchers.create("/assets/*"), this::asset);
    }

    private void page(Page page, ServerRequest req, ServerResponse res) {
        Asset a = files.get(page.file());
        if (a == null) {
            throw new ServiceUnavailableException("the web console's assets were not built into this server: "
                    + "build with `make build` (npm runs in web/), not with Maven alone");
        }
        res.header(HeaderNames.create("Content-Security-Policy"), page.csp());
        res.header(FRAME_DENY);
        res.header(REFERRER);
        send(a, CACHE_NO_CACHE, req, res);
    }

    private void asset(ServerRequest req, ServerResponse res) {
        String path = req.path().rawPath();
        String name = path.substring(1); // "assets/..."
        Asset a = files.get(name);
        if (a == null || !name.startsWith("assets/")) {
            throw new NotFoundException("no asset " + path + (built() ? "" : " (the web assets were not built)"));
        }
        send(a, CACHE_IMMUTABLE, req, res);
    }

    private void send(Asset a, Header cacheControl, ServerRequest req, ServerResponse res) {
        String coding = Compression.negotiate(req.headers().first(HeaderNames.ACCEPT_ENCODING).orElse(null),
                a.br() != null, a.gzip() != null);
        byte[] body = Compression.BROTLI.equals(coding) ? a.br() : Compression.GZIP.equals(coding) ? a.gzip() : a.identity();
        String etag = coding == null ? a.etag() : a.etag().substring(0, a.etag().length() - 1) + "-" + coding + "\"";
        res.header(HeaderNames.CONTENT_TYPE, a.contentType());
        res.header(cacheControl);
        res.header(VARY);
        res.header(NOSNIFF);
        res.header(HeaderNames.ETAG, etag);
        if (notModified(req.headers().first(HeaderNames.IF_NONE_MATCH).orElse(null), a.etag())) {
            res.status(Status.NOT_MODIFIED_304);
            res.send();
            return;
        }
        if (coding != null) {
            res.header(HeaderNames.CONTENT_ENCODING, coding);
        }
        res.status(Status.OK_200);
        if (req.prologue().method() == Method.HEAD) {
            res.header(HeaderNames.CONTENT_LENGTH, Integer.toString(body.length));
            res.send();
            return;
        }
        res.send(body);
    }

    /** If-None-Match names this file in any of its codings (weak comparison, RFC 9110 13.1.2), or is *. */
    static boolean notModified(String ifNoneMatch, String etag) {
        if (ifNoneMatch == null) {
            return false;
        }
        String opaque = etag.substring(1, etag.length() - 1);
        for (String part : ifNoneMatch.split(",")) {
            String t = part.trim();
            if (t.equals("*")) {
                return true;
            }
            if (t.startsWith("W/")) {
                t = t.substring(2);
            }
            if (t.length() >= 2 && t.startsWith("\"") && t.endsWith("\"")) {
                String v = t.substring(1, t.length() - 1);
                if (v.equals(opaque) || v.equals(opaque + "-br") || v.equals(opaque + "-gzip")) {
                    return true;
                }
            }
        }
        return false;
    }

    static String contentType(String name) {
        String ext = name.substring(name.lastIndexOf('.') + 1).toLowerCase(Locale.ROOT);
        return switch (ext) {
            case "html" -> "text/html; charset=utf-8";
            case "js", "mjs" -> "text/javascript; charset=utf-8";
            case "css" -> "text/css; charset=utf-8";
            case "json", "map" -> "application/json";
            case "svg" -> "image/svg+xml";
            case "png" -> "image/png";
            case "ico" -> "image/x-icon";
            case "woff2" -> "font/woff2";
            case "woff" -> "font/woff";
            case "ttf" -> "font/ttf";
            case "txt" -> "text/plain; charset=utf-8";
            default -> "application/octet-stream";
        };
    }

    private static String etag(byte[] bytes) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(bytes);
            return "\"" + HexFormat.of().formatHex(d, 0, 12) + "\"";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] read(String resource) {
        try (InputStream in = StaticAssets.class.getClassLoader().getResourceAsStream(resource)) {
            return in == null ? null : in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + resource, e);
        }
    }
}
