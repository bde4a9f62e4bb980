package ai.arches.auth;

import java.time.Instant;
import java.util.UUID;

/**
 * An API key as listed: never the secret, only its first characters to recognise it by. Its role
 * is never above its creator's current role; {@code expiresAt} null means it does not expire.
 */
public record ApiKey(UUID id, UUID organizationId, String name, Role role, String prefix,
                     UUID createdBy, Instant createdAt, Instant lastUsedAt, Instant expiresAt) {}
