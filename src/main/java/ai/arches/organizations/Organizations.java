package ai.arches.organizations;

import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

import ai.arches.auth.ApiKeys;
import ai.arches.auth.Auth;
import ai.arches.auth.Principal;
import ai.arches.auth.Role;
import ai.arches.auth.User;
import ai.arches.common.ConflictException;
import ai.arches.common.Cursors;
import ai.arches.common.FieldError;
import ai.arches.common.ForbiddenException;
import ai.arches.common.Ids;
import ai.arches.common.NotFoundException;
import ai.arches.common.Page;
import ai.arches.common.UnprocessableException;
import ai.arches.cache.Caches;
import ai.arches.cache.TieredCache;
import ai.arches.db.Database;

import org.jdbi.v3.core.HandleCallback;

/**
 * Organizations, members and roles, and the access check every tenant-scoped request makes
 * first (through {@link OrgGuard}). The public entry type of the feature. A caller who is not a
 * member gets 404 for an organization, never 403, so the existence of other tenants does not
 * leak. Routes declare the minimum role; the methods here check only what depends on data.
 */
public final class Organizations {
    public static final Pattern SLUG = Pattern.compile("^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$");

    private final Database db;
    private final Auth auth;
    private final ApiKeys apiKeys;
    private final Cursors cursors;
    private final Clock clock;
    private final OrganizationStore store = new OrganizationStore();
    /** Organizations by id (the caller's role is not part of the entry). */
    private final TieredCache<Organization> byId;
    private final TieredCache<UUID> idBySlug;
    /** A user's role in an organization, keyed "org:user"; absent means not a member. */
    private final TieredCache<Role> roles;

    public Organizations(Database db, Auth auth, ApiKeys apiKeys, Cursors cursors, Clock clock, Caches caches) {
        this.db = db;
        this.auth = auth;
        this.apiKeys = apiKeys;
        this.cursors = cursors;
        this.clock = clock;
        this.byId = caches.cache("orgs", Organization.class, o -> ChronoUnit.MICROS.between(Instant.EPOCH, o.updatedAt()));
        this.idBySlug = caches.cache("org-slugs", UUID.class, id -> 0L);
        this.roles = caches.cache("roles", Role.class, r -> 0L);
    }

    /**
     * The organization named by id or slug and the caller's role in it; 404 if not a member. Each
     * step is a cached lookup (slug to id, organization, membership), so a warm check costs no
     * database round trip.
     */
    public Access access(Principal principal, String orgRef) {
        Optional<UUID> id = Ids.parse(orgRef);
        if (id.isEmpty()) {
            if (!SLUG.matcher(orgRef).matches()) {
                throw notFound();
            }
            id = idBySlug.get(orgRef, () -> db.withHandle(h -> store.idBySlug(h, orgRef)));
        }
        UUID orgId = id.orElseThrow(Organizations::notFound);
        Organization org = byId.get(orgId.toString(), () -> db.withHandle(h -> store.byId(h, orgId)))
                .orElseThrow(Organizations::notFound);
        Role role = switch (principal) {
            case Principal.User u -> roles.get(orgId + ":" + u.userId(),
                    () -> db.withHandle(h -> store.role(h, orgId, u.userId()))).orElseThrow(Organizations::notFound);
            case Principal.ApiKey k -> {
                if (!k.organizationId().equals(orgId)) {
                    throw notFound();
                }
                yield k.role();
            }
        };
        Organization withRole = new Organization(org.id(), org.name(), org.slug(), role, org.createdAt(), org.updatedAt());
        return new Access(withRole, role, principal);
    }

    /**
     * Access for work a member started and the platform carries on in the background (a workflow
     * run's steps): the organization as stored, acting for {@code principal} with {@code role}.
     * Empty when the organization no longer exists.
     */
    public Optional<Access> onBehalf(UUID orgId, Principal principal, Role role) {
        return byId.get(orgId.toString(), () -> db.withHandle(h -> store.byId(h, orgId)))
                .map(org -> new Access(new Organization(org.id(), org.name(), org.slug(), role, org.createdAt(),
                        org.updatedAt()), role, principal));
    }

    public Organization create(UUID owner, String name, String slug) {
        checkSlugNotUuid(slug);
        Instant now = now();
        Organization org = new Organization(Ids.newId(), name, slug, Role.OWNER, now, now);
        boolean created;
        try {
            created = db.inTransaction(h -> store.insert(h, org, owner));
        } catch (RuntimeException e) {
            if (Database.isUniqueViolation(e)) {
                throw slugTaken();
            }
            throw e;
        }
        if (!created) {
            throw slugTaken();
        }
        idBySlug.invalidate(slug);
        byId.put(org.id().toString(), org);
        roles.put(org.id() + ":" + owner, Role.OWNER);
        return org;
    }

