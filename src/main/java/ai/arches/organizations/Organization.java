package ai.arches.organizations;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

import ai.arches.auth.Role;

/** An organization with the caller's role in it. */
public record Organization(UUID id, String name, String slug, Role role, Instant createdAt, Instant updatedAt) {
    static final List<String> FIELDS = List.of("id", "name", "slug", "role", "createdAt", "updatedAt");
}
