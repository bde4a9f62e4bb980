package ai.arches.auth;

import java.time.Instant;
import java.util.UUID;

/** An API key as listed: never the secret, only its first characters to recognise it by. */
public record ApiKey(UUID id, UUID organizationId, String name, Role role, String prefix,
                     UUID createdBy, Instant createdAt, Instant lastUsedAt) {}
