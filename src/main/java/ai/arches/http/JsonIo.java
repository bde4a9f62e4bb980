package ai.arches.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import ai.arches.common.FieldError;
import ai.arches.common.InvalidInputException;
import ai.arches.common.Listing;
import ai.arches.common.PayloadTooLargeException;
import ai.arches.common.RateLimitStatus;
import ai.arches.common.UnsupportedMediaTypeException;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.helidon.http.Header;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * Reads JSON request bodies within the size limit and writes JSON responses: field selection
 * ({@code ?fields=}), and brotli or gzip for bodies of at least {@code compressionMinSize} bytes
 * when the client accepts it. Compression is decided here rather than by a Helidon
 * ContentEncoding, because an encoder there compresses every body whatever its size, and
 * compressing a 200-byte body costs CPU and bytes for nothing.
 */
public final class JsonIo {
    public static final String JSON = "application/json";
    public static final String PROBLEM_JSON = "application/problem+json";
    // Built once: a header made per response costs a name lookup (for a String name), a new value
    // object and its validation; these are written on every response of the hot path.
    private static final Header JSON_TYPE = HeaderValues.createCached(HeaderNames.CONTENT_TYPE, JSON);
    private static final Header PROBLEM_TYPE = HeaderValues.createCached(HeaderNames.CONTENT_TYPE, PROBLEM_JSON);
    private static final Header VARY_ENCODING = HeaderValues.createCached(HeaderNames.VARY, "Accept-Encoding");
    private static final HeaderName RATE_LIMIT_LIMIT = HeaderNames.create("RateLimit-Limit");
    private static final HeaderName RATE_LIMIT_REMAINING = HeaderNames.create("RateLimit-Remaining");
    private static final HeaderName RATE_LIMIT_RESET = HeaderNames.create("RateLimit-Reset");

    private final long maxBody;
    private final int compressionMinSize;
    private final Compression compression = new Compression();

    public JsonIo(long maxBody, int compressionMinSize) {
        this.maxBody = maxBody;
        this.compressionMinSize = compressionMinSize;
    }

