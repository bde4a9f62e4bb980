package ai.arches.observability;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.LogRecord;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import org.junit.jupiter.api.Test;

class AccessLogTest {
    private static final Instant NOW = Instant.parse("2026-03-01T12:34:56.789Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @Test
    void lines_come_out_in_order_with_the_request_fields() throws Exception {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        String longPath = "/x/" + "a".repeat(600);
        try (AccessLog log = new AccessLog(sink, 16, CLOCK, registry)) {
            log.log("id-1", "GET", "/api/v1/health", "/api/v1/health", 200, 1_234_567, "203.0.113.9");
            log.log("id-2", "other", "/q\"uote\n", "unmatched", 404, 5_000, "::1");
            log.log("id-3", "POST", longPath, "/x/{id}", 500, 2_000_000_000L, "127.0.0.1");
        }
        List<String> lines = sink.toString(StandardCharsets.UTF_8).lines().toList();
        assertThat(lines).hasSize(3);
        JsonNode first = JSON.readTree(lines.get(0));
        assertThat(first.get("ts").asText()).isEqualTo("2026-03-01T12:34:56.789Z");
        assertThat(first.get("level").asText()).isEqualTo("INFO");
        assertThat(first.get("logger").asText()).isEqualTo("arches.access");
        assertThat(first.get("message").asText()).isEqualTo("request");
        assertThat(first.get("requestId").asText()).isEqualTo("id-1");
        assertThat(first.get("method").asText()).isEqualTo("GET");
        assertThat(first.get("route").asText()).isEqualTo("/api/v1/health");
        assertThat(first.get("status").isInt()).isTrue();
        assertThat(first.get("status").asInt()).isEqualTo(200);
        assertThat(first.get("durationMs").asDouble()).isEqualTo(1.23);
        assertThat(first.get("remote").asText()).isEqualTo("203.0.113.9");
        JsonNode second = JSON.readTree(lines.get(1));
        assertThat(second.get("requestId").asText()).isEqualTo("id-2");
        assertThat(second.get("path").asText()).isEqualTo("/q\"uote\n");
        JsonNode third = JSON.readTree(lines.get(2));
        assertThat(third.get("requestId").asText()).isEqualTo("id-3");
        assertThat(third.get("path").asText()).isEqualTo(longPath.substring(0, 512) + "…");
        assertThat(third.get("durationMs").asDouble()).isEqualTo(2000.0);
    }

    /** The line is byte for byte what JsonLogFormatter wrote when RequestObserver logged through JUL. */
    @Test
    void a_line_is_what_the_json_formatter_wrote_for_the_same_request() {
        ByteArrayOutputStream sink = new ByteArrayOutputStream();
        try (AccessLog log = new AccessLog(sink, 4, CLOCK, registry)) {
            log.log("abc", "DELETE", "/p\\ath\t", "/p/{x}", 204, 987_654, "10.0.0.1");
        }
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("requestId", "abc");
        fields.put("method", "DELETE");
        fields.put("path", "/p\\ath\t");
        fields.put("route", "/p/{x}");
        fields.put("status", 204);
        fields.put("durationMs", Math.round(987_654 / 10_000.0) / 100.0);
        fields.put("remote", "10.0.0.1");
        LogRecord r = new LogRecord(Level.INFO, "request");
        r.setLoggerName("arches.access");
        r.setInstant(NOW);
        r.setParameters(new Object[] {fields});
        assertThat(sink.toString(StandardCharsets.UTF_8)).isEqualTo(new JsonLogFormatter().format(r));
    }

    @Test
    void a_stalled_sink_drops_and_counts_lines_without_blocking_requests() throws Exception {
        Gate sink = new Gate();
        int capacity = 4;
        try (AccessLog log = new AccessLog(sink, capacity, CLOCK, registry)) {
            log.log("held", "GET", "/", "/", 200, 1, "a");
            assertThat(sink.entered.await(10, TimeUnit.SECONDS)).as("writer reached the sink").isTrue();
            // The writer is stuck in write() with "held"; the queue takes `capacity` more, then drops.
            long start = System.nanoTime();
            for (int i = 0; i < capacity + 3; i++) {
                log.log("r" + i, "GET", "/", "/", 200, 1, "a");
            }
            long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertThat(tookMs).as("offering to a full queue returns at once").isLessThan(1_000);
            assertThat(log.dropped()).isEqualTo(3);
            assertThat(registry.get("access.log.dropped").counter().count()).isEqualTo(3.0);
            sink.open.countDown();
        }
        assertThat(requestIds(sink)).containsExactly("held", "r0", "r1", "r2", "r3");
    }

    @Test
    void close_writes_every_line_still_queued_before_returning() throws Exception {
        Gate sink = new Gate();
        AccessLog log = new AccessLog(sink, 200, CLOCK, registry);
        log.log("r0", "GET", "/", "/", 200, 1, "a");
        assertThat(sink.entered.await(10, TimeUnit.SECONDS)).isTrue();
        for (int i = 1; i < 100; i++) {
            log.log("r" + i, "GET", "/", "/", 200, 1, "a");
        }
        sink.open.countDown();
        log.close();
        assertThat(requestIds(sink)).hasSize(100).startsWith("r0", "r1").endsWith("r98", "r99");
        assertThat(log.dropped()).isZero();
        // Closed: nothing more is wanted or queued.
        assertThat(log.wanted()).isFalse();
        log.log("late", "GET", "/", "/", 200, 1, "a");
        assertThat(requestIds(sink)).hasSize(100);
    }

    @Test
    void lines_a_failing_sink_lost_are_counted_as_dropped() {
        OutputStream broken = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("disk full");
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                throw new IOException("disk full");
            }
        };
        AccessLog log = new AccessLog(broken, 16, CLOCK, registry);
        for (int i = 0; i < 5; i++) {
            log.log("r" + i, "GET", "/", "/", 200, 1, "a");
        }
        log.close();
        assertThat(log.dropped()).isEqualTo(5);
    }

    private static List<String> requestIds(Gate sink) throws IOException {
        return sink.text().lines().map(l -> {
            try {
                return JSON.readTree(l).get("requestId").asText();
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + l, e);
            }
        }).toList();
    }

    /** A sink whose writes wait until {@code open} is counted down; {@code entered} on the first. */
    private static final class Gate extends OutputStream {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch open = new CountDownLatch(1);
        private final ByteArrayOutputStream written = new ByteArrayOutputStream();

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            entered.countDown();
            try {
                if (!open.await(30, TimeUnit.SECONDS)) {
                    throw new IOException("gate never opened");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
            synchronized (written) {
                written.write(b, off, len);
            }
        }

        String text() {
            synchronized (written) {
                return written.toString(StandardCharsets.UTF_8);
            }
        }
    }
}
