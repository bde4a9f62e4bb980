package ai.arches.auth;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Access tokens whose signature has been verified, by token string, so a client that sends the
 * same token on every request pays the JWT parse and HMAC once per node (about 4 µs) instead of
 * on every request. Only the signature and claim parsing are skipped: the caller still checks the
 * token's session on every use ({@link Sessions}), so revocation is exactly as fast as before.
 *
 * <p>Invariants: an entry is only ever created from a token {@link Tokens#verify} accepted, and is
 * never used at or after the token's {@code exp} by the injected clock (checked on each hit; a
 * stale hit falls through to full verification, which applies the verifier's own leeway). Caffeine
 * also drops each entry at its {@code exp}, so the bound holds memory, not correctness. A token
 * the verifier refuses is not cached: forged tokens cannot crowd out good ones. Thread-safe: two
 * first uses of one token may both verify, which is harmless.
 */
final class VerifiedTokens {
    private final Tokens tokens;
    private final Clock clock;
    /** Null when {@code auth.access_token_cache} is 0: every use verifies. */
    private final Cache<String, Tokens.Verified> verified;
    private final Counter verifications;

    VerifiedTokens(Tokens tokens, int maxEntries, Clock clock, MeterRegistry meters) {
        this.tokens = tokens;
        this.clock = clock;
        this.verified = maxEntries == 0 ? null : Caffeine.newBuilder()
                .maximumSize(maxEntries)
                .expireAfter(Expiry.creating((String token, Tokens.Verified v) -> untilExpiry(v)))
                .build();
        this.verifications = Counter.builder("auth.token.verifications")
                .description("Access tokens fully verified (JWT parse and HMAC); cached tokens skip this")
                .register(meters);
    }

    /** The user the token names, if it is a valid, unexpired access token. */
    Optional<Principal.User> verify(String token) {
        if (verified != null) {
            Tokens.Verified hit = verified.getIfPresent(token);
            if (hit != null && clock.instant().isBefore(hit.expiresAt())) {
                return Optional.of(hit.user());
            }
        }
        verifications.increment();
        Optional<Tokens.Verified> v = tokens.verify(token);
        if (verified != null) {
            // Within the verifier's leeway a token may verify at or just past exp: not worth caching.
            v.filter(t -> clock.instant().isBefore(t.expiresAt())).ifPresent(t -> verified.put(token, t));
        }
        return v.map(Tokens.Verified::user);
    }

    private Duration untilExpiry(Tokens.Verified v) {
        Duration left = Duration.between(clock.instant(), v.expiresAt());
        return left.isNegative() ? Duration.ZERO : left;
    }
}
