package ai.arches.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;

import ai.arches.testing.MovableClock;

import org.junit.jupiter.api.Test;

class CircuitBreakerTest {

    private final MovableClock clock = new MovableClock(Instant.parse("2026-01-01T00:00:00Z"));
    private final AtomicInteger closes = new AtomicInteger();
    private final CircuitBreaker breaker = new CircuitBreaker(3, Duration.ofSeconds(5), clock, closes::incrementAndGet);

    @Test
    void opens_after_consecutive_failures_and_stays_open_for_the_cooldown() {
        breaker.failure();
        breaker.failure();
        assertThat(breaker.allow()).isTrue();
        breaker.failure();
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.OPEN);
        assertThat(breaker.allow()).isFalse();
        clock.now = clock.now.plusSeconds(4);
        assertThat(breaker.allow()).isFalse();
    }

    @Test
    void a_success_resets_the_failure_count() {
        breaker.failure();
        breaker.failure();
        breaker.success();
        breaker.failure();
        breaker.failure();
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(closes).hasValue(0);
    }

    @Test
    void after_the_cooldown_one_probe_decides() {
        for (int i = 0; i < 3; i++) {
            breaker.failure();
        }
        clock.now = clock.now.plusSeconds(6);
        assertThat(breaker.allow()).isTrue();
        assertThat(breaker.allow()).as("only one probe at a time").isFalse();
        breaker.failure();
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.OPEN);
        assertThat(breaker.allow()).isFalse();
        clock.now = clock.now.plusSeconds(6);
        assertThat(breaker.allow()).isTrue();
        breaker.success();
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(closes).hasValue(1);
        assertThat(breaker.allow()).isTrue();
    }
}
