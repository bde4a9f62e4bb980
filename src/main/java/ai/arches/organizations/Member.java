package ai.arches.organizations;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

import ai.arches.auth.Role;

/** A member of an organization. */
public record Member(UUID userId, String email, String name, Role role, Instant joinedAt) {
    static final List<String> FIELDS = List.of("userId", "email", "name", "role", "joinedAt");
}
