package ai.arches.organizations;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import ai.arches.auth.Role;
import ai.arches.auth.User;
import ai.arches.common.Cursors;
import ai.arches.db.Database;
import ai.arches.db.Keyset;
import ai.arches.db.Rows;

import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.mapper.RowMapper;

/** SQL for organizations and their members. Every statement is scoped by organization id. */
final class OrganizationStore {
    /** Above every id in (created_at, id) order: a first page's position. */
    private static final UUID LAST_UUID = new UUID(-1L, -1L);
    private static final RowMapper<Organization> ORG = (rs, ctx) -> new Organization(
            Rows.uuid(rs, "id"), rs.getString("name"), rs.getString("slug"),
            Role.parse(rs.getString("role")).orElseThrow(),
            Rows.instant(rs, "created_at"), Rows.instant(rs, "updated_at"));

    private static final RowMapper<Member> MEMBER = (rs, ctx) -> new Member(
            Rows.uuid(rs, "user_id"), rs.getString("email"), rs.getString("name"),
            Role.parse(rs.getString("role")).orElseThrow(), Rows.instant(rs, "created_at"));

    private static final RowMapper<Organization> PLAIN_ORG = (rs, ctx) -> new Organization(
            Rows.uuid(rs, "id"), rs.getString("name"), rs.getString("slug"), null,
            Rows.instant(rs, "created_at"), Rows.instant(rs, "updated_at"));

    private record MembershipRow(int ord, Membership membership) {}

    private static final RowMapper<MembershipRow> MEMBERSHIP = (rs, ctx) -> new MembershipRow(rs.getInt("ord"),
            new Membership(new User(Rows.uuid(rs, "user_id"), rs.getString("email"), rs.getString("name"),
                    Rows.instant(rs, "user_created_at"), Rows.instant(rs, "user_updated_at")),
                    Role.parse(rs.getString("role")).orElseThrow(), Rows.instant(rs, "created_at")));

    Optional<UUID> idBySlug(Handle h, String slug) {
        return h.createQuery("SELECT id FROM organizations WHERE slug = :slug")
                .define(Database.QUERY_TYPE, "orgs.by_slug").bind("slug", slug).mapTo(UUID.class).findOne();
    }

    /** The organization without a caller's role (the role is looked up, and cached, apart). */
    Optional<Organization> byId(Handle h, UUID id) {
        return h.createQuery("SELECT id, name, slug, created_at, updated_at FROM organizations WHERE id = :id")
                .define(Database.QUERY_TYPE, "orgs.get").bind("id", id).map(PLAIN_ORG).findOne();
    }

    Optional<Role> role(Handle h, UUID org, UUID user) {
        return h.createQuery("SELECT role FROM organization_members WHERE organization_id = :org AND user_id = :user")
                .define(Database.QUERY_TYPE, "members.role").bind("org", org).bind("user", user)
                .mapTo(String.class).findOne().flatMap(Role::parse);
    }

    /** The member's role, with their row share-locked until the transaction ends. */
    Optional<Role> lockRole(Handle h, UUID org, UUID user) {
        return h.createQuery("""
                        SELECT role FROM organization_members WHERE organization_id = :org AND user_id = :user
                        FOR SHARE""")
                .define(Database.QUERY_TYPE, "members.lock_role").bind("org", org).bind("user", user)
                .mapTo(String.class).findOne().flatMap(Role::parse);
    }

    boolean insert(Handle h, Organization o, UUID owner) {
        int rows = h.createUpdate("""
                        INSERT INTO organizations (id, name, slug, created_at, updated_at)
                        VALUES (:id, :name, :slug, :at, :at) ON CONFLICT (slug) DO NOTHING""")
                .define(Database.QUERY_TYPE, "orgs.insert")
                .bind("id", o.id()).bind("name", o.name()).bind("slug", o.slug()).bind("at", o.createdAt())
                .execute();
        if (rows == 0) {
            return false;
        }
        insertMember(h, o.id(), owner, Role.OWNER, o.createdAt());
        return true;
    }

    List<Organization> listForUser(Handle h, UUID userId, Cursors.PageRequest page) {
        String sql = """
                SELECT o.id, o.name, o.slug, o.created_at, o.updated_at, m.role
                FROM organization_members m
                JOIN organizations o ON o.id = m.organization_id
                WHERE m.user_id = :user""" + Keyset.after(page, "o.created_at", "o.id")
                + " ORDER BY o.created_at DESC, o.id DESC LIMIT :fetch";
        return Keyset.bind(h.createQuery(sql), page)
                .define(Database.QUERY_TYPE, "orgs.list")
                .bind("user", userId).map(ORG).list();
    }

    /** Updates name and/or slug; empty when the slug is taken (the unique index decides). */
    Optional<Instant> update(Handle h, UUID id, Optional<String> name, Optional<String> slug, Instant at) {
        int rows = h.createUpdate("""
                        UPDATE organizations SET name = COALESCE(:name, name), slug = COALESCE(:slug, slug),
                               updated_at = :at
                        WHERE id = :id
                          AND NOT EXISTS (SELECT 1 FROM organizations x WHERE x.slug = :slug AND x.id <> :id)""")
                .define(Database.QUERY_TYPE, "orgs.update")
                .bind("id", id).bind("name", name.orElse(null)).bind("slug", slug.orElse(null)).bind("at", at)
                .execute();
        return rows == 1 ? Optional.of(at) : Optional.empty();
    }

