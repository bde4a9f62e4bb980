package ai.arches.admin.database;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import ai.arches.common.FieldError;
import ai.arches.common.InvalidInputException;
import ai.arches.config.ArchesConfig;
import ai.arches.db.Database;
import ai.arches.db.NamedStatements;
import ai.arches.http.ApiRouter;
import ai.arches.http.JsonIo;

import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;

/**
 * Statement, health and tuning reports of the database, on the admin listener:
 * {@code GET /debug/queries}, {@code /debug/database/health} and {@code /debug/database/advice}.
 * Each runs on the requests' pool, through its gate, as one more request would.
 */
public final class DatabaseReports {
    static final int MAX_NODES = 1000;

    private final StatementReport statements;
    private final HealthReport health;
    private final SettingsAdvice advice;

    /**
     * {@code otherPools}: pools whose named statements the statement report should recognize too
     * (the workflow executor's); its queries and plans still run on {@code db}.
     */
    public DatabaseReports(Database db, ArchesConfig cfg, Database... otherPools) {
        List<NamedStatements> registries = new ArrayList<>();
        registries.add(db.statements());
        for (Database other : otherPools) {
            registries.add(other.statements());
        }
        this.statements = new StatementReport(db, registries);
        this.health = new HealthReport(db, new Health.NodeConnections(cfg.database().pool().maxConnections(),
                cfg.workflows().poolConnections(), 1,
                cfg.database().pool().maxConnections() + cfg.workflows().poolConnections() + 1));
        this.advice = new SettingsAdvice(db, cfg);
    }

    public void register(ApiRouter router, JsonIo io) {
        router.get("/debug/queries", (req, res) -> io.send(req, res, Status.OK_200,
                statements.report(integer(req, "limit", 20, 1, 500), planScope(req), bool(req, "utility"))));
        router.get("/debug/database/health", (req, res) -> io.send(req, res, Status.OK_200,
                health.report(integer(req, "longTransactionSeconds", 60, 1, 86_400))));
        router.get("/debug/database/advice", (req, res) -> io.send(req, res, Status.OK_200,
                advice.advise(integer(req, "nodes", 1, 1, MAX_NODES))));
    }

    private static StatementReport.PlanScope planScope(ServerRequest req) {
        String v = req.query().first("plans").orElse("top");
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "top" -> StatementReport.PlanScope.TOP;
            case "all" -> StatementReport.PlanScope.ALL;
            case "none" -> StatementReport.PlanScope.NONE;
            default -> throw invalid("plans", "must be top, all or none");
        };
    }

    private static boolean bool(ServerRequest req, String name) {
        String v = req.query().first(name).orElse("false");
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw invalid(name, "must be true or false");
        };
    }

    static int integer(ServerRequest req, String name, int fallback, int min, int max) {
        String v = req.query().first(name).orElse(null);
        if (v == null) {
            return fallback;
        }
        try {
            int n = Integer.parseInt(v.strip());
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw invalid(name, "must be an integer from " + min + " to " + max);
    }

    private static InvalidInputException invalid(String name, String message) {
        return new InvalidInputException(name + " " + message, List.of(new FieldError(name, message)));
    }
}
