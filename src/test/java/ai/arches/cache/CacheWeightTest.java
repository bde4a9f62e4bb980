package ai.arches.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.util.Optional;

import ai.arches.config.ArchesConfig;
import ai.arches.http.Json;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

/** L1 holds at most cache.l1_max_bytes of values (JSON size), whatever the entry limit allows. */
class CacheWeightTest {
    private static final long MAX_BYTES = 1L << 20;

    private static Caches caches(long maxEntries) {
        var cfg = new ArchesConfig.Cache(Duration.ofMinutes(5), maxEntries, Duration.ofMinutes(1),
                Duration.ofSeconds(10), MAX_BYTES, 256 << 10);
        // No Redis: L1 alone, so only its own bounds decide what stays.
        var redis = new ArchesConfig.Redis("", Duration.ofMillis(250), "t-weight");
        return new Caches(cfg, redis, Clock.systemUTC(), Json.MAPPER, new SimpleMeterRegistry());
    }

    @Test
    void large_values_are_weighed_by_size_so_l1_stays_within_its_byte_bound() {
        try (Caches caches = caches(100_000)) {
            TieredCache<String> cache = caches.cache("blobs", String.class, v -> 0L);
            String blob = "x".repeat(100_000);
            for (int i = 0; i < 50; i++) {
                String value = i + blob;
                assertThat(cache.get("k" + i, () -> Optional.of(value))).contains(value);
            }
            // Caffeine weighs an async entry when its load completes and evicts in its maintenance
            // pass, so the bound may be passed briefly: poll for it, with a deadline.
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            var held = cache.l1Snapshot();
            long bytes = bytes(held);
            while (bytes > MAX_BYTES && System.nanoTime() < deadline) {
                Thread.onSpinWait();
                held = cache.l1Snapshot();
                bytes = bytes(held);
            }
            assertThat(bytes).as("JSON bytes of %d entries held", held.size()).isLessThanOrEqualTo(MAX_BYTES);
            assertThat(held).isNotEmpty();
        }
    }

    private static long bytes(java.util.Map<String, Optional<String>> held) {
        return held.values().stream().mapToLong(v -> Json.size(v.orElseThrow())).sum();
    }

    @Test
    void the_entry_limit_still_holds_for_small_values() {
        try (Caches caches = caches(100)) {
            TieredCache<String> cache = caches.cache("small", String.class, v -> 0L);
            for (int i = 0; i < 1_000; i++) {
                String value = "v" + i;
                cache.get("k" + i, () -> Optional.of(value));
            }
            assertThat(cache.l1Snapshot().size()).isLessThanOrEqualTo(100);
        }
    }
}
