package ai.arches.organizations;

import java.time.Instant;

import ai.arches.auth.Role;
import ai.arches.auth.User;

/** A member of an organization with their whole account, as the GraphQL schema shows one. */
public record Membership(User user, Role role, Instant joinedAt) {}
