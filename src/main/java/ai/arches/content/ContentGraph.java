package ai.arches.content;

import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import ai.arches.auth.Role;
import ai.arches.common.Ids;
import ai.arches.graphql.Fields;
import ai.arches.graphql.SchemaPiece;
import ai.arches.http.Input;
import ai.arches.http.Json;
import ai.arches.organizations.Access;
import ai.arches.organizations.OrgGuard;

import com.fasterxml.jackson.databind.node.ObjectNode;
import graphql.schema.DataFetchingEnvironment;

/**
 * The content feature's part of the GraphQL schema: an organization's documents, one document,
 * search, and the mutations that create, change and delete documents. Inputs are checked by the
 * same code as REST bodies (field errors name the same fields); roles are REST's: viewers read,
 * members and above write.
 */
public final class ContentGraph {
    private static final String SDL = """
            enum EmbeddingStatus { PENDING PROCESSING READY FAILED }

            "A document. Its embedding vector is never shown, only the status of its embedding."
            type Content {
              id: ID!
              organizationId: ID!
              title: String!
              body: String!
              type: String!
              mimeType: String!
              tags: [String!]!
              metadata: JSON!
              embeddingStatus: EmbeddingStatus!
              "The user who created it; null when an API key did."
              createdBy: ID
              createdAt: DateTime!
              updatedAt: DateTime!
            }

            "A document in a list: the first 280 characters of its body and the body's length; body only when selected."
            type ContentSummary {
              id: ID!
              organizationId: ID!
              title: String!
              excerpt: String!
              bodyLength: Int!
              body: String
              type: String!
              mimeType: String!
              tags: [String!]!
              metadata: JSON!
              embeddingStatus: EmbeddingStatus!
              createdBy: ID
              createdAt: DateTime!
              updatedAt: DateTime!
            }

            "A page of documents; it also ends at server.max_page_bytes, so it may hold fewer than limit."
            type ContentPage {
              data: [ContentSummary!]!
              nextCursor: String
            }

            enum SearchMode { SEMANTIC KEYWORD HYBRID }

            "One search result: the document's fields (never its body) and the passage that matched best."
            type SearchHit {
              id: ID!
              organizationId: ID!
              title: String!
              snippet: String
              score: Float!
              semanticScore: Float
              keywordScore: Float
              type: String!
              mimeType: String!
              tags: [String!]!
              metadata: JSON!
              embeddingStatus: EmbeddingStatus!
              createdBy: ID
              createdAt: DateTime!
              updatedAt: DateTime!
            }

            type SearchResults {
              data: [SearchHit!]!
              mode: SearchMode!
              tookMs: Int!
              "Lower-ranked hits were left out to stay within server.max_page_bytes."
              truncated: Boolean!
            }

            extend type Organization {
              "Documents, newest first; with tag, only those carrying it. limit 1-100."
              content(limit: Int = 20, cursor: String, tag: String): ContentPage
              "One document; not found unless it is this organization's."
              document(id: ID!): Content
              "Ranked search over the documents (as POST .../content/search); limit 1-100."
              search(query: String!, mode: SearchMode = HYBRID, limit: Int = 10): SearchResults @cost(weight: 10)
            }

            input CreateContentInput {
              title: String!
              body: String!
              "Default document."
              type: String
              "Default text/plain."
              mimeType: String
              tags: [String!]
              "A JSON object."
              metadata: JSON
            }

            "Fields given replace the stored ones; at least one."
            input UpdateContentInput {
              title: String
              body: String
              type: String
              mimeType: String
              tags: [String!]
              metadata: JSON
            }

            extend type Mutation {
              "A new document in the organization (id or slug); member or above."
              createContent(org: String!, input: CreateContentInput!): Content
              "Changes a document; member or above."
              updateContent(org: String!, id: ID!, input: UpdateContentInput!): Content
              "Deletes a document; member or above. True when it was deleted."
              deleteContent(org: String!, id: ID!): Boolean
            }
            """;

    private ContentGraph() {}

    public static SchemaPiece piece(Contents contents, Search search, OrgGuard orgGuard) {
        return new SchemaPiece(SDL, wiring -> wiring
                .type("Organization", t -> t
                        .dataFetcher("content", env -> {
                            Access access = OrgGuard.of(env, Role.VIEWER);
                            Optional<String> tag = Optional.ofNullable(env.<String>getArgument("tag"))
                                    .map(ContentRoutes::tag);
                            // Whole bodies only when selected, as REST sends them only for fields=body.
                            boolean withBody = env.getSelectionSet().contains("data/body");
                            return contents.list(access, tag, withBody, Fields.limit(env), env.getArgument("cursor"));
                        })
                        .dataFetcher("document", env -> contents.get(OrgGuard.of(env, Role.VIEWER), id(env)))
                        .dataFetcher("search", env -> {
                            Access access = OrgGuard.of(env, Role.VIEWER);
                            ObjectNode body = Json.MAPPER.createObjectNode();
                            body.put("query", env.<String>getArgument("query"));
                            SearchRequest.Mode mode = env.getArgument("mode");
                            if (mode != null) {
                                body.put("mode", mode.wire());
                            }
                            if (env.getArgument("limit") != null) {
                                body.put("limit", env.<Integer>getArgument("limit"));
                            }
                            return search.search(access, SearchRoutes.parse(new Input(body)));
                        }))
                .type("Mutation", t -> t
                        .dataFetcher("createContent", env -> contents.create(
                                orgGuard.at(Role.MEMBER, env, env.getArgument("org")),
                                ContentRoutes.draft(input(env))))
                        .dataFetcher("updateContent", env -> {
                            Access access = orgGuard.at(Role.MEMBER, env, env.getArgument("org"));
                            return contents.update(access, id(env), ContentRoutes.changes(input(env)));
                        })
                        .dataFetcher("deleteContent", env -> {
                            contents.delete(orgGuard.at(Role.MEMBER, env, env.getArgument("org")), id(env));
                            return true;
                        }))
                .type("Content", t -> t.dataFetcher("embeddingStatus", Fields.upperCase("embeddingStatus")))
                .type("ContentSummary", t -> t.dataFetcher("embeddingStatus", Fields.upperCase("embeddingStatus")))
                .type("SearchHit", t -> t.dataFetcher("embeddingStatus", Fields.upperCase("embeddingStatus")))
                .type("SearchResults", t -> t.dataFetcher("mode", Fields.enumOf(SearchRequest.Mode.class, "mode")))
                .type("SearchMode", t -> t.enumValues(name -> SearchRequest.Mode.valueOf(name.toUpperCase(Locale.ROOT)))),
                Map.of());
    }

    /** The mutation's input object as the JSON body REST would read, so the same checks apply. */
    private static Input input(DataFetchingEnvironment env) {
        return new Input(Json.MAPPER.valueToTree(env.getArgument("input")));
    }

    private static UUID id(DataFetchingEnvironment env) {
        return Ids.parse(env.<String>getArgument("id")).orElseThrow(Contents::notFound);
    }
}
