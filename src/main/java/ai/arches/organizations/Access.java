package ai.arches.organizations;

import java.util.UUID;

import ai.arches.auth.Principal;
import ai.arches.auth.Role;
import ai.arches.common.ForbiddenException;

/**
 * The outcome of the access check: the organization a request targets and the role the caller
 * holds in it. Only {@link Organizations#access} makes one, so holding an Access proves
 * membership; features scope every query by {@link #organizationId()}.
 */
public record Access(Organization organization, Role role, Principal principal) {

    public UUID organizationId() {
        return organization.id();
    }

    /** The acting user, or null for an API key. */
    public UUID userId() {
        return principal instanceof Principal.User u ? u.userId() : null;
    }

    /** 403 unless the caller's role is at least {@code minimum}. */
    public Access require(Role minimum) {
        if (!role.atLeast(minimum)) {
            throw new ForbiddenException("this needs the " + minimum.wire() + " role or higher; the caller is "
                    + role.wire());
        }
        return this;
    }
}
