package ai.arches.http;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

import ai.arches.common.UnauthenticatedException;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;

/**
 * A shared secret that operator endpoints (/metrics, the admin listener) require as
 * {@code Authorization: Bearer <token>}; an empty token leaves them open.
 */
public final class BearerToken {
    private static final String BEARER = "Bearer ";

    /** SHA-256 of the token; null when open. */
    private final byte[] digest;
    private final String what;

    /** {@code what} names the setting in the 401's detail, e.g. "metrics.token". */
    public BearerToken(String token, String what) {
        this.digest = token.isEmpty() ? null : sha256(token);
        this.what = what;
    }

    public boolean open() {
        return digest == null;
    }

    /** 401 unless the request carries the token (or none is set). */
    public void check(ServerRequest req) {
        if (digest == null) {
            return;
        }
        String auth = req.headers().first(HeaderNames.AUTHORIZATION).orElse("");
        boolean bearer = auth.regionMatches(true, 0, BEARER, 0, BEARER.length());
        // Digests of equal length compared with isEqual: the time taken says nothing about the
        // token, not even its length.
        if (!bearer || !MessageDigest.isEqual(digest, sha256(auth.substring(BEARER.length()).strip()))) {
            throw new UnauthenticatedException("this endpoint requires Authorization: Bearer <" + what + ">");
        }
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
