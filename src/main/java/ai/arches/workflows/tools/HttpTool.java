package ai.arches.workflows.tools;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

import ai.arches.common.FieldError;
import ai.arches.config.ArchesConfig;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * {@code http}: one request to a public http(s) URL, redirects followed here (at most
 * {@value #MAX_REDIRECTS}) so that every hop passes the {@link SsrfGuard}. Output is the status,
 * a few response headers, the final URL and the body (parsed when it is JSON). A status of 400
 * or more fails the step unless {@code acceptAnyStatus} is true.
 *
 * <p>DNS rebinding: the guard resolves the host and checks every address, but the connection
 * is made by java.net.http, which resolves the name again. Pinning the checked address is not
 * possible with it: there is no per-client resolver hook, and connecting to the IP literal
 * would need our own Host header (refused unless a JVM-wide system property lifts it) and, for
 * https, SNI and certificate checks against the name. The window is narrow, not closed: the
 * JDK caches a successful lookup (networkaddress.cache.ttl, 30 s by default) and the client's
 * lookup comes milliseconds after the guard's, so it reuses the checked answer unless the entry
 * expires in between or an operator set the TTL to 0. Where that matters, an egress firewall
 * blocking private ranges is the real fence.
 */
final class HttpTool implements Tool {
    static final int MAX_REDIRECTS = 5;
    static final int MAX_URL = 8192;
    static final int MAX_HEADERS = 100;
    static final int MAX_HEADER_VALUE = 8192;
    private static final Set<String> METHODS = Set.of("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD");
    private static final Set<Integer> REDIRECTS = Set.of(301, 302, 303, 307, 308);
    /** Headers the client or the connection owns; a step setting them could smuggle requests. */
    private static final Set<String> REFUSED = Set.of("host", "content-length", "connection", "expect", "upgrade",
            "transfer-encoding", "te", "trailer", "keep-alive", "proxy-connection", "http2-settings");
    /** Credentials stay with the origin they were written for when a redirect leaves it. */
    private static final Set<String> CREDENTIALS = Set.of("authorization", "cookie", "proxy-authorization");
    private static final List<String> SHOWN = List.of("content-type", "content-length", "location", "etag",
            "last-modified", "cache-control", "retry-after");

    private final HttpClient client;
    private final SsrfGuard guard;
    private final ArchesConfig.Http cfg;
    private final ObjectMapper json;

    HttpTool(HttpClient client, SsrfGuard guard, ArchesConfig.Http cfg, ObjectMapper json) {
        this.client = client;
        this.guard = guard;
        this.cfg = cfg;
        this.json = json;
    }

    @Override
    public String name() {
        return "http";
    }

    private record Request(URI url, String method, Map<String, String> headers, byte[] body, String contentType,
                           boolean acceptAnyStatus) {}

    @Override
    public List<FieldError> check(ObjectNode config, String at) {
        Args a = Args.check(config, at);
        request(a);
        return a.done();
    }

    @Override
    public JsonNode run(ToolCall call) throws InterruptedException {
        Args a = Args.run(call.config());
        Request r = request(a);
        a.done();
        URI url = r.url();
        String method = r.method();
        byte[] body = r.body();
        String contentType = r.contentType();
        Map<String, String> headers = r.headers();
        for (int hop = 0; ; hop++) {
            guard.check(url);
            HttpResponse<byte[]> res = BoundedExchange.send(client, build(url, method, headers, body, contentType),
                    cfg.maxResponseBytes(), cfg.timeout());
            int status = res.statusCode();
            var location = res.headers().firstValue("location");
            if (!REDIRECTS.contains(status) || location.isEmpty()) {
                return output(res, url, method, r.acceptAnyStatus());
            }
            if (hop == MAX_REDIRECTS) {
                throw new ToolException("stopped after " + MAX_REDIRECTS + " redirects");
            }
            URI next = redirect(url, location.get());
            // As browsers do: 303 turns anything but HEAD into GET, 301/302 turn POST into GET.
            if ((status == 303 && !method.equals("HEAD")) || ((status == 301 || status == 302) && method.equals("POST"))) {
                method = "GET";
                body = null;
                contentType = null;
                headers = without(headers, Set.of("content-type"));
            }
            if (!sameOrigin(url, next)) {
                headers = without(headers, CREDENTIALS);
            }
            url = next;
        }
    }

    private HttpRequest build(URI url, String method, Map<String, String> headers, byte[] body, String contentType) {
        HttpRequest.Builder b = HttpRequest.newBuilder(url).timeout(cfg.timeout())
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(body));
        if (url.getScheme().equalsIgnoreCase("http")) {
            // HTTP/2 only over TLS (ALPN): plain-text h2c upgrade headers confuse many servers.
            b.version(HttpClient.Version.HTTP_1_1);
        }
        try {
            headers.forEach(b::header);
            if (contentType != null) {
                b.header("Content-Type", contentType);
            }
        } catch (IllegalArgumentException e) {
            throw new ToolException("a header in config.headers is refused by the HTTP client");
        }
        return b.build();
    }

    private ObjectNode output(HttpResponse<byte[]> res, URI url, String method, boolean acceptAnyStatus) {
        int status = res.statusCode();
        if (status >= 400 && !acceptAnyStatus) {
            throw new ToolException(method + " answered status " + status
                    + " (set acceptAnyStatus to true to take any status as output)");
        }
        ObjectNode out = json.createObjectNode().put("status", status).put("url", url.toString());
        ObjectNode headers = out.putObject("headers");
        for (String name : SHOWN) {
            res.headers().firstValue(name).ifPresent(v -> headers.put(name, v));
        }
        String type = res.headers().firstValue("content-type").orElse("");
        out.set("body", method.equals("HEAD") ? NullNode.getInstance() : body(res.body(), type));
        return out;
    }

    /** JSON for a JSON media type (text when it does not parse), else text in the declared charset. */
    private JsonNode body(byte[] bytes, String contentType) {
        String media = contentType.split(";", 2)[0].strip().toLowerCase(Locale.ROOT);
        if ((media.equals("application/json") || media.endsWith("+json")) && bytes.length > 0) {
            try {
                return json.readTree(bytes);
            } catch (IOException e) {
                // served as JSON but is not: the text is still worth having
            }
        }
        return json.getNodeFactory().textNode(new String(bytes, charset(contentType)));
    }

    private static Charset charset(String contentType) {
        for (String part : contentType.split(";")) {
            String p = part.strip();
            if (p.regionMatches(true, 0, "charset=", 0, 8)) {
                try {
                    return Charset.forName(p.substring(8).replace("\"", "").strip());
                } catch (IllegalArgumentException e) {
                    return StandardCharsets.UTF_8;
                }
            }
        }
        return StandardCharsets.UTF_8;
    }

    private static URI redirect(URI from, String location) {
        try {
            URI base = from;
            if (from.getRawPath() == null || from.getRawPath().isEmpty()) {
                // URI.resolve against an empty path glues a relative reference onto the host name.
                base = new URI(from.getScheme() + "://" + from.getRawAuthority() + "/");
            }
            return base.resolve(new URI(location.strip()));
        } catch (URISyntaxException | IllegalArgumentException e) {
            throw new ToolException("redirected to an invalid URL");
        }
    }

    private static boolean sameOrigin(URI a, URI b) {
        return a.getScheme().equalsIgnoreCase(b.getScheme()) && Objects.equals(a.getHost(), b.getHost())
                && port(a) == port(b);
    }

    private static int port(URI u) {
        return u.getPort() >= 0 ? u.getPort() : u.getScheme().equalsIgnoreCase("https") ? 443 : 80;
    }

    private static Map<String, String> without(Map<String, String> headers, Set<String> names) {
        Map<String, String> out = new LinkedHashMap<>();
        headers.forEach((k, v) -> {
            if (!names.contains(k.toLowerCase(Locale.ROOT))) {
                out.put(k, v);
            }
        });
        return out;
    }

    private Request request(Args a) {
        URI url = null;
        String raw = a.string("url", true, MAX_URL);
        if (raw != null) {
            try {
                url = new URI(raw);
                String problem = guard.staticProblem(url);
                if (problem != null) {
                    a.problem("url", problem);
                    url = null;
                }
            } catch (URISyntaxException e) {
                a.problem("url", "must be a valid URL");
            }
        }
        // A method still to come from a template is not known: the body rule waits for the run.
        boolean methodKnown = !a.pending(a.node("method"));
        String method = a.string("method", false, 10);
        method = method == null ? "GET" : method.toUpperCase(Locale.ROOT);
        if (!METHODS.contains(method)) {
            a.problem("method", "must be one of DELETE, GET, HEAD, PATCH, POST, PUT");
            method = "GET";
            methodKnown = false;
        }
        Map<String, String> headers = headers(a);
        boolean userType = headers.keySet().stream().anyMatch(k -> k.equalsIgnoreCase("content-type"));
        byte[] body = null;
        String contentType = null;
        JsonNode b = a.node("body");
        if (b != null && methodKnown && (method.equals("GET") || method.equals("HEAD"))) {
            a.problem("body", "must be absent for " + method);
        } else if (b != null && b.isTextual()) {
            body = b.textValue().getBytes(StandardCharsets.UTF_8);
            contentType = userType ? null : "text/plain; charset=utf-8";
        } else if (b != null) {
            try {
                body = json.writeValueAsBytes(b);
            } catch (JsonProcessingException e) {
                a.problem("body", "cannot be written as JSON");
            }
            contentType = userType ? null : "application/json";
        }
        boolean acceptAnyStatus = a.flag("acceptAnyStatus", false);
        return new Request(url, method, headers, body, contentType, acceptAnyStatus);
    }

    private static Map<String, String> headers(Args a) {
        Map<String, String> out = new LinkedHashMap<>();
        ObjectNode h = a.object("headers");
        if (h == null) {
            return out;
        }
        if (h.size() > MAX_HEADERS) {
            a.problem("headers", "must have at most " + MAX_HEADERS + " entries");
            return out;
        }
        Iterator<Map.Entry<String, JsonNode>> it = h.properties().iterator();
        while (it.hasNext()) {
            var e = it.next();
            String name = e.getKey();
            String key = "headers." + name;
            if (!isToken(name)) {
                a.problem(key, "is not a valid header name");
            } else if (REFUSED.contains(name.toLowerCase(Locale.ROOT)) || name.regionMatches(true, 0, "proxy-", 0, 6)) {
                a.problem(key, "is set by the client, not by a step");
            } else if (!e.getValue().isTextual()) {
                a.problem(key, "must be a string");
            } else if (a.pending(e.getValue())) {
                continue;
            } else if (e.getValue().textValue().length() > MAX_HEADER_VALUE || !isFieldValue(e.getValue().textValue())) {
                a.problem(key, "must be at most " + MAX_HEADER_VALUE + " characters, without control characters");
            } else {
                out.put(name, e.getValue().textValue().strip());
            }
        }
        return out;
    }

    /** RFC 9110 token: what a header name may be. */
    private static boolean isToken(String s) {
        if (s.isEmpty() || s.length() > 256) {
            return false;
        }
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** No CR, LF, NUL or other controls (tab aside): they would split or corrupt the request. */
    private static boolean isFieldValue(String s) {
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            if ((c < 0x20 && c != '\t') || c == 0x7f || c > 0xff) {
                return false;
            }
        }
        return true;
    }
}
