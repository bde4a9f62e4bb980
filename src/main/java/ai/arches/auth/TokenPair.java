package ai.arches.auth;

/** The login and refresh response. */
public record TokenPair(String accessToken, String refreshToken, String tokenType, long expiresIn) {}