    public Page<Organization> list(UUID userId, String limit, String cursor) {
        return list(userId, limit, cursor, true);
    }

    /** {@code mayBeStale}: the page is only shown, so a replica may serve it. */
    private Page<Organization> list(UUID userId, String limit, String cursor, boolean mayBeStale) {
        String scope = "orgs:" + userId;
        var page = cursors.request(scope, limit, cursor);
        HandleCallback<List<Organization>, RuntimeException> read = h -> store.listForUser(h, userId, page);
        return cursors.page(scope, page, mayBeStale ? db.withReadHandle(read) : db.withHandle(read),
                o -> new Cursors.Position(o.createdAt(), o.id()));
    }

    /**
     * The organizations the caller may act in, each with its role as the list found it: a user's,
     * newest first; an API key's one organization. Holding one of these proves membership as
     * {@link #access} does, so the list is read on the primary: a replica's could still hold a
     * membership removed a moment ago (REST's list, which only shows, reads a replica).
     */
    public Page<Access> accessible(Principal principal, String limit, String cursor) {
        return switch (principal) {
            case Principal.User u -> {
                Page<Organization> page = list(u.userId(), limit, cursor, false);
                yield new Page<>(page.data().stream().map(o -> new Access(o, o.role(), principal)).toList(),
                        page.nextCursor());
            }
            case Principal.ApiKey k -> {
                // A key sees exactly its own organization; limit and cursor are still checked.
                cursors.request("orgs:key:" + k.keyId(), limit, cursor);
                yield new Page<>(List.of(access(principal, k.organizationId().toString())), null);
            }
        };
    }

    /** One organization's page of members, asked for with others (the GraphQL endpoint batches them). */
    public record MembersOf(Access access, Cursors.PageRequest page) {}

    /** Checks a members page request as {@link #members} does: 400 for a bad limit or a cursor of another list. */
    public Cursors.PageRequest membersPage(Access access, String limit, String cursor) {
        return cursors.request("members:" + access.organizationId(), limit, cursor);
    }

    /**
     * Pages of members of several organizations, with their accounts, in one statement whatever
     * their number; in the order asked. Each request carries its access check's outcome.
     */
    public List<Page<Membership>> memberPages(List<MembersOf> requests) {
        List<OrganizationStore.PageOf> of = requests.stream()
                .map(r -> new OrganizationStore.PageOf(r.access().organizationId(), r.page())).toList();
        List<List<Membership>> rows = db.withReadHandle(h -> store.memberPages(h, of));
        List<Page<Membership>> pages = new ArrayList<>(requests.size());
        for (int i = 0; i < requests.size(); i++) {
            MembersOf r = requests.get(i);
            pages.add(cursors.page("members:" + r.access().organizationId(), r.page(), rows.get(i),
                    m -> new Cursors.Position(m.joinedAt(), m.user().id())));
        }
        return pages;
    }

    public Organization update(Access access, Optional<String> name, Optional<String> slug) {
        slug.ifPresent(Organizations::checkSlugNotUuid);
        Optional<Instant> at;
        try {
            at = db.withHandle(h -> store.update(h, access.organizationId(), name, slug, now()));
        } catch (RuntimeException e) {
            if (Database.isUniqueViolation(e)) {
                throw slugTaken();
            }
            throw e;
        }
        Organization o = access.organization();
        Organization updated = new Organization(o.id(), name.orElse(o.name()), slug.orElse(o.slug()), o.role(),
                o.createdAt(), at.orElseThrow(Organizations::slugTaken));
        byId.put(o.id().toString(), updated);
        idBySlug.invalidate(o.slug());
        slug.ifPresent(idBySlug::invalidate);
        return updated;
    }

    public void delete(Access access) {
        db.withHandle(h -> {
            store.delete(h, access.organizationId());
            return null;
        });
        // Memberships and documents of the organization stay cached until they expire, but every
        // request first resolves the organization, which is gone from here on.
        byId.invalidate(access.organizationId().toString());
        idBySlug.invalidate(access.organization().slug());
    }

    public Page<Member> members(Access access, String limit, String cursor) {
        String scope = "members:" + access.organizationId();
        var page = cursors.request(scope, limit, cursor);
        return cursors.page(scope, page, db.withReadHandle(h -> store.members(h, access.organizationId(), page)),
                m -> new Cursors.Position(m.joinedAt(), m.userId()));
    }

