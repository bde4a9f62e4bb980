package ai.arches.auth;

import java.util.UUID;

/** Who is calling: a signed-in user, or an API key bound to one organization with one role. */
public sealed interface Principal {

    /** A user with a verified access token; {@code sessionId} is the refresh-token family. */
    record User(UUID userId, UUID sessionId) implements Principal {}

    /**
     * An API key: it acts in {@code organizationId} only, never above {@code role}. Keys it mints
     * answer to the same {@code createdBy} (null only for keys minted by keys before V5).
     */
    record ApiKey(UUID keyId, UUID organizationId, Role role, UUID createdBy) implements Principal {}
}
