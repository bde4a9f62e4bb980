package ai.arches.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import ai.arches.testing.ServerTest;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/**
 * Bytes that never reach routing (a broken request line or header, limits Helidon enforces while
 * reading) still get an RFC 9457 problem, like every other error. Driven over a raw socket, since
 * an HTTP client refuses to send most of these.
 */
class PreRoutingErrorsTest extends ServerTest {
    private static final int MAX_BODY = 16 * 1024;

    @Override
    protected Map<String, String> overrides() {
        return Map.of("server.max_body", Integer.toString(MAX_BODY));
    }

    @Test
    void control_bytes_in_a_header_value_are_a_400_problem() throws IOException {
        assertProblem(send("GET /health HTTP/1.1\r\nHost: x\r\nX-Evil: a\u0001b\u0007c\r\n\r\n"), 400);
    }

    @Test
    void a_header_line_without_a_colon_is_a_400_problem() throws IOException {
        assertProblem(send("GET /health HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n"), 400);
    }

    @Test
    void a_garbage_request_line_is_a_400_problem() throws IOException {
        assertProblem(send("HELLO THERE\r\n\r\n"), 400);
    }

    @Test
    void an_unknown_http_version_is_a_problem() throws IOException {
        Raw r = send("GET /health HTTP/7.3\r\nHost: x\r\n\r\n");
        assertThat(r.status()).isIn(400, 505);
        assertProblem(r, r.status());
    }

    @Test
    void a_20_kb_uri_is_a_414_problem() throws IOException {
        assertProblem(send("GET /" + "a".repeat(20_000) + " HTTP/1.1\r\nHost: x\r\n\r\n"), 414);
    }

    @Test
    void a_100_kb_header_block_is_a_431_problem() throws IOException {
        StringBuilder h = new StringBuilder("GET /health HTTP/1.1\r\nHost: x\r\n");
        for (int i = 0; i < 100; i++) {
            h.append("X-Pad-").append(i).append(": ").append("p".repeat(1000)).append("\r\n");
        }
        assertProblem(send(h.append("\r\n").toString()), 431);
    }

    @Test
    void a_body_just_over_max_body_with_content_length_is_a_413_problem() throws IOException {
        String body = "{\"x\":\"" + "a".repeat(MAX_BODY) + "\"}";
        assertProblem(send("POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + body.length() + "\r\n\r\n" + body), 413);
    }

    @Test
    void a_body_far_over_max_body_with_content_length_is_a_413_problem() throws IOException {
        String body = "a".repeat(MAX_BODY * 8);
        assertProblem(send("POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + body.length() + "\r\n\r\n" + body), 413);
    }

    @Test
    void a_declared_huge_body_to_a_route_that_reads_none_is_a_413_problem() throws IOException {
        assertProblem(send("POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999\r\n\r\nabc"), 413);
    }

    @Test
    void a_chunked_body_over_max_body_is_a_413_problem() throws IOException {
        StringBuilder req = new StringBuilder("POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\n"
                + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
        String chunk = "a".repeat(4096);
        for (int i = 0; i < (MAX_BODY * 3) / chunk.length(); i++) {
            req.append(Integer.toHexString(chunk.length())).append("\r\n").append(chunk).append("\r\n");
        }
        assertProblem(send(req.append("0\r\n\r\n").toString()), 413);
    }

    @Test
    void the_server_keeps_serving_after_malformed_requests() throws IOException {
        send("\u0000\u0001\u0002 garbage\r\n\r\n");
        assertThat(api.get("/health", null).status()).isEqualTo(200);
    }

    private static void assertProblem(Raw r, int status) {
        assertThat(r.status()).as(r.toString()).isEqualTo(status);
        assertThat(r.headers().get("content-type")).as(r.toString()).startsWith("application/problem+json");
        JsonNode body;
        try {
            body = Json.MAPPER.readTree(r.body());
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + r, e);
        }
        assertThat(body.path("type").asText()).startsWith("urn:arches:problem:");
        assertThat(body.path("title").asText()).isNotBlank();
        assertThat(body.path("status").asInt()).isEqualTo(status);
        assertThat(body.path("detail").asText()).isNotBlank();
        assertThat(body.path("requestId").asText()).isNotBlank().isEqualTo(r.headers().get("x-request-id"));
    }

    record Raw(int status, Map<String, String> headers, String body) {}

    /** Writes the bytes (ignoring a reset once the server has answered) and reads one response. */
    private Raw send(String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", server.arches().port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            try {
                out.write(request.getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
            } catch (SocketException e) {
                // The server may answer and close before reading everything; read what it said.
            }
            return read(s.getInputStream());
        }
    }

    private static Raw read(InputStream in) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int headEnd = -1;
        int contentLength = -1;
        byte[] b = new byte[8192];
        try {
            while (true) {
                if (headEnd < 0) {
                    headEnd = buf.toString(StandardCharsets.ISO_8859_1).indexOf("\r\n\r\n");
                    if (headEnd >= 0) {
                        String head = buf.toString(StandardCharsets.ISO_8859_1).substring(0, headEnd);
                        for (String line : head.split("\r\n")) {
                            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                                contentLength = Integer.parseInt(line.substring(15).strip());
                            }
                        }
                    }
                }
                if (headEnd >= 0 && contentLength >= 0 && buf.size() >= headEnd + 4 + contentLength) {
                    break;
                }
                int n = in.read(b);
                if (n < 0) {
                    break;
                }
                buf.write(b, 0, n);
            }
        } catch (SocketException | SocketTimeoutException e) {
            // A reset after the response: keep what arrived.
        }
        String all = buf.toString(StandardCharsets.UTF_8);
        if (headEnd >= 0 && contentLength >= 0) {
            all = all.substring(0, Math.min(all.length(), headEnd + 4 + contentLength)); // one response
        }
        int end = all.indexOf("\r\n\r\n");
        if (end < 0) {
            return new Raw(-1, Map.of(), all);
        }
        String[] lines = all.substring(0, end).split("\r\n");
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                headers.put(lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).strip());
            }
        }
        String[] statusLine = lines[0].split(" ", 3);
        return new Raw(Integer.parseInt(statusLine[1]), headers, all.substring(end + 4));
    }
}
