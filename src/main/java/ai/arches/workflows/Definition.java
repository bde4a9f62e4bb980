package ai.arches.workflows;

import java.util.List;

/**
 * A workflow's graph as stored (jsonb) and shown. Shape is checked by {@link DefinitionParser}
 * when read from a request; that it is a DAG is checked by {@link Dag} before every write.
 */
public record Definition(List<Node> nodes, List<Edge> edges) {
    public Definition {
        nodes = List.copyOf(nodes);
        edges = edges == null ? List.of() : List.copyOf(edges);
    }
}
