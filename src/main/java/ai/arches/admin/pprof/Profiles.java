package ai.arches.admin.pprof;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

import ai.arches.common.ConflictException;
import ai.arches.common.FieldError;
import ai.arches.common.InvalidInputException;
import ai.arches.common.NotFoundException;
import ai.arches.common.ServiceUnavailableException;
import ai.arches.config.ArchesConfig;
import ai.arches.http.ApiRouter;
import ai.arches.http.JsonIo;

import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * Profiles of this JVM at Go's /debug/pprof URLs and in Go's formats (gzipped pprof protobuf),
 * so {@code go tool pprof http://127.0.0.1:6060/debug/pprof/profile?seconds=30} works unchanged.
 * CPU, wall, allocs, mutex and heap?seconds record for {@code seconds} (default 30, 1..300) on
 * the request's own virtual thread, with async-profiler where its native library loads and Flight
 * Recorder otherwise; heap without seconds is a class histogram; goroutine and /debug/threads are
 * thread dumps that include virtual threads; continuous is the rolling recording when
 * {@code profiling.continuous} is on.
 *
 * <p>One recorded profile at a time: async-profiler has one session per process, and two CPU
 * profiles of the same seconds would only distort each other. A request arriving while one runs
 * gets 409 at once (waiting up to 300 s behind it would look like a hang to go tool pprof).
 */
public final class Profiles implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Profiles.class.getName());
    static final int DEFAULT_SECONDS = 30;
    static final int MAX_SECONDS = 300;
    private static final String OCTET_STREAM = "application/octet-stream";

    private final Recorder recorder;
    private final Continuous continuous;
    private final Clock clock;
    private final ThreadDump threads = new ThreadDump();
    private final Semaphore oneAtATime = new Semaphore(1);
    /** Counted down by close(): a profile being recorded stops early, so shutdown does not wait 300 s. */
    private final CountDownLatch closed = new CountDownLatch(1);
    /** What holds {@link #oneAtATime}, for the 409's message. */
    private volatile String running = "";

    public Profiles(ArchesConfig.Profiling cfg) {
        this(cfg, loadRecorder(), Clock.systemUTC());
    }

    /** With a given engine: tests force the Flight Recorder fallback through here. */
    Profiles(ArchesConfig.Profiling cfg, Recorder recorder, Clock clock) {
        this.recorder = recorder;
        this.clock = clock;
        this.continuous = cfg.continuous() ? new Continuous(cfg.window(), cfg.interval()) : null;
    }

    /** async-profiler if its native library loads here, else Flight Recorder, saying why. */
    static Recorder loadRecorder() {
        try {
            Recorder r = AsyncRecorder.load();
            LOG.fine(() -> "admin profiles: " + r.name());
            return r;
        } catch (RuntimeException | LinkageError e) {
            // UnsatisfiedLinkError on another OS or libc, IllegalCallerException when native access is denied.
            String why = "async-profiler did not load: " + e;
            LOG.log(Level.WARNING, "admin profiles fall back to Flight Recorder; " + why);
            return new FlightRecorder(why);
        }
    }

    /** Forces the fallback engine, as on a machine where async-profiler cannot load. */
    static Recorder flightRecorder() {
        return new FlightRecorder("forced");
    }

    /** Whether an on-demand profile is being recorded (tests wait for it instead of sleeping). */
    boolean recording() {
        return oneAtATime.availablePermits() == 0;
    }

    public void register(ApiRouter router, JsonIo io) {
        router.get("/debug/pprof", this::index)
                .get("/debug/pprof/", this::index)
                .get("/debug/pprof/profile", (req, res) -> record(Kind.CPU, seconds(req), res))
                .get("/debug/pprof/wall", (req, res) -> record(Kind.WALL, seconds(req), res))
                .get("/debug/pprof/allocs", (req, res) -> record(Kind.ALLOCS, seconds(req), res))
                .get("/debug/pprof/mutex", (req, res) -> record(Kind.MUTEX, seconds(req), res))
                .get("/debug/pprof/heap", this::heap)
                .get("/debug/pprof/goroutine", (req, res) -> goroutine(io, req, res))
                .get("/debug/pprof/continuous", this::continuous)
                .get("/debug/threads", (req, res) -> io.write(req, res, Status.OK_200, JsonIo.JSON, threads.json()));
    }

    private void record(Kind kind, int seconds, ServerResponse res) throws IOException {
        String unsupported = recorder.unsupported(kind);
        if (unsupported != null) {
            throw new ServiceUnavailableException(unsupported);
        }
        if (!oneAtATime.tryAcquire()) {
            throw new ConflictException("one profile is recorded at a time and " + running
                    + "; try again after it");
        }
        Path jfr = null;
        try {
            running = "a " + kind.goName() + " profile runs until "
                    + clock.instant().plusSeconds(seconds).truncatedTo(ChronoUnit.SECONDS);
            jfr = Files.createTempFile("arches-pprof-", ".jfr");
            Recorder.Running recording = recorder.start(kind, jfr);
            try {
                // Parks this request's virtual thread: no platform thread waits for the profile.
                closed.await(seconds, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ServiceUnavailableException("interrupted while recording a " + kind.goName() + " profile");
            } finally {
                recording.finish();
            }
            sendProfile(res, kind.filename(), JfrConversion.convert(jfr, kind, kind.interval(), 0, recorder.name()));
        } finally {
            running = "";
            oneAtATime.release();
            if (jfr != null) {
                Files.deleteIfExists(jfr);
            }
        }
    }

    /** Without seconds: every live object by class, now. With seconds: live objects allocated in them, by site. */
    private void heap(ServerRequest req, ServerResponse res) throws Exception {
        OptionalInt seconds = optionalSeconds(req);
        if (seconds.isPresent()) {
            record(Kind.LIVE, seconds.getAsInt(), res);
        } else {
            sendProfile(res, Kind.LIVE.filename(), ClassHistogram.profile("class histogram (GC.class_histogram)",
                    nanos(clock.instant())));
        }
    }

    /** Go's goroutine profile; with debug=1 or 2 (Go's text dumps) the JSON thread dump instead. */
    private void goroutine(JsonIo io, ServerRequest req, ServerResponse res) throws IOException {
        String debug = req.query().first("debug").orElse("0");
        if (debug.equals("0")) {
            sendProfile(res, "goroutine.pb.gz", threads.goroutines("threads, virtual ones included"));
        } else {
            io.write(req, res, Status.OK_200, JsonIo.JSON, threads.json());
        }
    }

    /** The rolling recording's last window: CPU, or allocations with kind=allocs. */
    private void continuous(ServerRequest req, ServerResponse res) throws IOException {
        String raw = req.query().first("kind").orElse("cpu");
        Kind kind = switch (raw) {
            case "cpu" -> Kind.CPU;
            case "allocs" -> Kind.ALLOCS;
            default -> throw new InvalidInputException("kind must be cpu or allocs",
                    List.of(new FieldError("kind", "must be cpu or allocs")));
        };
        if (continuous == null) {
            throw new NotFoundException("continuous profiling is off (profiling.continuous: false)");
        }
        sendProfile(res, "continuous-" + raw + ".pb.gz", continuous.profile(kind, clock.instant(),
                "continuous Flight Recorder recording, last " + continuous.window()));
    }

    private void index(ServerRequest req, ServerResponse res) {
        StringBuilder html = new StringBuilder("""
                <!DOCTYPE html>
                <html><head><title>/debug/pprof/</title></head><body>
                <h1>/debug/pprof/</h1>
                <p>Profiles of this JVM in Go's pprof format, e.g.
                <code>go tool pprof http://HOST:PORT/debug/pprof/profile?seconds=30</code>.
                Recorded profiles take <code>seconds</code> (default 30, 1 to 300), one at a time.
                Engine: %s.</p>
                <ul>
                """.formatted(escape(recorder.name())));
        for (Kind k : Kind.values()) {
            String unsupported = recorder.unsupported(k);
            html.append(item(k.goName(), k == Kind.LIVE ? "" : "?seconds=" + DEFAULT_SECONDS,
                    k.description() + (unsupported == null ? "" : " Not available: " + unsupported)));
        }
        html.append(item("goroutine", "", "Stacks of all threads, virtual ones included, counted by stack;"
                + " debug=1 for the JSON thread dump."));
        html.append(item("continuous", "", continuous == null ? "Off (profiling.continuous: false)."
                : "The last " + continuous.window() + " of the always-on recording: CPU, or kind=allocs."));
        html.append("<li><a href=\"/debug/threads\">/debug/threads</a>: thread dump as JSON, virtual threads included.</li>\n");
        html.append("</ul></body></html>\n");
        res.header(HeaderNames.CONTENT_TYPE, "text/html; charset=utf-8");
        res.send(html.toString().getBytes(StandardCharsets.UTF_8));
    }

    private static String item(String name, String query, String description) {
        return "<li><a href=\"/debug/pprof/" + name + query + "\">" + name + "</a>: " + escape(description) + "</li>\n";
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    private static void sendProfile(ServerResponse res, String filename, byte[] gzipped) {
        res.header(HeaderNames.CONTENT_TYPE, OCTET_STREAM);
        res.header(HeaderNames.CONTENT_DISPOSITION, "attachment; filename=\"" + filename + "\"");
        res.header(HeaderNames.X_CONTENT_TYPE_OPTIONS, "nosniff");
        res.send(gzipped);
    }

    static int seconds(ServerRequest req) {
        return optionalSeconds(req).orElse(DEFAULT_SECONDS);
    }

    static OptionalInt optionalSeconds(ServerRequest req) {
        if (!req.query().contains("seconds")) {
            return OptionalInt.empty();
        }
        return OptionalInt.of(parseSeconds(req.query().first("seconds").orElse("")));
    }

    static int parseSeconds(String raw) {
        try {
            int n = Integer.parseInt(raw.strip());
            if (n >= 1 && n <= MAX_SECONDS) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        String rule = "must be a whole number of seconds from 1 to " + MAX_SECONDS;
        throw new InvalidInputException("seconds " + rule, List.of(new FieldError("seconds", rule)));
    }

    private static long nanos(Instant t) {
        return t.getEpochSecond() * 1_000_000_000L + t.getNano();
    }

    @Override
    public void close() {
        closed.countDown();
        if (continuous != null) {
            continuous.close();
        }
    }
}
