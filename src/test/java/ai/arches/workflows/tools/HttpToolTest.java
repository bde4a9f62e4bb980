package ai.arches.workflows.tools;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import ai.arches.config.ArchesConfig;
import ai.arches.config.Cidr;
import ai.arches.embedding.Passages;
import ai.arches.http.Json;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class HttpToolTest {
    private static final long MAX_BYTES = 10_000;

    private final ExecutorService serverThreads = Executors.newVirtualThreadPerTaskExecutor();
    private final CountDownLatch release = new CountDownLatch(1);
    private HttpServer server;
    private HttpServer other;
    private String base;
    private String otherBase;
    private Toolbox toolbox;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(serverThreads);
        server.createContext("/json", ex -> send(ex, 200, "application/json; charset=utf-8", "{\"a\": [1, 2]}"));
        server.createContext("/not-json", ex -> send(ex, 200, "application/json", "{oops"));
        server.createContext("/latin1", ex -> {
            byte[] body = "café".getBytes(StandardCharsets.ISO_8859_1);
            ex.getResponseHeaders().add("Content-Type", "text/plain; charset=ISO-8859-1");
            ex.sendResponseHeaders(200, body.length);
            try (ex; OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        server.createContext("/echo", HttpToolTest::echo);
        server.createContext("/to-json", ex -> redirect(ex, 302, "/json"));
        server.createContext("/to-private", ex -> redirect(ex, 302, "http://10.0.0.1/"));
        server.createContext("/to-metadata", ex -> redirect(ex, 307, "http://169.254.169.254/latest/meta-data/"));
        server.createContext("/to-file", ex -> redirect(ex, 302, "file:///etc/passwd"));
        server.createContext("/loop", ex -> redirect(ex, 302, "/loop"));
        server.createContext("/see-other", ex -> redirect(ex, 303, "/echo"));
        server.createContext("/to-other", ex -> redirect(ex, 307, otherBase + "/echo"));
        server.createContext("/missing", ex -> send(ex, 404, "text/plain", "no such thing"));
        server.createContext("/big", ex -> send(ex, 200, "text/plain", "x".repeat((int) MAX_BYTES + 1)));
        server.createContext("/big-chunked", ex -> {
            ex.getResponseHeaders().add("Content-Type", "text/plain");
            ex.sendResponseHeaders(200, 0); // chunked: no length announced
            try (ex; OutputStream out = ex.getResponseBody()) {
                for (int i = 0; i < 100; i++) {
                    out.write("y".repeat(1000).getBytes(StandardCharsets.UTF_8));
                }
            } catch (IOException e) {
                // the client hung up once it had enough: expected
            }
        });
        server.createContext("/hang", ex -> {
            ex.getResponseHeaders().add("Content-Type", "text/plain");
            ex.sendResponseHeaders(200, 0);
            try (ex) {
                ex.getResponseBody().write('a');
                ex.getResponseBody().flush();
                release.await();
            } catch (InterruptedException | IOException e) {
                // test over
            }
        });
        server.start();
        base = "http://127.0.0.1:" + server.getAddress().getPort();

        other = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        other.setExecutor(serverThreads);
        other.createContext("/echo", HttpToolTest::echo);
        other.start();
        otherBase = "http://127.0.0.1:" + other.getAddress().getPort();

        toolbox = toolbox(List.of(Cidr.parse("127.0.0.1/32")), Duration.ofSeconds(5));
    }

    @AfterEach
    void stop() {
        release.countDown();
        toolbox.close();
        server.stop(0);
        other.stop(0);
        serverThreads.shutdownNow();
    }

    private static Toolbox toolbox(List<Cidr> allow, Duration timeout) {
        ArchesConfig.Workflows w = Fixtures.workflows(allow, MAX_BYTES, "");
        ArchesConfig.Workflows cfg = new ArchesConfig.Workflows(w.workers(), w.poolConnections(), w.maxRunningPerOrg(),
                w.maxQueuedPerOrg(), w.lease(), w.pollInterval(), w.defaultStepTimeout(),
                new ArchesConfig.Http(allow, timeout, MAX_BYTES), w.summarize());
        return new Toolbox(null, null, new Passages(20, 5), cfg, Json.MAPPER);
    }

    private JsonNode run(String config) throws Exception {
        return toolbox.get("http").orElseThrow().run(Fixtures.call(config));
    }

    @Test
    void a_json_response_is_parsed() throws Exception {
        JsonNode out = run("{\"url\": \"" + base + "/json\"}");
        assertThat(out.get("status").asInt()).isEqualTo(200);
        assertThat(out.at("/headers/content-type").asText()).isEqualTo("application/json; charset=utf-8");
        assertThat(out.get("body")).isEqualTo(Json.MAPPER.readTree("{\"a\": [1, 2]}"));
        assertThat(run("{\"url\": \"" + base + "/not-json\"}").get("body").asText()).isEqualTo("{oops");
    }

    @Test
    void text_is_decoded_in_its_declared_charset() throws Exception {
        assertThat(run("{\"url\": \"" + base + "/latin1\"}").get("body").asText()).isEqualTo("café");
    }

    @Test
    void method_headers_and_a_json_body_are_sent() throws Exception {
        JsonNode out = run("{\"url\": \"" + base + "/echo\", \"method\": \"put\", "
                + "\"headers\": {\"X-Test\": \"yes\"}, \"body\": {\"k\": \"v\"}}");
        JsonNode echo = out.get("body");
        assertThat(echo.get("method").asText()).isEqualTo("PUT");
        assertThat(echo.get("x-test").asText()).isEqualTo("yes");
        assertThat(echo.get("content-type").asText()).isEqualTo("application/json");
        assertThat(echo.get("body").asText()).isEqualTo("{\"k\":\"v\"}");

        JsonNode text = run("{\"url\": \"" + base + "/echo\", \"method\": \"POST\", \"body\": \"plain\"}").get("body");
        assertThat(text.get("content-type").asText()).isEqualTo("text/plain; charset=utf-8");
        assertThat(text.get("body").asText()).isEqualTo("plain");

        JsonNode head = run("{\"url\": \"" + base + "/json\", \"method\": \"HEAD\"}");
        assertThat(head.get("status").asInt()).isEqualTo(200);
        assertThat(head.get("body").isNull()).isTrue();
    }

    @Test
    void redirects_are_followed_and_each_target_is_checked() throws Exception {
        JsonNode out = run("{\"url\": \"" + base + "/to-json\"}");
        assertThat(out.get("url").asText()).isEqualTo(base + "/json");
        assertThat(out.get("body").get("a").size()).isEqualTo(2);

        assertThatThrownBy(() -> run("{\"url\": \"" + base + "/to-private\"}"))
                .isInstanceOf(ToolException.class).hasMessageContaining("refused").hasMessageContaining("private");
        assertThatThrownBy(() -> run("{\"url\": \"" + base + "/to-metadata\"}")).hasMessageContaining("metadata");
        assertThatThrownBy(() -> run("{\"url\": \"" + base + "/to-file\"}")).hasMessageContaining("http");
        assertThatThrownBy(() -> run("{\"url\": \"" + base + "/loop\"}")).hasMessage("stopped after 5 redirects");
    }

    @Test
    void see_other_turns_a_post_into_a_get_without_body() throws Exception {
        JsonNode echo = run("{\"url\": \"" + base + "/see-other\", \"method\": \"POST\", \"body\": {\"x\": 1}}").get("body");
        assertThat(echo.get("method").asText()).isEqualTo("GET");
        assertThat(echo.get("body").asText()).isEmpty();
        assertThat(echo.has("content-type")).isFalse();
    }

    @Test
    void credentials_do_not_follow_a_redirect_to_another_origin() throws Exception {
        JsonNode echo = run("{\"url\": \"" + base + "/to-other\", \"method\": \"POST\", \"body\": \"b\", "
                + "\"headers\": {\"Authorization\": \"Bearer secret\", \"X-Test\": \"kept\"}}").get("body");
        assertThat(echo.get("method").asText()).isEqualTo("POST");
        assertThat(echo.get("body").asText()).isEqualTo("b");
        assertThat(echo.get("x-test").asText()).isEqualTo("kept");
        assertThat(echo.has("authorization")).isFalse();
    }

    @Test
    void an_error_status_fails_unless_any_status_is_accepted() throws Exception {
        assertThatThrownBy(() -> run("{\"url\": \"" + base + "/missing\"}"))
                .isInstanceOf(ToolException.class).hasMessageContaining("status 404");
        JsonNode out = run("{\"url\": \"" + base + "/missing\", \"acceptAnyStatus\": true}");
        assertThat(out.get("status").asInt()).isEqualTo(404);
        assertThat(out.get("body").asText()).isEqualTo("no such thing");
    }

    @Test
    void an_oversized_body_fails_whether_announced_or_not() {
        assertThatThrownBy(() -> run("{\"url\": \"" + base + "/big\"}"))
                .isInstanceOf(ToolException.class).hasMessage("response larger than " + MAX_BYTES + " bytes");
        assertThatThrownBy(() -> run("{\"url\": \"" + base + "/big-chunked\"}"))
                .hasMessage("response larger than " + MAX_BYTES + " bytes");
    }

    @Test
    void loopback_is_refused_without_the_allowlist() {
        try (Toolbox strict = toolbox(List.of(), Duration.ofSeconds(5))) {
            assertThatThrownBy(() -> strict.get("http").orElseThrow().run(Fixtures.call("{\"url\": \"" + base + "/json\"}")))
                    .isInstanceOf(ToolException.class).hasMessageContaining("loopback");
        }
    }

    @Test
    @Timeout(20)
    void a_body_that_never_ends_times_out() {
        try (Toolbox quick = toolbox(List.of(Cidr.parse("127.0.0.1/32")), Duration.ofMillis(500))) {
            assertThatThrownBy(() -> quick.get("http").orElseThrow().run(Fixtures.call("{\"url\": \"" + base + "/hang\"}")))
                    .isInstanceOf(ToolException.class).hasMessage("no complete response within 500 ms");
        }
    }

    @Test
    @Timeout(20)
    void an_interrupt_stops_a_request_in_flight() throws Exception {
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread t = Thread.ofVirtual().start(() -> {
            try {
                run("{\"url\": \"" + base + "/hang\"}");
            } catch (Throwable e) {
                thrown.set(e);
            }
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (t.getState() != Thread.State.WAITING && t.getState() != Thread.State.TIMED_WAITING
                && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        t.interrupt();
        assertThat(t.join(Duration.ofSeconds(5))).isTrue();
        assertThat(thrown.get()).isInstanceOf(InterruptedException.class);
    }

    private static void echo(HttpExchange ex) throws IOException {
        var node = Json.MAPPER.createObjectNode().put("method", ex.getRequestMethod())
                .put("body", new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
        ex.getRequestHeaders().forEach((k, v) -> node.put(k.toLowerCase(java.util.Locale.ROOT), v.getFirst()));
        send(ex, 200, "application/json", Json.MAPPER.writeValueAsString(node));
    }

    private static void redirect(HttpExchange ex, int status, String location) throws IOException {
        ex.getRequestBody().readAllBytes();
        ex.getResponseHeaders().add("Location", location);
        ex.sendResponseHeaders(status, -1);
        ex.close();
    }

    private static void send(HttpExchange ex, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", type);
        ex.sendResponseHeaders(status, ex.getRequestMethod().equals("HEAD") ? -1 : bytes.length);
        try (ex; OutputStream out = ex.getResponseBody()) {
            if (!ex.getRequestMethod().equals("HEAD")) {
                out.write(bytes);
            }
        }
    }
}
