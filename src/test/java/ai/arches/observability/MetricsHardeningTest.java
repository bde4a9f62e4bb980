package ai.arches.observability;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import ai.arches.testing.Api;
import ai.arches.testing.ServerTest;
import ai.arches.testing.TestServer;

import org.junit.jupiter.api.Test;

/** /metrics stays bounded whatever clients send, and can be closed behind a bearer token. */
class MetricsHardeningTest extends ServerTest {
    private static final Pattern SERIES = Pattern.compile("^http_request_duration_seconds_count\\{([^}]*)\\} ([0-9.eE+-]+)$",
            Pattern.MULTILINE);
    private static final String TOKEN = "metrics-token-0123456789abcdef";

    @Test
    void random_methods_and_paths_share_one_method_label_and_do_not_grow_the_series() throws Exception {
        api.get("/health", null);
        int before = series(api.get("/metrics", null).text()).size();
        Api raw = api.withoutContractCheck();
        Random random = new Random(42);
        List<String[]> requests = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            requests.add(new String[] {"M" + Long.toString(random.nextLong() & Long.MAX_VALUE, 36).toUpperCase(),
                "/x/" + Long.toString(random.nextLong() & Long.MAX_VALUE, 36)});
        }
        List<Integer> statuses;
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Integer>> futures = new ArrayList<>();
            for (String[] r : requests) {
                futures.add(pool.submit(() -> {
                    start.await();
                    return raw.send(r[0], r[1], null, null, null, Map.of()).status();
                }));
            }
            start.countDown();
            statuses = new ArrayList<>();
            for (Future<Integer> f : futures) {
                statuses.add(f.get());
            }
        }
        assertThat(statuses).allMatch(s -> s >= 400 && s < 500);
        Map<String, Double> after = series(api.get("/metrics", null).text());
        assertThat(after.size()).as("series before %d, after 200 random methods %d", before, after.size()).isLessThanOrEqualTo(before + 3);
        double other = after.entrySet().stream().filter(e -> e.getKey().contains("method=\"other\""))
                .mapToDouble(Map.Entry::getValue).sum();
        assertThat(other).isGreaterThanOrEqualTo(200);
        assertThat(after.keySet()).allMatch(k -> k.matches(".*method=\"(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS|TRACE|CONNECT|other)\".*"))
                .allMatch(k -> k.matches(".*status=\"[1-5][0-9][0-9]\".*"));
    }

    @Test
    void metrics_are_open_by_default() {
        var r = api.get("/metrics", null);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.text()).contains("jvm_memory_used_bytes");
    }

    @Test
    void with_a_token_metrics_need_it() {
        try (TestServer guarded = TestServer.start(Map.of("metrics.token", TOKEN))) {
            Api a = guarded.api();
            for (String auth : new String[] {null, "Bearer wrong-token-wrong-token", "Bearer " + TOKEN + "x",
                "Basic " + TOKEN, "Bearer " + TOKEN.substring(1)}) {
                var r = a.send("GET", "/metrics", null, null, null, auth == null ? Map.of() : Map.of("Authorization", auth));
                assertThat(r.status()).as(String.valueOf(auth)).isEqualTo(401);
                assertThat(r.header("Content-Type")).startsWith("application/problem+json");
                assertThat(r.header("WWW-Authenticate")).startsWith("Bearer");
                assertThat(r.text()).doesNotContain("jvm_").doesNotContain(TOKEN);
            }
            var ok = a.get("/metrics", TOKEN);
            assertThat(ok.status()).isEqualTo(200);
            assertThat(ok.header("Content-Type")).startsWith("text/plain");
            assertThat(ok.text()).contains("http_request_duration_seconds_count{").contains("jvm_memory_used_bytes");
            assertThat(a.get("/health", null).status()).isEqualTo(200);
        }
    }

    private static Map<String, Double> series(String text) {
        Map<String, Double> out = new java.util.HashMap<>();
        Matcher m = SERIES.matcher(text);
        while (m.find()) {
            out.put(m.group(1), Double.parseDouble(m.group(2)));
        }
        return out;
    }
}
