package ai.arches.workflows;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import ai.arches.common.FieldError;
import ai.arches.common.UnprocessableException;

/**
 * The domain rules of a well-formed {@link Definition} (422 when broken): node ids are unique,
 * every edge joins two existing nodes, no edge repeats, and the graph has no cycle. All problems
 * are collected and reported together; a cycle is reported once, with one concrete path.
 */
final class Dag {
    private Dag() {}

    static void check(Definition d) {
        fail(problems(d));
    }

    /** 422 with the problems, if there are any. */
    static void fail(List<FieldError> problems) {
        fail("is not a valid DAG", problems);
    }

    static void fail(String what, List<FieldError> problems) {
        if (!problems.isEmpty()) {
            throw new UnprocessableException(problems.size() == 1
                    ? "the workflow definition " + what + ": " + problems.getFirst().message()
                    : "the workflow definition " + what + " (" + problems.size() + " problems)", problems);
        }
    }

    static List<FieldError> problems(Definition d) {
        List<FieldError> problems = new ArrayList<>();
        Map<String, Integer> index = new HashMap<>();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < d.nodes().size(); i++) {
            String id = d.nodes().get(i).id();
            if (index.putIfAbsent(id, ids.size()) == null) {
                ids.add(id);
            } else {
                problems.add(new FieldError("definition.nodes[" + i + "].id", "duplicate node id '" + id + "'"));
            }
        }
        List<List<Integer>> out = new ArrayList<>(ids.size());
        for (int i = 0; i < ids.size(); i++) {
            out.add(new ArrayList<>());
        }
        Set<Edge> seen = new HashSet<>();
        for (int i = 0; i < d.edges().size(); i++) {
            Edge e = d.edges().get(i);
            String at = "definition.edges[" + i + "]";
            Integer from = index.get(e.from());
            Integer to = index.get(e.to());
            if (from == null) {
                problems.add(new FieldError(at + ".from", "no node with id '" + e.from() + "'"));
            }
            if (to == null) {
                problems.add(new FieldError(at + ".to", "no node with id '" + e.to() + "'"));
            }
            if (!seen.add(e)) {
                problems.add(new FieldError(at, "duplicate edge " + e.from() + " -> " + e.to()));
            } else if (from != null && to != null) {
                out.get(from).add(to);
            }
        }
        findCycle(out).ifPresent(cycle -> problems.add(new FieldError("definition.edges",
                "cycle: " + String.join(" -> ", cycle.stream().map(ids::get).toList()))));
        return problems;
    }

    /** Every node's transitive predecessors (the nodes that finish before it starts); the graph must be a DAG. */
    static Map<String, Set<String>> ancestors(Definition d) {
        Map<String, List<String>> pred = new HashMap<>();
        d.nodes().forEach(n -> pred.put(n.id(), new ArrayList<>()));
        d.edges().forEach(e -> pred.get(e.to()).add(e.from()));
        Map<String, Set<String>> out = new HashMap<>();
        for (Node n : d.nodes()) {
            Set<String> seen = new HashSet<>();
            Deque<String> todo = new ArrayDeque<>(pred.get(n.id()));
            while (!todo.isEmpty()) {
                String p = todo.pop();
                if (seen.add(p)) {
                    todo.addAll(pred.get(p));
                }
            }
            out.put(n.id(), seen);
        }
        return out;
    }

    /**
     * One cycle as a closed path of node indexes (first == last), or empty. Iterative DFS in
     * declaration order, so the answer is stable and deep chains cannot overflow the stack: a
     * node still on the path (grey) reached again closes a cycle.
     */
    static Optional<List<Integer>> findCycle(List<List<Integer>> out) {
        final byte white = 0, grey = 1, black = 2;
        byte[] colour = new byte[out.size()];
        int[] next = new int[out.size()];
        Deque<Integer> path = new ArrayDeque<>();
        for (int start = 0; start < out.size(); start++) {
            if (colour[start] != white) {
                continue;
            }
            colour[start] = grey;
            path.addLast(start);
            while (!path.isEmpty()) {
                int v = path.peekLast();
                if (next[v] < out.get(v).size()) {
                    int w = out.get(v).get(next[v]++);
                    if (colour[w] == grey) {
                        List<Integer> onPath = new ArrayList<>(path);
                        List<Integer> cycle = new ArrayList<>(onPath.subList(onPath.indexOf(w), onPath.size()));
                        cycle.add(w);
                        return Optional.of(cycle);
                    }
                    if (colour[w] == white) {
                        colour[w] = grey;
                        path.addLast(w);
                    }
                } else {
                    colour[v] = black;
                    path.removeLast();
                }
            }
        }
        return Optional.empty();
    }
}
