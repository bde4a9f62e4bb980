package ai.arches.observability;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;

import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import org.junit.jupiter.api.Test;

class HttpTimersTest {
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final HttpTimers timers = new HttpTimers(registry);

    @Test
    void one_timer_per_label_set_with_labels_from_closed_sets() {
        Timer ok = timers.timer("GET", "/api/v1/x/{id}", 200);
        assertThat(timers.timer("GET", "/api/v1/x/{id}", 200)).isSameAs(ok);
        assertThat(timers.timer("POST", "/api/v1/x/{id}", 200)).isNotSameAs(ok);
        assertThat(timers.timer("GET", "/api/v1/x/{id}", 404)).isNotSameAs(ok);

        Timer odd = timers.timer("BREW", "unmatched", 42);
        assertThat(odd.getId().getTag("method")).isEqualTo("other");
        assertThat(odd.getId().getTag("status")).isEqualTo("other");
        assertThat(timers.timer(null, "unmatched", 600)).isSameAs(odd);
        assertThat(timers.timer("PROPFIND", "unmatched", 99)).isSameAs(odd);
        assertThat(ok.getId().getTag("endpoint")).isEqualTo("/api/v1/x/{id}");
        assertThat(ok.getId().getTag("status")).isEqualTo("200");
    }

    @Test
    void every_standard_method_is_its_own_label() {
        for (String m : Metrics.METHODS) {
            assertThat(timers.timer(m, "/e", 200).getId().getTag("method")).isEqualTo(m);
        }
        assertThat(registry.find("http.request.duration").timers()).hasSize(Metrics.METHODS.size());
    }

    /** The hit path ran per request and built a key string each time (~100 bytes); now nothing. */
    @Test
    void finding_a_built_timer_allocates_nothing() {
        String[] endpoints = {"/api/v1/organizations/{org}/content/{id}", "/api/v1/auth/login", "unmatched"};
        int[] statuses = {200, 201, 304, 404, 500};
        for (String e : endpoints) {
            for (int s : statuses) {
                timers.timer("GET", e, s);
            }
        }
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        int lookups = 50_000;
        long before = threads.getCurrentThreadAllocatedBytes();
        long sink = 0;
        for (int i = 0; i < lookups; i++) {
            sink += timers.timer("GET", endpoints[i % endpoints.length], statuses[i % statuses.length]).hashCode();
        }
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertThat(sink).isNotZero();
        assertThat(allocated).as("bytes allocated by %d lookups", lookups).isLessThan(lookups / 10);
    }
}