    /** The body as a JSON object: 415 if not JSON, 413 if too large, 400 if malformed. */
    public ObjectNode readObject(ServerRequest req) {
        String type = req.headers().first(HeaderNames.CONTENT_TYPE).orElse("");
        if (!isJson(type)) {
            throw new UnsupportedMediaTypeException(type.isEmpty()
                    ? "request body needs Content-Type: application/json"
                    : "request body must be application/json, was " + type.split(";")[0].trim());
        }
        byte[] bytes = req.context().get(ReadBody.class).map(ReadBody::bytes).orElseGet(() -> readBounded(req));
        if (bytes.length == 0) {
            throw new InvalidInputException("request body is empty; a JSON object is required");
        }
        JsonNode node;
        try {
            node = Json.MAPPER.readTree(bytes);
        } catch (JacksonException e) {
            String where = e.getLocation() == null ? ""
                    : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
            throw new InvalidInputException("malformed JSON" + where + ": " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (node == null || !node.isObject()) {
            throw new InvalidInputException("request body must be a JSON object");
        }
        return (ObjectNode) node;
    }

    /**
     * The raw request body, read now within {@code server.max_body} (413 beyond) and kept in the
     * request's context, so that {@link #readObject} later parses the same bytes: for a layer that
     * must see the body before the handler does (idempotency keys fingerprint it).
     */
    public byte[] body(ServerRequest req) {
        var read = req.context().get(ReadBody.class);
        if (read.isPresent()) {
            return read.get().bytes();
        }
        byte[] bytes = readBounded(req);
        req.context().register(new ReadBody(bytes));
        return bytes;
    }

    /** A body {@link #body} already read. */
    private record ReadBody(byte[] bytes) {}

    public Input readInput(ServerRequest req) {
        return new Input(readObject(req));
    }

    public void send(ServerRequest req, ServerResponse res, Status status, Object body) {
        send(req, res, status, body, null);
    }

    /**
     * Writes {@code body} as JSON. When {@code selectable} names the fields a client may pick,
     * {@code ?fields=a,b} keeps only those (on every item of a {@link Page}); an unknown field is 400.
     */
    public void send(ServerRequest req, ServerResponse res, Status status, Object body, Collection<String> selectable) {
        Object out = body;
        if (selectable != null) {
            Set<String> fields = fields(req, selectable);
            if (fields != null) {
                out = select(body, fields);
            }
        }
        byte[] bytes;
        try {
            bytes = Json.MAPPER.writeValueAsBytes(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        write(req, res, status, JSON, bytes);
    }

    /** Writes bytes with the given content type, compressed when worth it and accepted. */
    public void write(ServerRequest req, ServerResponse res, Status status, String contentType, byte[] bytes) {
        if (Method.POST.equals(req.prologue().method())) {
            req.context().get(WrittenEntity.class).ifPresent(e -> e.set(contentType, bytes));
        }
        res.status(status);
        rateLimitHeaders(req, res);
        res.header(contentType.equals(JSON) ? JSON_TYPE
                : contentType.equals(PROBLEM_JSON) ? PROBLEM_TYPE : HeaderValues.create(HeaderNames.CONTENT_TYPE, contentType));
        if (bytes.length >= compressionMinSize) {
            res.header(VARY_ENCODING);
            String coding = compression.choose(req.headers().first(HeaderNames.ACCEPT_ENCODING).orElse(null));
            if (coding != null) {
                res.header(HeaderNames.CONTENT_ENCODING, coding);
                res.send(compression.encode(coding, bytes));
                return;
            }
        }
        res.send(bytes);
    }

    /** RateLimit-Limit/Remaining/Reset (IETF httpapi draft) for callers that were counted. */
    static void rateLimitHeaders(ServerRequest req, ServerResponse res) {
        req.context().get(RateLimitStatus.class).ifPresent(s -> {
            res.header(HeaderValues.create(RATE_LIMIT_LIMIT, s.limit()));
            res.header(HeaderValues.create(RATE_LIMIT_REMAINING, s.remaining()));
            res.header(HeaderValues.create(RATE_LIMIT_RESET, s.resetSeconds()));
        });
    }

    /** Parses {@code ?fields=}: null when absent, else the chosen fields; unknown ones are 400. */
    public static Set<String> fields(ServerRequest req, Collection<String> selectable) {
        if (!req.query().contains("fields")) {
            return null;
        }
        Set<String> chosen = new LinkedHashSet<>();
        for (String raw : req.query().all("fields")) {
            for (String f : raw.split(",")) {
                String name = f.trim();
                if (!name.isEmpty()) {
                    chosen.add(name);
                }
            }
        }
        if (chosen.isEmpty()) {
            throw new InvalidInputException("fields must name at least one field",
                    List.of(new FieldError("fields", "must name at least one of " + String.join(",", selectable))));
        }
        List<FieldError> unknown = chosen.stream().filter(f -> !selectable.contains(f))
                .map(f -> new FieldError("fields", "unknown field '" + f + "'; known: " + String.join(",", selectable)))
                .toList();
        if (!unknown.isEmpty()) {
            throw new InvalidInputException("fields names unknown fields", unknown);
        }
        return chosen;
    }

    private static Object select(Object body, Set<String> fields) {
        if (body instanceof Listing listing) {
            ObjectNode out = Json.MAPPER.valueToTree(body);
            ArrayNode data = out.putArray("data");
            for (Object item : listing.data()) {
                data.add(retain(Json.MAPPER.valueToTree(item), fields));
            }
            return out;
        }
        return retain(Json.MAPPER.valueToTree(body), fields);
    }

    private static JsonNode retain(JsonNode node, Set<String> fields) {
        if (node instanceof ObjectNode obj) {
            obj.retain(fields);
        }
        return node;
    }

    private byte[] readBounded(ServerRequest req) {
        if (req.headers().contentLength().orElse(-1) > maxBody) {
            throw tooLarge();
        }
        if (!req.content().hasEntity()) {
            return new byte[0];
        }
        try (InputStream in = req.content().inputStream()) {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            byte[] chunk = new byte[8192];
            long total = 0;
            int n;
            while ((n = in.read(chunk)) > 0) {
                total += n;
                if (total > maxBody) {
                    throw tooLarge();
                }
                buf.write(chunk, 0, n);
            }
            return buf.toByteArray();
        } catch (IOException e) {
            throw new InvalidInputException("request body could not be read: " + e.getMessage());
        }
    }

    private PayloadTooLargeException tooLarge() {
        return new PayloadTooLargeException("request body exceeds " + maxBody + " bytes (server.max_body)");
    }

    static boolean isJson(String contentType) {
        String mt = contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        return mt.equals(JSON) || (mt.startsWith("application/") && mt.endsWith("+json"));
    }

}
