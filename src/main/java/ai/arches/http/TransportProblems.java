package ai.arches.http;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.ServerResponseHeaders;
import io.helidon.http.Status;
import io.helidon.webserver.http.DirectHandlers;

/**
 * Problem+json for the errors Helidon answers itself, before routing (a broken request line or
 * header, a URI, header block or declared body over the limits, an unknown HTTP version), so
 * every error the server sends has the shape {@link Problems} gives the rest.
 *
 * <p>These requests never reach the filter chain, so there is no request context: the request
 * id is generated here. The detail is a fixed sentence per kind of failure and never quotes the
 * request (Helidon's own messages can carry raw header bytes); the instance is the path only
 * when it is short and printable.
 */
public final class TransportProblems implements DirectHandler {
    static final HeaderName X_REQUEST_ID = HeaderNames.create("X-Request-Id");
    private static final int MAX_INSTANCE = 256;

    private TransportProblems() {}

    /** Every event type answered by this handler. */
    public static DirectHandlers handlers() {
        DirectHandler h = new TransportProblems();
        DirectHandlers.Builder b = DirectHandlers.builder();
        for (EventType t : EventType.values()) {
            b.addHandler(t, h);
        }
        return b.build();
    }

    @Override
    public TransportResponse handle(TransportRequest request, EventType eventType, Status status,
                                    ServerResponseHeaders headers, Throwable thrown) {
        return handle(request, eventType, status, headers, thrown == null ? null : thrown.getMessage());
    }

    /** The message only classifies the failure; it is never sent (it may quote the request). */
    @Override
    public TransportResponse handle(TransportRequest request, EventType eventType, Status status,
                                    ServerResponseHeaders headers, String message) {
        Status answer = refine(status, message);
        int code = answer.code();
        String requestId = UUID.randomUUID().toString();
        headers.set(HeaderNames.CONTENT_TYPE, JsonIo.PROBLEM_JSON);
        headers.set(X_REQUEST_ID, requestId);
        return TransportResponse.builder()
                .status(answer)
                .headers(headers)
                .keepAlive(eventType.keepAlive() && code < 500)
                .entity(body(answer, request.path(), requestId))
                .build();
    }

    static byte[] body(Status status, String path, String requestId) {
        int code = status.code();
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("type", Problems.TYPE_PREFIX + type(code));
        body.put("title", status.reasonPhrase());
        body.put("status", code);
        body.put("detail", detail(code));
        body.put("instance", instance(path));
        body.put("requestId", requestId);
        try {
            return Json.MAPPER.writeValueAsBytes(body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Helidon reports an oversized header block as a plain 400; RFC 6585 names it 431. */
    private static Status refine(Status status, String message) {
        String m = message == null ? "" : message.toLowerCase(Locale.ROOT);
        if (status.code() == 400 && m.contains("header") && (m.contains("size") || m.contains("too large")
                || m.contains("too long") || m.contains("exceed"))) {
            return Status.create(431, "Request Header Fields Too Large");
        }
        return status;
    }

    private static String type(int code) {
        return switch (code) {
            case 400 -> "bad-request";
            case 413 -> "payload-too-large";
            case 414 -> "uri-too-long";
            case 431 -> "headers-too-large";
            case 505 -> "http-version-not-supported";
            default -> code >= 500 ? "internal" : "http-" + code;
        };
    }

    private static String detail(int code) {
        return switch (code) {
            case 400 -> "the request line or a header is malformed (HTTP/1.1 syntax, no control characters)";
            case 413 -> "the request body exceeds the server's limit (server.max_body)";
            case 414 -> "the request line exceeds the server's limit";
            case 431 -> "the request headers exceed the server's limit";
            case 505 -> "only HTTP/1.1 is served";
            default -> code >= 500 ? "the request could not be processed" : "the request was rejected before routing";
        };
    }

    private static String instance(String path) {
        if (path == null || path.isEmpty() || path.length() > MAX_INSTANCE) {
            return "/";
        }
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c <= 0x20 || c >= 0x7f) {
                return "/";
            }
        }
        return path;
    }
}
