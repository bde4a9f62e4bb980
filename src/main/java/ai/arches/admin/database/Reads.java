package ai.arches.admin.database;

import java.sql.SQLException;
import java.time.Duration;

import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.HandleCallback;

/**
 * How the reports read: a read-only transaction under a statement timeout far below the
 * platform's own, so a report on a struggling database gives up quickly instead of holding one
 * of the requests' connections for the length of a slow catalog scan.
 */
final class Reads {
    static final Duration TIMEOUT = Duration.ofSeconds(5);

    private Reads() {}

    static <R> R readOnly(Handle h, HandleCallback<R, RuntimeException> callback) {
        return h.inTransaction(tx -> {
            tx.execute("SET TRANSACTION READ ONLY");
            tx.execute("SET LOCAL statement_timeout = " + TIMEOUT.toMillis());
            return callback.withHandle(tx);
        });
    }

    /** The SQLSTATE of the first SQLException in the chain, or null. */
    static SQLException sqlException(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException s) {
                return s;
            }
        }
        return null;
    }

    /** "SQLSTATE: message" of a failed statement, without the SQL or its arguments. */
    static String describe(Throwable e) {
        SQLException s = sqlException(e);
        if (s == null) {
            return e.getClass().getSimpleName();
        }
        String msg = s.getMessage() == null ? "" : s.getMessage().lines().findFirst().orElse("");
        return s.getSQLState() + ": " + msg.replaceFirst("^ERROR: ", "");
    }
}
