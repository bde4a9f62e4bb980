package ai.arches.embedding;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import ai.arches.config.ArchesConfig;
import ai.arches.http.Json;

/**
 * Any OpenAI-compatible {@code POST /embeddings} endpoint. Safe for concurrent use: one pooled
 * HttpClient serves every caller, and a fair semaphore bounds requests in flight across all of
 * them, so a burst of workers queues here in arrival order instead of tripping the provider's
 * rate limit. A slot is held only while a request is on the wire, never during a backoff wait.
 * The API key travels only in the Authorization header; no message ever contains it, nor the
 * provider's host.
 */
public final class OpenAiEmbedder implements Embedder {
    static final int MAX_BATCH = 256;
    private static final long MAX_BACKOFF_MS = 30_000;
    private static final long MAX_RETRY_AFTER_S = 60;
    private static final int EXCERPT_CHARS = 300;
    private static final Set<Integer> RETRYABLE = Set.of(429, 500, 502, 503, 504);

    private final ArchesConfig.OpenAi cfg;
    private final String apiKey;
    private final URI endpoint;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final HttpClient client;
    private final Semaphore inFlight;

    public OpenAiEmbedder(ArchesConfig.OpenAi cfg) {
        this.cfg = cfg;
        this.apiKey = cfg.apiKey() == null ? "" : cfg.apiKey();
        this.endpoint = URI.create(cfg.url() + "/embeddings");
        if (!apiKey.isEmpty()) {
            try {
                HttpRequest.newBuilder().header("Authorization", "Bearer " + apiKey);
            } catch (IllegalArgumentException e) {
                // No cause attached: the JDK's message could quote the value.
                throw new IllegalArgumentException("embedding.openai.api_key is not a valid HTTP header value");
            }
        }
        this.inFlight = new Semaphore(cfg.maxConcurrent(), true);
        this.client = HttpClient.newBuilder()
                // h2c upgrade headers confuse some local OpenAI-compatible servers; HTTP/2 only over TLS.
                .version(cfg.url().startsWith("https:") ? HttpClient.Version.HTTP_2 : HttpClient.Version.HTTP_1_1)
                .connectTimeout(cfg.timeout())
                .executor(executor)
                .build();
    }

    @Override
    public String modelId() {
        return "openai:" + cfg.model();
    }

    @Override
    public List<float[]> embed(List<String> texts) {
        float[][] out = new float[texts.size()][];
        for (int from = 0; from < texts.size(); from += MAX_BATCH) {
            int to = Math.min(from + MAX_BATCH, texts.size());
            float[][] part = embedBatch(texts.subList(from, to));
            System.arraycopy(part, 0, out, from, part.length);
        }
        return Arrays.asList(out);
    }

    @Override
    public void close() {
        client.close();
        executor.close(); // the client never shuts down an executor it was handed
    }

    private float[][] embedBatch(List<String> batch) {
        HttpRequest request = request(batch);
        for (int attempt = 0; ; attempt++) {
            String failure;
            Throwable cause = null;
            long waitMs;
            try {
                HttpResponse<byte[]> response = send(request);
                int status = response.statusCode();
                if (status / 100 == 2) {
                    return parse(response.body(), batch.size());
                }
                failure = "status " + status + ": " + excerpt(response.body());
                if (!RETRYABLE.contains(status)) {
                    throw new EmbeddingException("embedding provider answered " + failure);
                }
                long retryAfter = retryAfterMs(response);
                waitMs = retryAfter >= 0 ? retryAfter : backoffMs(attempt);
            } catch (IOException e) { // HttpTimeoutException included
                // The type only: JDK messages can name the host, and these messages reach stored
                // embedding errors; the cause keeps the rest for the log.
                failure = e.getClass().getSimpleName();
                cause = e;
                waitMs = backoffMs(attempt);
            }
            if (attempt >= cfg.maxRetries()) {
                throw new EmbeddingException("embedding provider failed after " + (attempt + 1)
                        + " attempt(s), last: " + failure, cause);
            }
            pause(waitMs);
        }
    }

