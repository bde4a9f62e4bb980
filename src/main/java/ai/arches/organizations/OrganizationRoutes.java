package ai.arches.organizations;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import ai.arches.auth.ApiKey;
import ai.arches.auth.ApiKeys;
import ai.arches.auth.Auth;
import ai.arches.auth.Guard;
import ai.arches.auth.Principal;
import ai.arches.auth.Role;
import ai.arches.common.Cursors;
import ai.arches.common.Ids;
import ai.arches.common.NotFoundException;
import ai.arches.http.ApiRouter;
import ai.arches.http.Input;
import ai.arches.http.JsonIo;

import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/** /organizations, their members and API keys. */
public final class OrganizationRoutes {
    static final List<String> KEY_FIELDS = List.of("id", "organizationId", "name", "role", "prefix", "createdBy",
            "createdAt", "lastUsedAt", "expiresAt");
    private static final java.util.Map<String, Role> KEY_ROLES = java.util.Map.of(
            "admin", Role.ADMIN, "member", Role.MEMBER, "viewer", Role.VIEWER);

    /** The create response: the key's fields plus the secret, shown this once. */
    record CreatedKey(UUID id, UUID organizationId, String name, Role role, String prefix, UUID createdBy,
                      Instant createdAt, Instant lastUsedAt, Instant expiresAt, String key) {}

    private final Organizations orgs;
    private final Guard guard;
    private final OrgGuard orgGuard;
    private final ApiKeys apiKeys;
    private final Cursors cursors;
    private final JsonIo io;
    private final java.time.Clock clock;

    public OrganizationRoutes(Organizations orgs, Guard guard, OrgGuard orgGuard, ApiKeys apiKeys, Cursors cursors,
                              JsonIo io, java.time.Clock clock) {
        this.clock = clock;
        this.orgs = orgs;
        this.guard = guard;
        this.orgGuard = orgGuard;
        this.apiKeys = apiKeys;
        this.cursors = cursors;
        this.io = io;
    }

    public void register(ApiRouter r, String base) {
        String org = base + "/organizations/{org}";
        r.post(base + "/organizations", guard.user(this::create));
        r.get(base + "/organizations", guard.caller(this::list));
        r.get(org, orgGuard.at(Role.VIEWER, this::get));
        r.patch(org, orgGuard.at(Role.ADMIN, this::update));
        r.delete(org, orgGuard.at(Role.OWNER, this::delete));
        r.get(org + "/members", orgGuard.at(Role.VIEWER, this::members));
        r.post(org + "/members", orgGuard.at(Role.ADMIN, this::addMember));
        r.patch(org + "/members/{userId}", orgGuard.at(Role.ADMIN, this::changeRole));
        r.delete(org + "/members/{userId}", orgGuard.at(Role.VIEWER, this::removeMember));
        r.post(org + "/api-keys", orgGuard.at(Role.ADMIN, this::createKey));
        r.get(org + "/api-keys", orgGuard.at(Role.ADMIN, this::listKeys));
        r.delete(org + "/api-keys/{keyId}", orgGuard.at(Role.ADMIN, this::deleteKey));
    }

    private void create(Principal.User caller, ServerRequest req, ServerResponse res) {
        UUID user = caller.userId();
        Input in = io.readInput(req);
        String name = in.requiredString("name", 1, 200);
        String slug = in.requiredString("slug", 1, 63, Organizations.SLUG);
        in.validate();
        Organization o = orgs.create(user, name, slug);
        res.header(HeaderNames.LOCATION, "/api/v1/organizations/" + o.id());
        io.send(req, res, Status.CREATED_201, o, Organization.FIELDS);
    }

    private void list(Principal p, ServerRequest req, ServerResponse res) {
        String limit = req.query().first("limit").orElse(null);
        String cursor = req.query().first("cursor").orElse(null);
        if (p instanceof Principal.ApiKey k) {
            // A key sees exactly its own organization.
            var access = orgs.access(p, k.organizationId().toString());
            cursors.request("orgs:key:" + k.keyId(), limit, cursor);
            io.send(req, res, Status.OK_200, new ai.arches.common.Page<>(List.of(access.organization()), null),
                    Organization.FIELDS);
            return;
        }
        io.send(req, res, Status.OK_200, orgs.list(((Principal.User) p).userId(), limit, cursor), Organization.FIELDS);
    }

