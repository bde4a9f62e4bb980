package ai.arches.observability;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The access log, written off the request thread. A request captures its fields in an
 * {@link Entry} and offers it to a bounded queue; one platform thread drains the queue, formats
 * the lines (the JSON shape {@link JsonLogFormatter} gives any record of logger
 * {@code arches.access}) and writes each batch with one write and one flush.
 *
 * <p>A request never waits for the log: when the queue is full (the sink is slower than the
 * traffic) the line is dropped and counted in {@code access_log_dropped_total}, as are lines a
 * failing sink lost. Lines come out in the order they were offered. {@link #close()} writes what
 * is still queued, then stops the thread. Whether a line is wanted at all still follows the JUL
 * level of {@code arches.access}, as when the lines went through JUL.
 */
public final class AccessLog implements AutoCloseable {
    static final String LOGGER = "arches.access";
    private static final Logger LOG = Logger.getLogger(AccessLog.class.getName());
    /** Paths are logged (JSON-escaped) up to this length, so one request cannot write kilobytes. */
    private static final int MAX_LOGGED_PATH = 512;
    private static final int MAX_BATCH = 256;
    private static final Duration CLOSE_WAIT = Duration.ofSeconds(5);
    /** Tells the writer that everything offered before it has been written: stop. */
    private static final Entry END = new Entry(0, "", "", "", "", 0, 0, "");

    /** One request as the access line reports it; {@code path} is raw, truncated when written. */
    record Entry(long epochMillis, String requestId, String method, String path, String route,
                        int status, long nanos, String remote) {
    }

    private final Logger level = Logger.getLogger(LOGGER);
    private final BlockingQueue<Entry> queue;
    private final OutputStream sink;
    private final Clock clock;
    private final Counter dropped;
    private final Thread writer;
    private volatile boolean closed;

    /**
     * Starts the writer thread. {@code sink} receives whole lines in UTF-8, a batch per write;
     * the log does not close it (it is usually {@code System.err}).
     */
    public AccessLog(OutputStream sink, int capacity, Clock clock, MeterRegistry registry) {
        if (capacity < 1) {
            throw new IllegalArgumentException("access log capacity must be at least 1, was " + capacity);
        }
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.sink = sink;
        this.clock = clock;
        this.dropped = Counter.builder("access.log.dropped")
                .description("Access log lines dropped because the log queue was full or the sink failed")
                .register(registry);
        this.writer = Thread.ofPlatform().name("arches-access-log").daemon().start(this::drain);
    }

    /** Whether a line would be written now; callers skip capturing the fields when not. */
    public boolean wanted() {
        return !closed && level.isLoggable(Level.INFO);
    }

    /** Queues one line, or drops and counts it when the queue is full; never blocks. */
    public void log(String requestId, String method, String path, String route, int status, long nanos,
                    String remote) {
        if (closed) {
            return;
        }
        if (!queue.offer(new Entry(clock.millis(), requestId, method, path, route, status, nanos, remote))) {
            dropped.increment();
        }
    }

    /** Lines dropped so far. */
    public long dropped() {
        return (long) dropped.count();
    }

    /**
     * Writes the lines still queued (waiting up to 5 s for a stalled sink), then stops the writer.
     * Lines offered after this are ignored.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            // The end marker queues behind every line already offered; a full queue drains unless the sink is stuck.
            if (!queue.offer(END, CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS)
                    || !writer.join(CLOSE_WAIT)) {
                LOG.warning("access log writer did not finish within " + CLOSE_WAIT.toSeconds()
                        + " s; " + queue.size() + " lines left unwritten");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void drain() {
        List<Entry> batch = new ArrayList<>(MAX_BATCH);
        StringBuilder text = new StringBuilder(MAX_BATCH * 256);
        while (true) {
            try {
                batch.add(queue.take());
            } catch (InterruptedException e) {
                // Nobody interrupts this thread but the JVM's own shutdown; what is queued is lost then.
                return;
            }
            queue.drainTo(batch, MAX_BATCH - 1);
            boolean end = false;
            text.setLength(0);
            int lines = 0;
            for (Entry e : batch) {
                if (e == END) {
                    end = true;
                } else {
                    int mark = text.length();
                    try {
                        format(e, text);
                        lines++;
                    } catch (RuntimeException bad) {
                        // One unformattable entry must not stop the writer (and with it the log).
                        text.setLength(mark);
                        dropped.increment();
                    }
                }
            }
            batch.clear();
            write(text, lines);
            if (end) {
                return;
            }
        }
    }

    private void write(StringBuilder text, int lines) {
        if (lines == 0) {
            return;
        }
        try {
            sink.write(text.toString().getBytes(StandardCharsets.UTF_8));
            sink.flush();
        } catch (IOException | RuntimeException e) {
            dropped.increment(lines);
        }
    }

    /** The line {@link JsonLogFormatter} writes for the record RequestObserver used to log. */
    static void format(Entry e, StringBuilder sb) {
        sb.append("{\"ts\":\"").append(Instant.ofEpochMilli(e.epochMillis())).append('"');
        field(sb, "level", "INFO");
        field(sb, "logger", LOGGER);
        field(sb, "message", "request");
        field(sb, "requestId", e.requestId());
        field(sb, "method", e.method());
        field(sb, "path", truncate(e.path()));
        field(sb, "route", e.route());
        sb.append(",\"status\":").append(e.status());
        sb.append(",\"durationMs\":").append(Math.round(e.nanos() / 10_000.0) / 100.0);
        field(sb, "remote", e.remote());
        sb.append("}\n");
    }

    /** As JsonLogFormatter writes a structured, non-numeric field: a null value as "null", quoted. */
    private static void field(StringBuilder sb, String name, String value) {
        JsonLogFormatter.field(sb, name, String.valueOf(value));
    }

    private static String truncate(String path) {
        return path.length() <= MAX_LOGGED_PATH ? path : path.substring(0, MAX_LOGGED_PATH) + "…";
    }
}
