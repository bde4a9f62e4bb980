package ai.arches.organizations;

import ai.arches.auth.Guard;
import ai.arches.auth.Role;

import graphql.schema.DataFetchingEnvironment;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * The route wrapper of every /organizations/{org}/... route: authenticates once (through
 * {@link Guard}), resolves the organization and the caller's role in it (404 for a non-member),
 * checks the route's minimum role (403), and hands the handler the {@link Access}. The minimum
 * role is declared where the route is registered and checked only here; entry types check only
 * what depends on data (whom a role may be granted to, the last owner, leaving).
 *
 * <p>GraphQL fields make the same check here: a mutation resolves its {@code org} argument
 * with {@link #at(Role, DataFetchingEnvironment, String)}, and a field of an {@code Organization}
 * (whose source is the caller's Access) declares its role with {@link #of}.
 */
public final class OrgGuard {
    /** A handler of an organization-scoped route. */
    @FunctionalInterface
    public interface OrgHandler {
        void handle(Access access, ServerRequest req, ServerResponse res);
    }

    private final Guard guard;
    private final Organizations orgs;

    public OrgGuard(Guard guard, Organizations orgs) {
        this.guard = guard;
        this.orgs = orgs;
    }

    /** Members with at least {@code minimum} reach the handler. */
    public Handler at(Role minimum, OrgHandler h) {
        return guard.caller((caller, req, res) -> {
            Access access = orgs.access(caller, req.path().pathParameters().get("org")).require(minimum);
            h.handle(access, req, res);
        });
    }

    /**
     * GraphQL: the organization {@code ref} (id or slug) names, for the request's caller, who
     * needs at least {@code minimum}: not found for a non-member, forbidden below the role.
     */
    public Access at(Role minimum, DataFetchingEnvironment env, String ref) {
        return orgs.access(Guard.caller(env), ref).require(minimum);
    }

    /** GraphQL: the Access an {@code Organization} field resolves on, for callers with at least {@code minimum}. */
    public static Access of(DataFetchingEnvironment env, Role minimum) {
        Access access = env.getSource();
        return access.require(minimum);
    }
}
