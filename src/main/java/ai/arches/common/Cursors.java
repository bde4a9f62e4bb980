package ai.arches.common;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.ToLongFunction;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Opaque keyset cursors over (created_at DESC, id DESC). A cursor holds the last row's position
 * and a truncated HMAC over that position and the list's scope (the organization and filters),
 * so a tampered cursor, or one taken from another list, is rejected rather than silently
 * reading from an arbitrary position. Thread-safe: a Mac is made per call.
 *
 * <p>A page also stops at a byte budget ({@code server.max_page_bytes}): when the next item
 * would take the page past it, the page ends and its cursor continues from the last item it
 * holds. The first item is always included (one document is bounded by the request size limit),
 * so a walk always advances.
 */
public final class Cursors {
    public static final int DEFAULT_LIMIT = 20;
    public static final int MAX_LIMIT = 100;
    private static final int MAC_BYTES = 12;
    private static final int PAYLOAD_BYTES = 8 + 16;
    /** {"data":[],"nextCursor":"..."} around the items, with room to spare. */
    private static final long ENVELOPE_BYTES = 128;
    private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder DECODER = Base64.getUrlDecoder();

    /** Where a page ends: the sort key of its last row. */
    public record Position(Instant createdAt, UUID id) {}

    /** A validated page request: {@code after} is empty for the first page. */
    public record PageRequest(int limit, Optional<Position> after) {
        /** Rows to fetch: one extra tells whether another page follows. */
        public int fetchSize() {
            return limit + 1;
        }
    }

    private final SecretKeySpec key;
    private final long maxPageBytes;

    public Cursors(byte[] secret, long maxPageBytes) {
        this.key = new SecretKeySpec(secret, "HmacSHA256");
        this.maxPageBytes = maxPageBytes;
    }

    public long maxPageBytes() {
        return maxPageBytes;
    }

    public PageRequest request(String scope, String limitParam, String cursorParam) {
        int limit = DEFAULT_LIMIT;
        if (limitParam != null) {
            try {
                limit = Integer.parseInt(limitParam.trim());
            } catch (NumberFormatException e) {
                throw badLimit();
            }
            if (limit < 1 || limit > MAX_LIMIT) {
                throw badLimit();
            }
        }
        Optional<Position> after = cursorParam == null || cursorParam.isEmpty()
                ? Optional.empty() : Optional.of(decode(scope, cursorParam));
        return new PageRequest(limit, after);
    }

    /** Cuts the over-fetched rows to a page and makes the next cursor from its last row. */
    public <T> Page<T> page(String scope, PageRequest request, List<T> rows, Function<T, Position> position) {
        if (rows.size() <= request.limit()) {
            return new Page<>(rows, null);
        }
        List<T> data = rows.subList(0, request.limit());
        return new Page<>(List.copyOf(data), encode(scope, position.apply(data.getLast())));
    }

    /**
     * Cuts the over-fetched rows to a page of at most {@code limit} items whose JSON
     * ({@code bytes} per item) stays within the byte budget. {@code sourceCut} says the query
     * already stopped early for the budget, so more rows may follow even if fewer than
     * {@code limit + 1} came; then the page gets a cursor (the next page may be empty).
     */
    public <T> Page<T> page(String scope, PageRequest request, List<T> rows, Function<T, Position> position,
                            ToLongFunction<T> bytes, boolean sourceCut) {
        int max = Math.min(rows.size(), request.limit());
        long used = ENVELOPE_BYTES;
        int n = 0;
        while (n < max) {
            long size = bytes.applyAsLong(rows.get(n)) + 1;
            if (n > 0 && used + size > maxPageBytes) {
                break;
            }
            used += size;
            n++;
        }
        if (n == 0 || (n == rows.size() && !sourceCut)) {
            return new Page<>(List.copyOf(rows), null);
        }
        List<T> data = List.copyOf(rows.subList(0, n));
        return new Page<>(data, encode(scope, position.apply(data.getLast())));
    }

    public String encode(String scope, Position p) {
        ByteBuffer buf = ByteBuffer.allocate(PAYLOAD_BYTES + MAC_BYTES);
        Instant t = p.createdAt();
        buf.putLong(ChronoUnit.MICROS.between(Instant.EPOCH, t));
        buf.putLong(p.id().getMostSignificantBits()).putLong(p.id().getLeastSignificantBits());
        byte[] mac = mac(scope, buf.array(), PAYLOAD_BYTES);
        buf.put(mac, 0, MAC_BYTES);
        return ENCODER.encodeToString(buf.array());
    }

    public Position decode(String scope, String cursor) {
        byte[] raw;
        try {
            raw = DECODER.decode(cursor);
        } catch (IllegalArgumentException e) {
            throw badCursor();
        }
        if (raw.length != PAYLOAD_BYTES + MAC_BYTES) {
            throw badCursor();
        }
        byte[] expected = mac(scope, raw, PAYLOAD_BYTES);
        byte[] given = new byte[MAC_BYTES];
        System.arraycopy(raw, PAYLOAD_BYTES, given, 0, MAC_BYTES);
        byte[] expectedTrunc = new byte[MAC_BYTES];
        System.arraycopy(expected, 0, expectedTrunc, 0, MAC_BYTES);
        if (!MessageDigest.isEqual(given, expectedTrunc)) {
            throw badCursor();
        }
        ByteBuffer buf = ByteBuffer.wrap(raw);
        long micros = buf.getLong();
        UUID id = new UUID(buf.getLong(), buf.getLong());
        return new Position(Instant.EPOCH.plus(micros, ChronoUnit.MICROS), id);
    }

    private byte[] mac(String scope, byte[] payload, int len) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            mac.update(scope.getBytes(StandardCharsets.UTF_8));
            mac.update((byte) 0);
            mac.update(payload, 0, len);
            return mac.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }

    private static InvalidInputException badLimit() {
        return new InvalidInputException("limit must be a whole number from 1 to " + MAX_LIMIT,
                List.of(new FieldError("limit", "must be a whole number from 1 to " + MAX_LIMIT)));
    }

    private static InvalidInputException badCursor() {
        return new InvalidInputException("cursor is not valid for this list",
                List.of(new FieldError("cursor", "is not a cursor this list issued")));
    }
}
