package ai.arches.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;

/** Polls a status (or a condition) until it has the expected value, with a deadline; answers how long it took. */
public final class Eventually {
    private Eventually() {
    }

    /** Milliseconds until {@code status} answered {@code expected}; fails after {@code deadlineMs}. */
    public static long status(String what, int expected, long deadlineMs, IntSupplier status) {
        long start = System.nanoTime();
        int last;
        while (true) {
            last = status.getAsInt();
            long elapsed = (System.nanoTime() - start) / 1_000_000;
            if (last == expected) {
                return elapsed;
            }
            assertThat(elapsed).as("%s: still %d after %d ms, expected %d", what, last, elapsed, expected)
                    .isLessThan(deadlineMs);
            LockSupport.parkNanos(5_000_000);
        }
    }

    /** Milliseconds until {@code condition} held; fails after {@code deadlineMs}. */
    public static long until(String what, long deadlineMs, BooleanSupplier condition) {
        return status(what, 1, deadlineMs, () -> condition.getAsBoolean() ? 1 : 0);
    }
}
