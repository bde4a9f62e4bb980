package ai.arches.idempotency;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;

import ai.arches.common.FieldError;
import ai.arches.common.InvalidInputException;

/** The Idempotency-Key header's value, and the fingerprint that tells one request from another. */
final class KeyHeader {
    static final int MAX_KEY_LENGTH = 255;

    private KeyHeader() {}

    /**
     * The key a header carries: 1 to 255 printable ASCII characters, bare (Stripe's form) or as
     * a quoted structured-field string (the IETF draft's form, {@code "..."} with {@code \"} and
     * {@code \\} escapes). Anything else is 400 naming the header.
     */
    static String key(List<String> values) {
        if (values.size() != 1) {
            throw invalidKey("send one Idempotency-Key header, not " + values.size());
        }
        String v = values.getFirst().strip();
        if (v.length() >= 2 && v.charAt(0) == '"' && v.charAt(v.length() - 1) == '"') {
            v = unquote(v.substring(1, v.length() - 1));
        }
        if (v == null || v.isEmpty() || v.length() > MAX_KEY_LENGTH || !v.chars().allMatch(c -> c >= 0x20 && c <= 0x7e)) {
            throw invalidKey("must be 1 to " + MAX_KEY_LENGTH + " printable ASCII characters");
        }
        return v;
    }

    /** The inside of a structured-field string; null when an escape or a quote is malformed. */
    private static String unquote(String inner) {
        StringBuilder out = new StringBuilder(inner.length());
        for (int i = 0; i < inner.length(); i++) {
            char c = inner.charAt(i);
            if (c == '\\') {
                if (++i == inner.length() || (inner.charAt(i) != '"' && inner.charAt(i) != '\\')) {
                    return null;
                }
                out.append(inner.charAt(i));
            } else if (c == '"') {
                return null;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static InvalidInputException invalidKey(String message) {
        return new InvalidInputException("Idempotency-Key is invalid: " + message,
                List.of(new FieldError(Idempotency.KEY_HEADER.defaultCase(), message)));
    }

    /** SHA-256 of the method, raw path and query, and the body's own SHA-256. */
    static byte[] fingerprint(String method, String rawPath, String rawQuery, byte[] body) {
        MessageDigest d = sha256();
        d.update(method.getBytes(StandardCharsets.US_ASCII));
        d.update((byte) 0);
        d.update(rawPath.getBytes(StandardCharsets.UTF_8));
        d.update((byte) '?');
        d.update(rawQuery.getBytes(StandardCharsets.UTF_8));
        d.update((byte) 0);
        d.update(sha256().digest(body));
        return d.digest();
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
