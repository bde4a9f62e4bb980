package ai.arches.auth;

import java.time.Instant;
import java.util.UUID;

/** A user account as the API shows it (never the password hash). */
public record User(UUID id, String email, String name, Instant createdAt, Instant updatedAt) {}
