package ai.arches.bench;

import io.helidon.common.socket.SocketOptions;
import io.helidon.http.HeaderValues;
import io.helidon.webserver.WebServer;

import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The framework ceiling of the hot-path goals: a bare Helidon SE server answering
 * {@code GET /hello} with a small JSON object serialized by Jackson on every request, nothing else
 * (no filters, auth, metrics or database). bench.py starts it with the platform's JVM flags and
 * measures it with wrk beside the platform; the platform's cheapest routes are judged against it.
 * Socket settings follow the platform's server (backlog 8192, TCP_NODELAY), so the difference is
 * the platform's own work. Usage: {@code HelloServer PORT}.
 */
public final class HelloServer {
    record Hello(String message) {}

    private HelloServer() {}

    public static void main(String[] args) {
        ObjectMapper json = new ObjectMapper();
        WebServer server = WebServer.builder()
                .host("127.0.0.1")
                .port(Integer.parseInt(args[0]))
                .backlog(8192)
                .connectionOptions(SocketOptions.builder().tcpNoDelay(true).build())
                .routing(r -> r.get("/hello", (req, res) -> {
                    res.header(HeaderValues.CONTENT_TYPE_JSON);
                    res.send(json.writeValueAsBytes(new Hello("Hello, World!")));
                }))
                .build()
                .start();
        System.out.println("hello server up on port " + server.port());
    }
}
