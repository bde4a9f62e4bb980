package ai.arches.workflows;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A run's definition read for execution: nodes by id in declaration order, with their
 * predecessors and successors. Built once per run (the definition never changes under it).
 */
record RunGraph(Map<String, Node> nodes, Map<String, List<String>> predecessors,
                Map<String, List<String>> successors) {

    static RunGraph of(Definition d) {
        Map<String, Node> nodes = new LinkedHashMap<>();
        Map<String, List<String>> pred = new LinkedHashMap<>();
        Map<String, List<String>> succ = new LinkedHashMap<>();
        for (Node n : d.nodes()) {
            nodes.put(n.id(), n);
            pred.put(n.id(), new ArrayList<>());
            succ.put(n.id(), new ArrayList<>());
        }
        for (Edge e : d.edges()) {
            succ.get(e.from()).add(e.to());
            pred.get(e.to()).add(e.from());
        }
        pred.replaceAll((k, v) -> List.copyOf(v));
        succ.replaceAll((k, v) -> List.copyOf(v));
        return new RunGraph(nodes, pred, succ);
    }

    /** Nodes nothing follows: their outputs make the run's output. */
    List<String> sinks() {
        return successors.entrySet().stream().filter(e -> e.getValue().isEmpty()).map(Map.Entry::getKey).toList();
    }

    /** The tool a node runs, or null for a structural node (any type but "tool"), which passes its input on. */
    String tool(String nodeId) {
        Node n = nodes.get(nodeId);
        return "tool".equals(n.type()) ? n.tool() : null;
    }
}
