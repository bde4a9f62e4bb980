package ai.arches.admin.database;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

import ai.arches.db.NamedStatements;
import ai.arches.http.Json;

import com.fasterxml.jackson.databind.JsonNode;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.argument.Argument;
import org.jdbi.v3.core.statement.Query;
import org.jdbi.v3.core.statement.TemplateEngine;

/**
 * EXPLAIN ANALYZE of named statements with the arguments of a recent real execution.
 *
 * <p>Every EXPLAIN runs in a transaction that is rolled back, reads and writes alike: a write is
 * executed for real (that is what ANALYZE does) and then undone, so its plan shows real rows,
 * timings and buffers. What a rollback does not undo: sequences advance, and the rows a write
 * touched are locked until the rollback, which {@code lock_timeout} keeps short. When ANALYZE
 * fails (an insert's captured key now exists, a lock is not granted in time) the planner's
 * estimate ({@code EXPLAIN} without ANALYZE, nothing executed) stands in, and the reply says so.
 * Plans may show the arguments' values in their conditions: they are tenant data, which is why
 * this is served on the admin listener only.
 */
final class Plans {
    static final String ANALYZE = "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ";
    static final String ESTIMATE = "EXPLAIN (FORMAT JSON) ";
    private static final Duration TIMEOUT = Duration.ofSeconds(3);
    private static final Duration LOCK_TIMEOUT = Duration.ofMillis(200);

    /**
     * {@code kind}: analyze (executed, rolled back), estimate (planned only), none (no plan,
     * {@code note} says why). {@code argumentsAgeSeconds}: how long ago a request bound them.
     */
    record Plan(String kind, boolean writes, JsonNode plan, String note, Double argumentsAgeSeconds) {}

    private Plans() {}

    static Plan explain(Handle h, NamedStatements.Sample s) {
        boolean writes = QueryText.writes(QueryText.normalize(s.sql()));
        Double age = s.argumentsAgeNanos() < 0 ? null : Math.round(s.argumentsAgeNanos() / 1e7) / 100.0;
        List<Argument> args = s.arguments().orElse(null);
        if (args == null) {
            return new Plan("none", writes, null, "no arguments were kept for it (a batch binds its rows "
                    + "apart from the statement)", null);
        }
        String analyzeError;
        try {
            return new Plan("analyze", writes, run(h, ANALYZE, s.sql(), args),
                    writes ? "executed inside a transaction that was rolled back" : null, age);
        } catch (RuntimeException e) {
            analyzeError = Reads.describe(e);
        }
        try {
            return new Plan("estimate", writes, run(h, ESTIMATE, s.sql(), args),
                    "EXPLAIN ANALYZE failed (" + analyzeError + "): the planner's estimate instead", age);
        } catch (RuntimeException e) {
            return new Plan("none", writes, null, "EXPLAIN failed: " + Reads.describe(e), age);
        }
    }

    private static JsonNode run(Handle h, String explain, String sql, List<Argument> args) {
        h.begin();
        try {
            h.execute("SET LOCAL statement_timeout = " + TIMEOUT.toMillis());
            h.execute("SET LOCAL lock_timeout = " + LOCK_TIMEOUT.toMillis());
            Query q = h.createQuery(explain + sql);
            // The text is already rendered: angle brackets in it are operators, not template slots.
            q.setTemplateEngine(TemplateEngine.NOP);
            for (int i = 0; i < args.size(); i++) {
                q.bind(i, args.get(i));
            }
            String json = q.mapTo(String.class).one();
            JsonNode root = Json.MAPPER.readTree(json);
            return root.isArray() && !root.isEmpty() ? root.get(0) : root;
        } catch (IOException e) {
            throw new IllegalStateException("EXPLAIN returned no JSON", e);
        } finally {
            h.rollback();
        }
    }
}
