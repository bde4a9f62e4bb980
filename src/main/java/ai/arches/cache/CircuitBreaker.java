package ai.arches.cache;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * Stops calling a failing dependency for a while. Closed: calls pass; after {@code threshold}
 * consecutive failures it opens and {@link #allow()} answers false until {@code cooldown} has
 * passed; then one probe call is let through (half-open), whose success closes the breaker and
 * whose failure opens it again. Thread-safe; the clock is injected so tests move time. Every
 * Redis command passes here, so the closed state is read without a lock; transitions lock.
 */
public final class CircuitBreaker {
    public enum State { CLOSED, OPEN, HALF_OPEN }

    private final int threshold;
    private final Duration cooldown;
    private final Clock clock;
    private final Runnable onClose;
    private volatile State state = State.CLOSED;
    private volatile int failures;
    private Instant openUntil = Instant.MIN;
    private boolean probing;

    /** {@code onClose} runs (outside the lock) each time the breaker closes after being open. */
    public CircuitBreaker(int threshold, Duration cooldown, Clock clock, Runnable onClose) {
        this.threshold = threshold;
        this.cooldown = cooldown;
        this.clock = clock;
        this.onClose = onClose;
    }

    public boolean allow() {
        if (state == State.CLOSED) {
            return true;
        }
        synchronized (this) {
            return decide();
        }
    }

    private boolean decide() {
        return switch (state) {
            case CLOSED -> true;
            case OPEN -> {
                if (clock.instant().isBefore(openUntil)) {
                    yield false;
                }
                state = State.HALF_OPEN;
                probing = true;
                yield true;
            }
            case HALF_OPEN -> {
                if (probing) {
                    yield false;
                }
                probing = true;
                yield true;
            }
        };
    }

    public void success() {
        if (state == State.CLOSED && failures == 0) {
            return;
        }
        boolean reopened;
        synchronized (this) {
            reopened = state != State.CLOSED;
            state = State.CLOSED;
            failures = 0;
            probing = false;
        }
        if (reopened) {
            onClose.run();
        }
    }

    public synchronized void failure() {
        failures++;
        probing = false;
        if (state == State.HALF_OPEN || failures >= threshold) {
            state = State.OPEN;
            openUntil = clock.instant().plus(cooldown);
        }
    }

    public State state() {
        return state;
    }
}
