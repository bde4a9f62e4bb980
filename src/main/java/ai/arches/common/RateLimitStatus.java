package ai.arches.common;

/**
 * Where a caller stands against its limit, for the RateLimit-* response headers: the limit,
 * what is left of it, and seconds until the window resets (and until a retry may pass).
 */
public record RateLimitStatus(long limit, long remaining, long resetSeconds, long retryAfterSeconds) {}
