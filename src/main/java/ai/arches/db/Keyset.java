package ai.arches.db;

import java.util.List;

import ai.arches.common.Cursors;

import org.jdbi.v3.core.statement.SqlStatement;

/**
 * The keyset condition for (created_at DESC, id DESC) pages. The first page gets no condition
 * at all, rather than an "IS NULL OR" that would keep a generic plan from using the index range.
 */
public final class Keyset {
    private Keyset() {}

    /** " AND (at, id) < (:afterAt, :afterId)" after the first page, else "". */
    public static String after(Cursors.PageRequest page, String atColumn, String idColumn) {
        return page.after().isPresent()
                ? " AND (" + atColumn + ", " + idColumn + ") < (:afterAt, :afterId)"
                : "";
    }

    /** Rows of a budgeted page query; {@code cut}: the budget stopped it before every fetched row. */
    public record Budgeted<T>(List<T> rows, boolean cut) {}

    /**
     * Wraps a page query (which must select an {@code est} column, its row's estimated JSON bytes)
     * so that rows past the byte budget {@code :budget} never leave PostgreSQL: a row is returned
     * only while the rows before it estimate under the budget, so large values of rows left out
     * are never sent (nor detoasted: the window holds toast pointers). {@code inner_rows} counts
     * the rows before the cut, so the caller knows whether the budget cut the page short.
     */
    public static String withinBudget(String select) {
        String order = "created_at DESC, id DESC";
        return "SELECT * FROM (SELECT s.*, sum(s.est) OVER (ORDER BY " + order
                + " ROWS UNBOUNDED PRECEDING) - s.est AS before_bytes, count(*) OVER () AS inner_rows FROM ("
                + select + ") s) t WHERE t.before_bytes < :budget ORDER BY " + order;
    }

    public static <S extends SqlStatement<S>> S bind(S statement, Cursors.PageRequest page) {
        page.after().ifPresent(p -> statement.bind("afterAt", p.createdAt()).bind("afterId", p.id()));
        return statement.bind("fetch", page.fetchSize());
    }
}
