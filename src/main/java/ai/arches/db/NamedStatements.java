package ai.arches.db;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import org.jdbi.v3.core.argument.Argument;
import org.jdbi.v3.core.statement.Binding;
import org.jdbi.v3.core.statement.ParsedParameters;
import org.jdbi.v3.core.statement.ParsedSql;
import org.jdbi.v3.core.statement.StatementContext;

/**
 * The SQL of each named statement a pool ran (as sent to the driver, {@code ?} for parameters)
 * and the arguments of a recent execution of it. pg_stat_statements knows statements only by
 * their normalized text; this lets a report put the code's names on that text and EXPLAIN each
 * statement with arguments a real request used.
 *
 * <p>Fed after every named statement, so the usual call is a map lookup and a reference compare
 * (JDBI caches parsed SQL, so the same text arrives as the same String). A name keeps at most
 * {@value #MAX_VARIANTS} texts (statements built with optional clauses have a few), and each
 * text's arguments are copied at most once per {@link #SAMPLE_INTERVAL_NANOS}. Concurrent
 * executions only race over whose arguments are kept. The arguments are tenant values: they stay
 * in memory, for the admin listener's EXPLAIN, and are never logged or returned.
 */
public final class NamedStatements {
    static final int MAX_VARIANTS = 4;
    private static final int MAX_NAMES = 1000;
    private static final long SAMPLE_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

    /**
     * One text of a named statement. {@code arguments}: of a recent execution, in parameter
     * order; empty when none could be kept (a batch binds its rows apart from the statement).
     * {@code argumentsAgeNanos}: how long ago they were bound; -1 without arguments.
     */
    public record Sample(String name, String sql, Optional<List<Argument>> arguments, long argumentsAgeNanos) {}

    private final ConcurrentHashMap<String, Variant[]> byName = new ConcurrentHashMap<>();

    /** Every text of every name seen so far. */
    public List<Sample> samples() {
        List<Sample> out = new ArrayList<>();
        long now = System.nanoTime();
        byName.forEach((name, variants) -> {
            for (Variant v : variants) {
                if (v != null) {
                    Captured c = v.captured;
                    out.add(new Sample(name, v.sql, Optional.ofNullable(c.arguments()),
                            c.arguments() == null ? -1 : now - c.at()));
                }
            }
        });
        return Collections.unmodifiableList(out);
    }

    void ran(String name, StatementContext ctx) {
        ParsedSql parsed = ctx.getParsedSql();
        if (parsed == null) {
            return;
        }
        Variant[] variants = byName.get(name);
        if (variants == null) {
            if (byName.size() >= MAX_NAMES) {
                return;
            }
            variants = byName.computeIfAbsent(name, n -> new Variant[MAX_VARIANTS]);
        }
        Variant v = variant(variants, parsed.getSql());
        if (v == null) {
            return;
        }
        long now = System.nanoTime();
        if (now - v.lastAttempt < SAMPLE_INTERVAL_NANOS) {
            return;
        }
        v.lastAttempt = now;
        List<Argument> args = arguments(ctx, parsed.getParameters());
        if (args != null) {
            v.captured = new Captured(args, now);
        }
    }

    private static Variant variant(Variant[] variants, String sql) {
        for (int i = 0; i < variants.length; i++) {
            Variant v = variants[i];
            if (v == null) {
                synchronized (variants) {
                    if (variants[i] == null) {
                        variants[i] = new Variant(sql);
                    }
                    v = variants[i];
                }
            }
            if (v.sql == sql || v.sql.equals(sql)) {
                return v;
            }
        }
        return null;
    }

    /**
     * The bound arguments in parameter order, or null when some are not there to copy. Binding's
     * lookups are marked for removal (since JDBI 3.11, still in 3.55) and are the only public way to
     * read a statement's arguments; should they go, the build breaks here, not at run time.
     */
    @SuppressWarnings("removal")
    private static List<Argument> arguments(StatementContext ctx, ParsedParameters params) {
        try {
            Binding binding = ctx.getBinding();
            int n = params.getParameterCount();
            if (n > 0 && binding.isEmpty()) {
                return null;
            }
            List<Argument> out = new ArrayList<>(n);
            if (params.isPositional()) {
                for (int i = 0; i < n; i++) {
                    Optional<Argument> a = binding.findForPosition(i);
                    if (a.isEmpty()) {
                        return null;
                    }
                    out.add(a.get());
                }
            } else {
                for (String param : params.getParameterNames()) {
                    Optional<Argument> a = binding.findForName(param, ctx);
                    if (a.isEmpty()) {
                        return null;
                    }
                    out.add(a.get());
                }
            }
            return List.copyOf(out);
        } catch (RuntimeException e) {
            // A report's convenience must never fail the statement that fed it.
            return null;
        }
    }

    private record Captured(List<Argument> arguments, long at) {}

    private static final class Variant {
        final String sql;
        volatile Captured captured = new Captured(null, 0);
        volatile long lastAttempt;

        Variant(String sql) {
            this.sql = sql;
            this.lastAttempt = System.nanoTime() - SAMPLE_INTERVAL_NANOS;
        }
    }
}
