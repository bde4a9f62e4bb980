package ai.arches.idempotency;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.logging.Level;
import java.util.logging.Logger;

import ai.arches.common.ConflictException;
import ai.arches.common.FieldError;
import ai.arches.common.UnprocessableException;
import ai.arches.config.ArchesConfig;
import ai.arches.db.Database;
import ai.arches.http.Json;
import ai.arches.http.JsonIo;
import ai.arches.http.WrittenEntity;

import com.fasterxml.jackson.core.type.TypeReference;
import io.helidon.http.Header;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * {@code Idempotency-Key} on POST (Stripe's convention; the IETF draft "The Idempotency-Key HTTP
 * Header Field"): the first response to a key is kept {@link #RETENTION} per owner (the user or
 * the API key calling) and key, and a retry with the same method, path, query and body gets it
 * back with {@code Idempotent-Replayed: true} instead of running again; the same key with another
 * request is 422. {@code auth.Guard} calls {@link #handle} once it knows the caller; handlers
 * never see the header.
 *
 * <p>State is PostgreSQL's ({@code idempotency_keys}, V9), shared by every node; Redis plays no
 * part. A request claims its key with one statement: inserted in flight with a random lock token
 * and {@code locked_until = now + idempotency.lock_timeout}, or taken over from a row past the
 * retention, or from a row whose holder's lock ran out (its node died mid-request). The primary
 * key decides races between nodes; a loser looks at the row: another request's fingerprint is
 * 422, a completed one is replayed, one in flight is polled (10 to 200 ms apart) for up to
 * {@code idempotency.max_wait}, then 409 with Retry-After. Only the token's holder records or
 * releases the row, so a holder whose key was taken over records nothing.
 *
 * <p>Recording happens in the response's {@code beforeSend}, on the request's thread, before a
 * byte goes out, whether the handler or {@code http.Problems} answered: status, the headers in
 * {@link #KEPT} and the body JsonIo wrote (uncompressed, sealed by {@link Sealer}). 5xx and 429
 * are not kept: the key is released and a retry runs again. 4xx are kept, as Stripe does. If the
 * recording fails (the database went away), the response still goes out: the client saw it, and
 * the key stays held until its lock runs out.
 *
 * <p>The window that remains: a node that dies after the handler's write committed and before
 * the response was recorded leaves its key in flight; once the lock runs out a retry runs the
 * request again and writes a second time. Closing it would mean recording in the handler's own
 * transaction. A handler that runs longer than the lock (which must exceed the statement timeout)
 * can be overtaken in the same way.
 */
public final class Idempotency implements AutoCloseable {
    public static final HeaderName KEY_HEADER = HeaderNames.create("Idempotency-Key");
    /** How long a key's first response is kept and replayed. */
    public static final Duration RETENTION = Duration.ofHours(24);
    private static final Header REPLAYED = HeaderValues.createCached(HeaderNames.create("Idempotent-Replayed"), "true");
    /** Response headers replayed with the body; the others describe this transfer or this request. */
    static final List<HeaderName> KEPT = List.of(HeaderNames.CONTENT_TYPE, HeaderNames.LOCATION,
            HeaderNames.CONTENT_LOCATION, HeaderNames.CACHE_CONTROL, HeaderNames.PRAGMA, HeaderNames.ETAG,
            HeaderNames.LAST_MODIFIED, HeaderNames.LINK, HeaderNames.WWW_AUTHENTICATE);
    private static final TypeReference<LinkedHashMap<String, String>> HEADERS = new TypeReference<>() {};
    private static final long RETRY_AFTER_SECONDS = 1;
    private static final long POLL_MIN_NANOS = Duration.ofMillis(10).toNanos();
    private static final long POLL_MAX_NANOS = Duration.ofMillis(200).toNanos();
    private static final Duration SWEEP_INTERVAL = Duration.ofMinutes(5);
    /** A sweep deletes in statements of this many rows, at most this many statements a round. */
    private static final int SWEEP_BATCH = 1000;
    private static final int SWEEP_MAX_BATCHES = 50;
    private static final Logger LOG = Logger.getLogger(Idempotency.class.getName());

    enum Outcome { STORED, REPLAYED, RELEASED, MISMATCH, CONFLICT }

    private final Database db;
    private final JsonIo io;
    private final Sealer sealer;
    private final Duration lockTimeout;
    private final Duration maxWait;
    private final Clock clock;
    private final IdempotencyStore store = new IdempotencyStore();
    private final Map<Outcome, Counter> outcomes = new EnumMap<>(Outcome.class);
    private final AtomicInteger waiting = new AtomicInteger();
    private final Thread sweeper;
    private volatile boolean stopping;

    /** {@code sealKey}: 32 bytes, the same on every node (derived from auth.token_secret). */
    public Idempotency(Database db, JsonIo io, byte[] sealKey, ArchesConfig.Idempotency cfg, Clock clock,
                       MeterRegistry meters) {
        this.db = db;
        this.io = io;
        this.sealer = new Sealer(sealKey);
        this.lockTimeout = cfg.lockTimeout();
        this.maxWait = cfg.maxWait();
        this.clock = clock;
        for (Outcome o : Outcome.values()) {
            outcomes.put(o, Counter.builder("idempotency.requests").tag("outcome", o.name().toLowerCase(Locale.ROOT))
                    .description("POSTs with an Idempotency-Key by outcome: stored (first response kept), replayed, "
                            + "released (5xx or 429, not kept), mismatch (422), conflict (409, still in flight)")
                    .register(meters));
        }
        Gauge.builder("idempotency.waiting", waiting, AtomicInteger::get)
                .description("Requests on this node waiting for the request that holds their Idempotency-Key")
                .register(meters);
        this.sweeper = Thread.ofVirtual().name("idempotency-sweep").start(this::sweepPeriodically);
    }

    /** True for a request {@link #handle} must see: a POST that carries Idempotency-Key. */
    public static boolean applies(ServerRequest req) {
        return Method.POST.equals(req.prologue().method()) && req.headers().contains(KEY_HEADER);
    }

    /**
     * Runs {@code handler} for a request that {@link #applies}, on behalf of {@code owner} (a
     * user's or an API key's id): first use of the key, replay, 422, or a wait then 409. A bad key
     * is 400 and an oversized body 413, before anything is stored.
     */
    public void handle(UUID owner, ServerRequest req, ServerResponse res, Runnable handler) {
        String key = KeyHeader.key(req.headers().get(KEY_HEADER).allValues());
        byte[] fingerprint = KeyHeader.fingerprint(req.prologue().method().text(), req.path().rawPath(),
                req.query().rawValue(), io.body(req));
        long deadline = System.nanoTime() + maxWait.toNanos();
        long pause = POLL_MIN_NANOS;
        boolean counted = false;
        try {
            while (true) {
                Instant now = now();
                UUID token = UUID.randomUUID();
                if (db.withHandle(h -> store.claim(h, owner, key, fingerprint, now, now.plus(lockTimeout), token,
                        now.minus(RETENTION)))) {
                    if (counted) {
                        waiting.decrementAndGet();
                        counted = false;
                    }
                    run(owner, key, token, req, res, handler);
                    return;
                }
                Optional<IdempotencyStore.Row> found = db.withHandle(h -> store.find(h, owner, key));
                if (found.isEmpty() || !found.get().createdAt().isAfter(now.minus(RETENTION))) {
                    continue; // released or expired since the claim: claim again
                }
                IdempotencyStore.Row row = found.get();
                if (!MessageDigest.isEqual(row.fingerprint(), fingerprint)) {
                    outcomes.get(Outcome.MISMATCH).increment();
                    throw new UnprocessableException("this Idempotency-Key was used for another request in the last 24 h; "
                            + "send a new key with a new request", List.of(new FieldError(KEY_HEADER.defaultCase(),
                            "was used with another method, path, query or body")));
                }
                if (row.completed()) {
                    replay(owner, key, row, req, res);
                    return;
                }
                if (!row.lockedUntil().isAfter(now)) {
                    continue; // its holder's lock ran out (the node died): take it over
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    outcomes.get(Outcome.CONFLICT).increment();
                    throw new ConflictException("a request with this Idempotency-Key is still in progress; "
                            + "retry once it has finished", RETRY_AFTER_SECONDS);
                }
                if (!counted) {
                    waiting.incrementAndGet();
                    counted = true;
                }
                LockSupport.parkNanos(Math.min(pause, left));
                pause = Math.min(pause * 2, POLL_MAX_NANOS);
                if (Thread.currentThread().isInterrupted()) {
                    throw new ConflictException("interrupted while waiting for the request holding this Idempotency-Key",
                            RETRY_AFTER_SECONDS);
                }
            }
        } finally {
            if (counted) {
                waiting.decrementAndGet();
            }
        }
    }

    /** Runs the handler holding the key; the response is recorded (or the key released) as it is sent. */
    private void run(UUID owner, String key, UUID token, ServerRequest req, ServerResponse res, Runnable handler) {
        WrittenEntity entity = new WrittenEntity();
        req.context().register(entity);
        Recording recording = new Recording(owner, key, token, entity, res);
        res.beforeSend(recording::sending);
        boolean returned = false;
        try {
            handler.run();
            returned = true;
        } finally {
            // A handler that threw is answered by Problems, whose send records or releases. One
            // that returned without sending anything leaves nothing to keep.
            if (returned && !res.isSent()) {
                recording.abandon();
            }
        }
    }

    /** The response of one request holding a key, recorded when it is sent. One request's thread. */
    private final class Recording {
        private final UUID owner;
        private final String key;
        private final UUID token;
        private final WrittenEntity entity;
        private final ServerResponse res;
        private boolean done;

        Recording(UUID owner, String key, UUID token, WrittenEntity entity, ServerResponse res) {
            this.owner = owner;
            this.key = key;
            this.token = token;
            this.entity = entity;
            this.res = res;
        }

        void sending() {
            if (done) {
                return;
            }
            done = true;
            int status = res.status().code();
            try {
                boolean bodyKnown = entity.bytes() != null || status == 204 || status == 304;
                if (status >= 500 || status == 429 || !bodyKnown) {
                    release();
                    return;
                }
                byte[] body = entity.bytes() == null ? null : sealer.seal(entity.bytes(), aad(owner, key));
                String headers = keptHeaders(res);
                if (db.withHandle(h -> store.complete(h, owner, key, token, status, headers, body))) {
                    outcomes.get(Outcome.STORED).increment();
                } else {
                    LOG.warning("idempotency: a key was taken over while its request ran (longer than "
                            + "idempotency.lock_timeout); its response (" + status + ") is not kept");
                }
            } catch (RuntimeException e) {
                // The response goes out all the same; the key stays held until its lock runs out.
                LOG.log(Level.WARNING, "idempotency: recording a response (" + status + ") failed; its key is held "
                        + "until idempotency.lock_timeout, then a retry runs again", e);
            }
        }

        void abandon() {
            if (!done) {
                done = true;
                release();
            }
        }

        private void release() {
            db.withHandle(h -> store.release(h, owner, key, token));
            outcomes.get(Outcome.RELEASED).increment();
        }
    }

    private void replay(UUID owner, String key, IdempotencyStore.Row row, ServerRequest req, ServerResponse res) {
        byte[] body = null;
        if (row.body() != null) {
            try {
                body = sealer.open(row.body(), aad(owner, key));
            } catch (GeneralSecurityException e) {
                throw new ConflictException("the response kept for this Idempotency-Key cannot be read by this node "
                        + "(auth.token_secret must be the same on every node)");
            }
        }
        String contentType = null;
        Map<String, String> headers;
        try {
            headers = Json.MAPPER.readValue(row.headers(), HEADERS);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        for (var h : headers.entrySet()) {
            if (h.getKey().equalsIgnoreCase(HeaderNames.CONTENT_TYPE.defaultCase())) {
                contentType = h.getValue();
            } else {
                res.header(HeaderNames.create(h.getKey()), h.getValue());
            }
        }
        res.header(REPLAYED);
        outcomes.get(Outcome.REPLAYED).increment();
        Status status = Status.create(row.status());
        if (body == null) {
            res.status(status);
            res.send();
        } else {
            io.write(req, res, status, contentType == null ? JsonIo.JSON : contentType, body);
        }
    }

    private static String keptHeaders(ServerResponse res) {
        Map<String, String> kept = new LinkedHashMap<>();
        for (HeaderName name : KEPT) {
            res.headers().find(name).ifPresent(h -> kept.put(name.defaultCase(), String.join(", ", h.allValues())));
        }
        try {
            return Json.MAPPER.writeValueAsString(kept);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Binds a sealed body to its row: it opens only under the same owner and key. */
    private static byte[] aad(UUID owner, String key) {
        return (owner + "\n" + key).getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Deletes rows past the retention (they are ignored already), oldest first, in statements of
     * {@value #SWEEP_BATCH} rows and at most {@value #SWEEP_MAX_BATCHES} of them; answers how many.
     * Every node sweeps every few minutes; concurrent sweeps skip each other's rows.
     */
    public int sweep() {
        Instant before = now().minus(RETENTION);
        int total = 0;
        for (int i = 0; i < SWEEP_MAX_BATCHES; i++) {
            int n = db.withHandle(h -> store.sweep(h, before, SWEEP_BATCH));
            total += n;
            if (n < SWEEP_BATCH) {
                break;
            }
        }
        return total;
    }

    private void sweepPeriodically() {
        while (!stopping) {
            LockSupport.parkNanos(SWEEP_INTERVAL.toNanos());
            if (Thread.interrupted() || stopping) {
                return;
            }
            try {
                sweep();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "idempotency: sweeping expired keys failed; retrying next interval", e);
            }
        }
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }

    @Override
    public void close() {
        stopping = true;
        sweeper.interrupt();
        try {
            sweeper.join(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
