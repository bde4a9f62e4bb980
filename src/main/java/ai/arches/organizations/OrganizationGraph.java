package ai.arches.organizations;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

import ai.arches.auth.Guard;
import ai.arches.auth.Role;
import ai.arches.common.Page;
import ai.arches.graphql.Fields;
import ai.arches.graphql.SchemaPiece;

import org.dataloader.DataLoader;
import org.dataloader.DataLoaderFactory;

/**
 * The organizations feature's part of the GraphQL schema: {@code organizations},
 * {@code organization(ref)} and the {@code Organization} type, whose source is the caller's
 * {@link Access} (other features extend the type and resolve on it), and its members.
 *
 * <p>Members are batched: every {@code members} field of a request waits in one data loader,
 * which reads all their pages, with the members' accounts, in one statement.
 */
public final class OrganizationGraph {
    static final String MEMBERS = "organizations.members";

    private static final String SDL = """
            "Organization roles, ranked: OWNER > ADMIN > MEMBER > VIEWER."
            enum Role { VIEWER MEMBER ADMIN OWNER }

            "An organization the caller belongs to. Its fields need the role REST needs for the same data."
            type Organization {
              id: ID!
              name: String!
              slug: String!
              "The caller's role here."
              role: Role!
              createdAt: DateTime!
              updatedAt: DateTime!
              "Members, most recently joined first; limit 1-100."
              members(limit: Int = 20, cursor: String): MemberPage
            }

            type OrganizationPage {
              data: [Organization!]!
              "Pass as cursor for the next page; null on the last."
              nextCursor: String
            }

            type Member {
              role: Role!
              joinedAt: DateTime!
              user: User!
            }

            type MemberPage {
              data: [Member!]!
              nextCursor: String
            }

            extend type Query {
              "The caller's organizations, newest first (an API key: its own); limit 1-100."
              organizations(limit: Int = 20, cursor: String): OrganizationPage
              "One organization by id or slug; not found unless the caller is a member."
              organization(ref: String!): Organization
            }
            """;

    private OrganizationGraph() {}

    public static SchemaPiece piece(Organizations orgs, OrgGuard orgGuard) {
        Supplier<DataLoader<?, ?>> members = () -> DataLoaderFactory.<Organizations.MembersOf, Page<Membership>>newDataLoader(
                keys -> CompletableFuture.completedFuture(orgs.memberPages(keys)));
        return new SchemaPiece(SDL, wiring -> wiring
                .type("Query", t -> t
                        .dataFetcher("organizations", env -> orgs.accessible(Guard.caller(env), Fields.limit(env),
                                env.getArgument("cursor")))
                        .dataFetcher("organization", env -> orgGuard.at(Role.VIEWER, env, env.getArgument("ref"))))
                .type("Organization", t -> t
                        .dataFetcher("id", env -> OrgGuard.of(env, Role.VIEWER).organization().id())
                        .dataFetcher("name", env -> OrgGuard.of(env, Role.VIEWER).organization().name())
                        .dataFetcher("slug", env -> OrgGuard.of(env, Role.VIEWER).organization().slug())
                        .dataFetcher("role", env -> OrgGuard.of(env, Role.VIEWER).role())
                        .dataFetcher("createdAt", env -> OrgGuard.of(env, Role.VIEWER).organization().createdAt())
                        .dataFetcher("updatedAt", env -> OrgGuard.of(env, Role.VIEWER).organization().updatedAt())
                        .dataFetcher("members", env -> {
                            Access access = OrgGuard.of(env, Role.VIEWER);
                            var page = orgs.membersPage(access, Fields.limit(env), env.getArgument("cursor"));
                            DataLoader<Organizations.MembersOf, Page<Membership>> loader = env.getDataLoader(MEMBERS);
                            return loader.load(new Organizations.MembersOf(access, page));
                        }))
                .type("Role", t -> t.enumValues(Role::valueOf)),
                Map.of(MEMBERS, members));
    }
}