    void delete(Handle h, UUID id) {
        h.createUpdate("DELETE FROM organizations WHERE id = :id")
                .define(Database.QUERY_TYPE, "orgs.delete").bind("id", id).execute();
    }

    void insertMember(Handle h, UUID org, UUID user, Role role, Instant at) {
        h.createUpdate("""
                        INSERT INTO organization_members (organization_id, user_id, role, created_at)
                        VALUES (:org, :user, :role, :at)""")
                .define(Database.QUERY_TYPE, "members.insert")
                .bind("org", org).bind("user", user).bind("role", role.wire()).bind("at", at).execute();
    }

    List<Member> members(Handle h, UUID org, Cursors.PageRequest page) {
        String sql = """
                SELECT m.user_id, u.email, u.name, m.role, m.created_at
                FROM organization_members m JOIN users u ON u.id = m.user_id
                WHERE m.organization_id = :org""" + Keyset.after(page, "m.created_at", "m.user_id")
                + " ORDER BY m.created_at DESC, m.user_id DESC LIMIT :fetch";
        return Keyset.bind(h.createQuery(sql), page)
                .define(Database.QUERY_TYPE, "members.list")
                .bind("org", org).map(MEMBER).list();
    }

    /** A page request of one organization's members, for {@link #memberPages}. */
    record PageOf(UUID org, Cursors.PageRequest page) {}

    /**
     * Pages of members of several organizations in one statement: per organization an index
     * range scan from its position (the first page starts above every row), bounded by its own
     * limit, joined to the users. Rows come back grouped in request order.
     */
    List<List<Membership>> memberPages(Handle h, List<PageOf> requests) {
        int n = requests.size();
        UUID[] orgs = new UUID[n];
        String[] afterAts = new String[n];
        UUID[] afterIds = new UUID[n];
        Integer[] fetches = new Integer[n];
        for (int i = 0; i < n; i++) {
            PageOf r = requests.get(i);
            orgs[i] = r.org();
            // Instants travel as ISO-8601 text: Jdbi has no array type for Instant.
            afterAts[i] = r.page().after().map(p -> p.createdAt().toString()).orElse("infinity");
            afterIds[i] = r.page().after().map(Cursors.Position::id).orElse(LAST_UUID);
            fetches[i] = r.page().fetchSize();
        }
        List<List<Membership>> pages = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            pages.add(new ArrayList<>());
        }
        h.createQuery("""
                        SELECT k.ord, m.user_id, u.email, u.name, u.created_at AS user_created_at,
                               u.updated_at AS user_updated_at, m.role, m.created_at
                        FROM unnest(CAST(:orgs AS uuid[]), CAST(:afterAts AS timestamptz[]), CAST(:afterIds AS uuid[]),
                                    CAST(:fetches AS int[])) WITH ORDINALITY AS k(org, after_at, after_id, fetch_rows, ord)
                        CROSS JOIN LATERAL (
                            SELECT m.user_id, m.role, m.created_at FROM organization_members m
                            WHERE m.organization_id = k.org AND (m.created_at, m.user_id) < (k.after_at, k.after_id)
                            ORDER BY m.created_at DESC, m.user_id DESC LIMIT k.fetch_rows) m
                        JOIN users u ON u.id = m.user_id
                        ORDER BY k.ord, m.created_at DESC, m.user_id DESC""")
                .define(Database.QUERY_TYPE, "members.list_many")
                .bindArray("orgs", UUID.class, (Object[]) orgs).bindArray("afterAts", String.class, (Object[]) afterAts)
                .bindArray("afterIds", UUID.class, (Object[]) afterIds).bindArray("fetches", Integer.class, (Object[]) fetches)
                .map(MEMBERSHIP)
                .forEach(row -> pages.get(row.ord() - 1).add(row.membership()));
        return pages;
    }

    Optional<Member> member(Handle h, UUID org, UUID user) {
        return h.createQuery("""
                        SELECT m.user_id, u.email, u.name, m.role, m.created_at
                        FROM organization_members m JOIN users u ON u.id = m.user_id
                        WHERE m.organization_id = :org AND m.user_id = :user""")
                .define(Database.QUERY_TYPE, "members.get")
                .bind("org", org).bind("user", user).map(MEMBER).findOne();
    }

    /**
     * Locks the organization's owner rows and counts them. Concurrent demotions or removals of
     * owners serialize on these locks, and a waiter re-checks the rows it gets, so two requests
     * cannot each remove "the other" owner.
     */
    int lockOwners(Handle h, UUID org) {
        return h.createQuery("""
                        SELECT user_id FROM organization_members
                        WHERE organization_id = :org AND role = 'owner' FOR UPDATE""")
                .define(Database.QUERY_TYPE, "members.lock_owners")
                .bind("org", org).mapTo(UUID.class).list().size();
    }

    void setRole(Handle h, UUID org, UUID user, Role role) {
        h.createUpdate("UPDATE organization_members SET role = :role WHERE organization_id = :org AND user_id = :user")
                .define(Database.QUERY_TYPE, "members.update")
                .bind("org", org).bind("user", user).bind("role", role.wire()).execute();
    }

    void removeMember(Handle h, UUID org, UUID user) {
        h.createUpdate("DELETE FROM organization_members WHERE organization_id = :org AND user_id = :user")
                .define(Database.QUERY_TYPE, "members.delete")
                .bind("org", org).bind("user", user).execute();
    }
}