    public Member addMember(Access access, String email, Role role) {
        requireMayGrant(access, role);
        User user = auth.userByEmail(email).orElseThrow(() -> new UnprocessableException(
                "no registered user has this email",
                java.util.List.of(new FieldError("email", "no registered user has this email"))));
        Instant now = now();
        try {
            db.withHandle(h -> {
                store.insertMember(h, access.organizationId(), user.id(), role, now);
                return null;
            });
        } catch (RuntimeException e) {
            if (Database.isUniqueViolation(e)) {
                throw new ConflictException("this user is already a member");
            }
            throw e;
        }
        roles.put(access.organizationId() + ":" + user.id(), role);
        return new Member(user.id(), user.email(), user.name(), role, now);
    }

    /** Changes a role; the member's API keys in the organization drop to the new role if above it. */
    public Member changeRole(Access access, UUID userId, Role role) {
        List<String> limited = new ArrayList<>();
        Member changed = db.inTransaction(h -> {
            Member target = store.member(h, access.organizationId(), userId).orElseThrow(Organizations::memberNotFound);
            requireMayManage(access, target);
            requireMayGrant(access, role);
            if (target.role() == Role.OWNER && role != Role.OWNER && store.lockOwners(h, access.organizationId()) <= 1) {
                throw lastOwner();
            }
            store.setRole(h, access.organizationId(), userId, role);
            limited.addAll(apiKeys.limitCreator(h, access.organizationId(), userId, role));
            return new Member(target.userId(), target.email(), target.name(), role, target.joinedAt());
        });
        roles.put(access.organizationId() + ":" + userId, role);
        apiKeys.forget(limited);
        return changed;
    }

    /** Admins remove others; anyone may leave. The last owner may do neither. Their keys here go too. */
    public void removeMember(Access access, UUID userId) {
        boolean self = userId.equals(access.userId());
        if (!self) {
            access.require(Role.ADMIN);
        }
        List<String> revoked = db.inTransaction(h -> {
            Member target = store.member(h, access.organizationId(), userId).orElseThrow(Organizations::memberNotFound);
            if (!self) {
                requireMayManage(access, target);
            }
            if (target.role() == Role.OWNER && store.lockOwners(h, access.organizationId()) <= 1) {
                throw lastOwner();
            }
            store.removeMember(h, access.organizationId(), userId);
            return apiKeys.revokeCreator(h, access.organizationId(), userId);
        });
        roles.invalidate(access.organizationId() + ":" + userId);
        apiKeys.forget(revoked);
    }

    /**
     * A new key answers to the user behind the caller: the user, or the creator of the calling
     * key. Their membership row is read under a share lock, so a concurrent demotion or removal
     * (which updates or deletes that row, then limits or revokes the creator's keys in the same
     * transaction) either waits for this key and then limits it, or commits first and this check
     * sees the lower role. Checking the cached role alone would let a key slip between the two.
     */
    public ApiKeys.Created createKey(Access access, String name, Role role, Instant expiresAt) {
        requireMayGrant(access, role);
        UUID creator = switch (access.principal()) {
            case Principal.User u -> u.userId();
            case Principal.ApiKey k -> k.createdBy();
        };
        if (creator == null) {
            throw new ForbiddenException("this key has no creator to answer to, so it cannot create keys");
        }
        return db.inTransaction(h -> {
            Role now = store.lockRole(h, access.organizationId(), creator)
                    .orElseThrow(() -> new ForbiddenException("the key's creator is no longer a member"));
            if (!now.atLeast(role) || !now.atLeast(Role.ADMIN)) {
                throw new ForbiddenException("the creator is " + now.wire() + " now and cannot grant the "
                        + role.wire() + " role");
            }
            return apiKeys.create(h, access.organizationId(), name, role, creator, expiresAt);
        });
    }

    /** Only an owner may grant owner; nobody grants above their own role. */
    static void requireMayGrant(Access access, Role role) {
        if (!access.role().atLeast(role)) {
            throw new ForbiddenException("a " + access.role().wire() + " cannot grant the " + role.wire() + " role");
        }
    }

    /** Only an owner may change or remove an owner. */
    private static void requireMayManage(Access access, Member target) {
        if (target.role() == Role.OWNER && access.role() != Role.OWNER) {
            throw new ForbiddenException("only an owner can change or remove an owner");
        }
    }

    /** A slug that parses as a UUID would be ambiguous in /organizations/{id or slug}. */
    private static void checkSlugNotUuid(String slug) {
        if (Ids.parse(slug).isPresent()) {
            throw new ai.arches.common.InvalidInputException("slug must not look like an id",
                    java.util.List.of(new FieldError("slug", "must not have the form of a UUID")));
        }
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }

    private static NotFoundException notFound() {
        return new NotFoundException("organization not found");
    }

    private static NotFoundException memberNotFound() {
        return new NotFoundException("member not found");
    }

    private static ConflictException slugTaken() {
        return new ConflictException("an organization with this slug already exists");
    }

    private static ConflictException lastOwner() {
        return new ConflictException("an organization must keep at least one owner; make someone else owner first");
    }
}
