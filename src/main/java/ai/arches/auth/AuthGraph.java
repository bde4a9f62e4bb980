package ai.arches.auth;

import ai.arches.common.ForbiddenException;
import ai.arches.graphql.SchemaPiece;

/** The auth feature's part of the GraphQL schema: {@code me} and the {@code User} type. */
public final class AuthGraph {
    private static final String SDL = """
            "A user account (never its password)."
            type User {
              id: ID!
              email: String!
              name: String!
              createdAt: DateTime!
              updatedAt: DateTime!
            }

            extend type Query {
              "The signed-in user. An API key is no user: it gets a forbidden error, as GET /users/me answers it."
              me: User
            }
            """;

    private AuthGraph() {}

    public static SchemaPiece piece(Auth auth) {
        return new SchemaPiece(SDL, wiring -> wiring.type("Query", t -> t.dataFetcher("me", env -> switch (Guard.caller(env)) {
            case Principal.User u -> auth.user(u.userId());
            case Principal.ApiKey k -> throw new ForbiddenException("me needs a user's access token, not an API key");
        })));
    }
}
