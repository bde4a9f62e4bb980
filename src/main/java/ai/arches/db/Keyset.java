package ai.arches.db;

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

    public static <S extends SqlStatement<S>> S bind(S statement, Cursors.PageRequest page) {
        page.after().ifPresent(p -> statement.bind("afterAt", p.createdAt()).bind("afterId", p.id()));
        return statement.bind("fetch", page.fetchSize());
    }
}
