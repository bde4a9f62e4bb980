package ai.arches.graphql;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import ai.arches.config.ArchesConfig;

import org.junit.jupiter.api.Test;

/** The engine's validation limits on a schema with a cycle, which the platform's schema has not. */
class GraphqlEngineTest {
    private static final SchemaPiece CHAIN = new SchemaPiece("""
            type Link { id: ID! next: Link }
            extend type Query { link: Link }
            extend type Mutation { noop: Boolean }
            """, wiring -> wiring
            .type("Query", t -> t.dataFetcher("link", env -> Map.of("id", "1")))
            .type("Link", t -> t.dataFetcher("next", env -> Map.of("id", "n"))));

    private static Graphql.Response run(int maxDepth, String query) {
        Graphql engine = new Graphql(List.of(CHAIN), new ArchesConfig.Graphql(10_000, 1000, maxDepth, 1000, 10_000, 10));
        return engine.execute("caller", new Graphql.Request(query, null, Map.of(), Map.of()), false, "test");
    }

    private static String chain(int depth) {
        return "{ link " + "{ next ".repeat(depth - 2) + "{ id }" + " }".repeat(depth - 2) + " }";
    }

    @Test
    void a_selection_deeper_than_max_depth_is_refused_before_any_resolver_runs() {
        assertThat(run(5, chain(5)).body()).doesNotContainKey("errors");
        Graphql.Response deep = run(5, chain(6));
        assertThat(deep.requestError()).isTrue();
        @SuppressWarnings("unchecked")
        var error = ((List<Map<String, Object>>) deep.body().get("errors")).getFirst();
        assertThat(error.get("message").toString()).contains("depth");
        @SuppressWarnings("unchecked")
        var ext = (Map<String, Object>) error.get("extensions");
        assertThat(ext).containsEntry("classification", "ValidationError").containsEntry("status", 400)
                .containsEntry("type", "urn:arches:problem:invalid-request");
    }
}