    private HttpRequest request(List<String> batch) {
        ObjectNode body = Json.MAPPER.createObjectNode().put("model", cfg.model());
        // OpenAI rejects empty input strings; a blank passage means nothing, like a single dot.
        ArrayNode input = body.putArray("input");
        batch.forEach(t -> input.add(t == null || t.isBlank() ? "." : t));
        body.put("dimensions", DIMENSIONS).put("encoding_format", "float");
        byte[] bytes;
        try {
            bytes = Json.MAPPER.writeValueAsBytes(body);
        } catch (IOException e) {
            throw new EmbeddingException("could not encode the embedding request", e);
        }
        HttpRequest.Builder b = HttpRequest.newBuilder(endpoint)
                .timeout(cfg.timeout())
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(bytes));
        if (!apiKey.isEmpty()) {
            b.header("Authorization", "Bearer " + apiKey);
        }
        return b.build();
    }

    private HttpResponse<byte[]> send(HttpRequest request) throws IOException {
        try {
            inFlight.acquire();
            try {
                return client.send(request, HttpResponse.BodyHandlers.ofByteArray());
            } finally {
                inFlight.release();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EmbeddingException("interrupted while waiting for the embedding provider", e);
        }
    }

    private static float[][] parse(byte[] body, int expected) {
        JsonNode data;
        try {
            data = Json.MAPPER.readTree(body).path("data");
        } catch (IOException e) {
            throw new EmbeddingException("embedding provider returned malformed JSON", e);
        }
        if (!data.isArray() || data.size() != expected) {
            throw new EmbeddingException("provider returned " + (data.isArray() ? data.size() : 0)
                    + " embeddings for " + expected + " texts");
        }
        float[][] out = new float[expected][];
        for (JsonNode item : data) {
            JsonNode index = item.path("index");
            int i = index.isInt() ? index.intValue() : -1;
            if (i < 0 || i >= expected || out[i] != null) {
                throw new EmbeddingException("provider returned a missing, repeated or out-of-range index: " + index);
            }
            JsonNode e = item.path("embedding");
            if (!e.isArray() || e.size() != DIMENSIONS) {
                throw new EmbeddingException("provider returned " + (e.isArray() ? e.size() : 0)
                        + " dimensions, the schema stores " + DIMENSIONS);
            }
            float[] v = new float[DIMENSIONS];
            for (int k = 0; k < DIMENSIONS; k++) {
                JsonNode x = e.get(k);
                if (!x.isNumber()) {
                    throw new EmbeddingException("provider returned a non-number in embedding " + i);
                }
                v[k] = x.floatValue();
            }
            out[i] = Vectors.normalize(v);
        }
        return out;
    }

    /** Full jitter: uniform in [0, min(cap, base * 2^attempt)], so retrying callers spread out. */
    private long backoffMs(int attempt) {
        long ceiling = Math.min(MAX_BACKOFF_MS, cfg.retryBackoff().toMillis() << Math.min(attempt, 20));
        return ThreadLocalRandom.current().nextLong(ceiling + 1);
    }

    /** The provider's Retry-After in seconds, capped; -1 when absent or an HTTP-date. */
    private static long retryAfterMs(HttpResponse<?> response) {
        String v = response.headers().firstValue("Retry-After").orElse("").strip();
        if (v.isEmpty() || v.length() > 9 || !v.chars().allMatch(Character::isDigit)) {
            return -1;
        }
        return Math.min(Long.parseLong(v), MAX_RETRY_AFTER_S) * 1000;
    }

    private static void pause(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EmbeddingException("interrupted while backing off from the embedding provider", e);
        }
    }

    private String excerpt(byte[] body) {
        String s = new String(body, 0, Math.min(body.length, EXCERPT_CHARS * 4), StandardCharsets.UTF_8)
                .replaceAll("\\s+", " ").strip();
        if (!apiKey.isEmpty()) {
            s = s.replace(apiKey, "***"); // some providers echo the key they rejected
        }
        if (endpoint.getHost() != null) {
            s = s.replace(endpoint.getHost(), "<provider>"); // and gateways their own address
        }
        return s.length() <= EXCERPT_CHARS ? s : s.substring(0, EXCERPT_CHARS - 1) + "…";
    }
}
