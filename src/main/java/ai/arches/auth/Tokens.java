package ai.arches.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;
import java.util.UUID;

import com.auth0.jwt.JWT;
import com.auth0.jwt.JWTVerifier;
import com.auth0.jwt.algorithms.Algorithm;
import com.auth0.jwt.exceptions.JWTVerificationException;
import com.auth0.jwt.interfaces.DecodedJWT;

/**
 * Access tokens are HS256 JWTs verified in memory (no database round trip): subject = user id,
 * {@code sid} = the login session (refresh-token family). Refresh tokens and API keys are
 * random 256-bit strings of which only a SHA-256 is stored; their entropy makes a slow KDF
 * unnecessary. The verifier is immutable and thread-safe.
 */
public final class Tokens {
    private static final Base64.Encoder B64URL = Base64.getUrlEncoder().withoutPadding();

    private final Algorithm algorithm;
    private final JWTVerifier verifier;
    private final String issuer;
    private final Duration accessTtl;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();

    public Tokens(byte[] secret, String issuer, Duration accessTtl, Clock clock) {
        this.algorithm = Algorithm.HMAC256(secret);
        this.issuer = issuer;
        this.accessTtl = accessTtl;
        this.clock = clock;
        // BaseVerification.build(Clock) checks expiry against the injected clock.
        this.verifier = ((JWTVerifier.BaseVerification) JWT.require(algorithm).withIssuer(issuer)
                .withClaimPresence("sid").withClaimPresence("exp").acceptLeeway(1)).build(clock);
    }

    public String issueAccess(UUID userId, UUID sessionId) {
        Instant now = clock.instant();
        return JWT.create()
                .withIssuer(issuer)
                .withSubject(userId.toString())
                .withClaim("sid", sessionId.toString())
                .withIssuedAt(now)
                .withExpiresAt(now.plus(accessTtl))
                .sign(algorithm);
    }

    /** A verified access token: whom it names and when it expires ({@code exp}). */
    record Verified(Principal.User user, Instant expiresAt) {}

    /** The user an access token names, if its signature, issuer and expiry hold. */
    public Optional<Principal.User> verifyAccess(String token) {
        return verify(token).map(Verified::user);
    }

    /** As {@link #verifyAccess}, with the token's expiry (for caching the result no longer than that). */
    Optional<Verified> verify(String token) {
        try {
            DecodedJWT jwt = verifier.verify(token);
            return Optional.of(new Verified(new Principal.User(UUID.fromString(jwt.getSubject()),
                    UUID.fromString(jwt.getClaim("sid").asString())), jwt.getExpiresAtAsInstant()));
        } catch (JWTVerificationException | IllegalArgumentException | NullPointerException e) {
            return Optional.empty();
        }
    }

    public long accessTtlSeconds() {
        return accessTtl.toSeconds();
    }

    /** 256 random bits, base64url, with a readable prefix. */
    public String randomSecret(String prefix) {
        byte[] b = new byte[32];
        random.nextBytes(b);
        return prefix + B64URL.encodeToString(b);
    }

    public static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