    private void get(Access access, ServerRequest req, ServerResponse res) {
        io.send(req, res, Status.OK_200, access.organization(), Organization.FIELDS);
    }

    private void update(Access access, ServerRequest req, ServerResponse res) {
        Input in = io.readInput(req);
        in.requireAnyOf("name", "slug");
        Optional<String> name = in.optionalString("name", 1, 200);
        Optional<String> slug = in.optionalString("slug", 1, 63, Organizations.SLUG);
        in.validate();
        io.send(req, res, Status.OK_200, orgs.update(access, name, slug), Organization.FIELDS);
    }

    private void delete(Access access, ServerRequest req, ServerResponse res) {
        orgs.delete(access);
        res.status(Status.NO_CONTENT_204).send();
    }

    private void members(Access access, ServerRequest req, ServerResponse res) {
        io.send(req, res, Status.OK_200, orgs.members(access, req.query().first("limit").orElse(null),
                req.query().first("cursor").orElse(null)), Member.FIELDS);
    }

    private void addMember(Access access, ServerRequest req, ServerResponse res) {
        Input in = io.readInput(req);
        String email = in.requiredString("email", 3, 254, Auth.EMAIL);
        Role role = in.requiredEnum("role", Role.class, Role.BY_NAME);
        in.validate();
        Member m = orgs.addMember(access, email, role);
        io.send(req, res, Status.CREATED_201, m, Member.FIELDS);
    }

    private void changeRole(Access access, ServerRequest req, ServerResponse res) {
        UUID userId = pathId(req, "userId", "member");
        Input in = io.readInput(req);
        Role role = in.requiredEnum("role", Role.class, Role.BY_NAME);
        in.validate();
        io.send(req, res, Status.OK_200, orgs.changeRole(access, userId, role), Member.FIELDS);
    }

    private void removeMember(Access access, ServerRequest req, ServerResponse res) {
        orgs.removeMember(access, pathId(req, "userId", "member"));
        res.status(Status.NO_CONTENT_204).send();
    }

    private void createKey(Access access, ServerRequest req, ServerResponse res) {
        Input in = io.readInput(req);
        String name = in.requiredString("name", 1, 200);
        Role role = in.requiredEnum("role", Role.class, KEY_ROLES);
        Optional<Instant> expiresAt = in.optionalInstant("expiresAt");
        if (expiresAt.isPresent() && !expiresAt.get().isAfter(Instant.now(clock))) {
            in.error("expiresAt", "must be in the future");
        }
        in.validate();
        var created = orgs.createKey(access, name, role, expiresAt.orElse(null));
        ApiKey k = created.key();
        res.header(HeaderNames.LOCATION, "/api/v1/organizations/" + k.organizationId() + "/api-keys/" + k.id());
        // The secret is in this body, once: no cache along the way may keep it.
        res.header(HeaderNames.CACHE_CONTROL, "no-store");
        res.header(HeaderNames.PRAGMA, "no-cache");
        io.send(req, res, Status.CREATED_201, new CreatedKey(k.id(), k.organizationId(), k.name(), k.role(),
                k.prefix(), k.createdBy(), k.createdAt(), k.lastUsedAt(), k.expiresAt(), created.secret()));
    }

    private void listKeys(Access access, ServerRequest req, ServerResponse res) {
        String scope = "keys:" + access.organizationId();
        var page = cursors.request(scope, req.query().first("limit").orElse(null),
                req.query().first("cursor").orElse(null));
        var result = cursors.page(scope, page, apiKeys.list(access.organizationId(), page),
                k -> new Cursors.Position(k.createdAt(), k.id()));
        io.send(req, res, Status.OK_200, result, KEY_FIELDS);
    }

    private void deleteKey(Access access, ServerRequest req, ServerResponse res) {
        if (!apiKeys.delete(access.organizationId(), pathId(req, "keyId", "API key"))) {
            throw new NotFoundException("API key not found");
        }
        res.status(Status.NO_CONTENT_204).send();
    }

    private static UUID pathId(ServerRequest req, String name, String what) {
        return Ids.parse(req.path().pathParameters().get(name))
                .orElseThrow(() -> new NotFoundException(what + " not found"));
    }
}
