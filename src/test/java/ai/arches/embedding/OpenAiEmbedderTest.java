package ai.arches.embedding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import ai.arches.config.ArchesConfig;
import ai.arches.http.Json;

class OpenAiEmbedderTest {
    private static final String KEY = "sk-test-5ecret-key";

    /** What the fake provider does with one request; {@code attempt} counts from 1. */
    private interface Behaviour {
        void handle(HttpExchange ex, JsonNode request, int attempt) throws Exception;
    }

    private record Seen(String authorization, String contentType, String path, JsonNode body) {}

    private final List<Seen> seen = new CopyOnWriteArrayList<>();
    private final AtomicInteger attempts = new AtomicInteger();
    private final CountDownLatch hang = new CountDownLatch(1);
    private final ExecutorService serverThreads = Executors.newVirtualThreadPerTaskExecutor();
    private volatile Behaviour behaviour;
    private HttpServer server;
    private OpenAiEmbedder embedder;

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(serverThreads);
        server.createContext("/", ex -> {
            try (ex) {
                JsonNode body = Json.MAPPER.readTree(ex.getRequestBody().readAllBytes());
                seen.add(new Seen(ex.getRequestHeaders().getFirst("Authorization"),
                        ex.getRequestHeaders().getFirst("Content-Type"), ex.getRequestURI().getPath(), body));
                behaviour.handle(ex, body, attempts.incrementAndGet());
            } catch (Exception e) {
                throw new IOException(e);
            }
        });
        server.start();
    }

    @AfterEach
    void stop() {
        hang.countDown();
        if (embedder != null) {
            embedder.close();
        }
        server.stop(0);
        serverThreads.shutdownNow();
    }

    private OpenAiEmbedder embedder(Duration timeout, int maxRetries, Duration backoff, int maxConcurrent, String key) {
        String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
        embedder = new OpenAiEmbedder(new ArchesConfig.OpenAi(url, "text-embedding-3-small", key, timeout,
                maxRetries, backoff, maxConcurrent));
        return embedder;
    }

    private OpenAiEmbedder embedder(int maxRetries) {
        return embedder(Duration.ofSeconds(5), maxRetries, Duration.ofMillis(1), 4, KEY);
    }

    /** Texts "t<n>"; the fake answers each with a vector of 3 at n % 384 and 4 after it (0.6, 0.8 once normalized). */
    private static List<String> texts(int n) {
        return IntStream.range(0, n).mapToObj(i -> "t" + i).toList();
    }

    private static void answer(HttpExchange ex, JsonNode request, int dims, boolean shuffle) throws IOException {
        List<Integer> order = new ArrayList<>(IntStream.range(0, request.get("input").size()).boxed().toList());
        if (shuffle) {
            Collections.reverse(order);
            Collections.swap(order, 0, order.size() / 2);
        }
        ObjectNode response = Json.MAPPER.createObjectNode();
        ArrayNode data = response.putArray("data");
        for (int index : order) {
            int n = Integer.parseInt(request.get("input").get(index).asText().substring(1));
            ArrayNode v = data.addObject().put("object", "embedding").put("index", index).putArray("embedding");
            for (int k = 0; k < dims; k++) {
                v.add(k == n % dims ? 3.0 : k == (n + 1) % dims ? 4.0 : 0.0);
            }
        }
        respond(ex, 200, Json.MAPPER.writeValueAsString(response));
    }

    private static void respond(HttpExchange ex, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static void assertAnswers(List<float[]> vectors, int n) {
        assertThat(vectors).hasSize(n);
        for (int i = 0; i < n; i++) {
            float[] v = vectors.get(i);
            assertThat(v).hasSize(Embedder.DIMENSIONS);
            assertThat(v[i % 384]).as("vector %d", i).isCloseTo(0.6f, offset(1e-6f));
            double norm = 0;
            for (float x : v) {
                norm += x * x;
            }
            assertThat(Math.sqrt(norm)).isCloseTo(1.0, offset(1e-6));
        }
    }

    @Test
    void vectors_come_back_in_input_order_and_unit_length_when_the_server_shuffles_them() {
        behaviour = (ex, req, attempt) -> answer(ex, req, 384, true);
        OpenAiEmbedder e = embedder(0);

        assertAnswers(e.embed(texts(10)), 10);

        assertThat(e.modelId()).isEqualTo("openai:text-embedding-3-small");
        Seen s = seen.getFirst();
        assertThat(s.path()).isEqualTo("/v1/embeddings");
        assertThat(s.authorization()).isEqualTo("Bearer " + KEY);
        assertThat(s.contentType()).isEqualTo("application/json");
        assertThat(s.body().get("model").asText()).isEqualTo("text-embedding-3-small");
        assertThat(s.body().get("dimensions").asInt()).isEqualTo(384);
        assertThat(s.body().get("encoding_format").asText()).isEqualTo("float");
        assertThat(s.body().get("input")).hasSize(10);
    }

    @Test
    void no_authorization_header_is_sent_without_a_key() {
        behaviour = (ex, req, attempt) -> answer(ex, req, 384, false);
        embedder(Duration.ofSeconds(5), 0, Duration.ofMillis(1), 1, "").embed(texts(1));
        assertThat(seen.getFirst().authorization()).isNull();
    }

    @Test
    void no_texts_means_no_request() {
        behaviour = (ex, req, attempt) -> answer(ex, req, 384, false);
        assertThat(embedder(0).embed(List.of())).isEmpty();
        assertThat(attempts).hasValue(0);
    }

    @Test
    void more_than_256_texts_are_split_into_requests_of_at_most_256() {
        behaviour = (ex, req, attempt) -> answer(ex, req, 384, true);

        assertAnswers(embedder(0).embed(texts(600)), 600);

        assertThat(seen).extracting(s -> s.body().get("input").size()).containsExactly(256, 256, 88);
    }

    @Test
    void a_500_is_retried_and_the_retry_succeeds() {
        behaviour = (ex, req, attempt) -> {
            if (attempt == 1) {
                respond(ex, 500, "{\"error\":\"boom\"}");
            } else {
                answer(ex, req, 384, false);
            }
        };
        assertAnswers(embedder(3).embed(texts(3)), 3);
        assertThat(attempts).hasValue(2);
    }

    @Test
    void a_429_with_retry_after_zero_is_retried_at_once_instead_of_backing_off() {
        behaviour = (ex, req, attempt) -> {
            if (attempt == 1) {
                ex.getResponseHeaders().set("Retry-After", "0");
                respond(ex, 429, "{\"error\":\"slow down\"}");
            } else {
                answer(ex, req, 384, false);
            }
        };
        // Our own backoff would be a random wait of up to 30 s; Retry-After: 0 must win.
        OpenAiEmbedder e = embedder(Duration.ofSeconds(5), 3, Duration.ofSeconds(30), 4, KEY);
        long t0 = System.nanoTime();

        assertAnswers(e.embed(texts(2)), 2);

        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(3));
        assertThat(attempts).hasValue(2);
    }

    @Test
    void a_400_fails_at_once_with_the_status_and_never_the_key() {
        String longTail = "x".repeat(2000);
        behaviour = (ex, req, attempt) -> respond(ex, 400,
                "{\"error\":{\"message\":\"Invalid request, key " + KEY + "\"}}" + longTail);

        assertThatThrownBy(() -> embedder(5).embed(texts(1)))
                .isInstanceOf(EmbeddingException.class)
                .hasMessageContaining("400")
                .hasMessageContaining("Invalid request")
                .hasMessageNotContaining(KEY)
                .satisfies(t -> assertThat(t.getMessage().length()).isLessThan(400));
        assertThat(attempts).hasValue(1);
    }

    @Test
    void a_failure_never_names_the_provider_host() {
        // A gateway quoting its own address: the message reaches stored embedding errors.
        behaviour = (ex, req, attempt) -> respond(ex, 400,
                "{\"error\":\"upstream http://127.0.0.1:" + server.getAddress().getPort() + "/v1 refused\"}");

        assertThatThrownBy(() -> embedder(0).embed(texts(1)))
                .isInstanceOf(EmbeddingException.class)
                .hasMessageContaining("400")
                .hasMessageContaining("refused")
                .hasMessageNotContaining("127.0.0.1");
    }

    @Test
    void exhausted_retries_fail_with_the_last_status() {
        behaviour = (ex, req, attempt) -> respond(ex, 503, "{\"error\":\"overloaded\"}");

        assertThatThrownBy(() -> embedder(2).embed(texts(1)))
                .isInstanceOf(EmbeddingException.class)
                .hasMessageContaining("3 attempt")
                .hasMessageContaining("503");
        assertThat(attempts).hasValue(3);
    }

    @Test
    void wrong_dimensions_fail_clearly() {
        behaviour = (ex, req, attempt) -> answer(ex, req, 1536, false);

        assertThatThrownBy(() -> embedder(3).embed(texts(2)))
                .isInstanceOf(EmbeddingException.class)
                .hasMessage("provider returned 1536 dimensions, the schema stores 384");
        assertThat(attempts).hasValue(1);
    }

    @Test
    void a_server_that_does_not_answer_fails_after_the_timeout() {
        behaviour = (ex, req, attempt) -> hang.await(30, TimeUnit.SECONDS);
        OpenAiEmbedder e = embedder(Duration.ofMillis(200), 1, Duration.ofMillis(1), 4, KEY);
        long t0 = System.nanoTime();

        assertThatThrownBy(() -> e.embed(texts(1)))
                .isInstanceOf(EmbeddingException.class)
                .hasMessageContaining("2 attempt")
                .hasCauseInstanceOf(HttpTimeoutException.class);

        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(3));
        assertThat(attempts).hasValue(2);
    }

    @Test
    void requests_in_flight_never_exceed_max_concurrent() throws Exception {
        AtomicInteger active = new AtomicInteger();
        AtomicInteger peak = new AtomicInteger();
        // The first two requests wait for each other, so a cap of 2 is reached for certain and
        // any request beyond it would be seen while they are held.
        CountDownLatch bothIn = new CountDownLatch(2);
        behaviour = (ex, req, attempt) -> {
            peak.accumulateAndGet(active.incrementAndGet(), Math::max);
            bothIn.countDown();
            bothIn.await(5, TimeUnit.SECONDS);
            active.decrementAndGet();
            answer(ex, req, 384, false);
        };
        OpenAiEmbedder e = embedder(Duration.ofSeconds(5), 0, Duration.ofMillis(1), 2, KEY);

        try (ExecutorService callers = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<List<float[]>>> results = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                results.add(callers.submit(() -> e.embed(texts(4))));
            }
            for (Future<List<float[]>> r : results) {
                assertAnswers(r.get(10, TimeUnit.SECONDS), 4);
            }
        }
        assertThat(peak).hasValue(2);
        assertThat(attempts).hasValue(8);
    }
}
