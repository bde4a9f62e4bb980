package ai.arches.admin.database;

import java.util.Locale;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;

import ai.arches.config.ArchesConfig;
import ai.arches.config.ConfigException;
import ai.arches.config.ConfigLoader;
import ai.arches.db.Database;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

/**
 * {@code make advise [NODES=n]}: the tuning advice of GET /debug/database/advice as a table, for
 * the database and pool sizes {@code make run} would use (same arches.yaml and ARCHES_*
 * variables), without starting the server. One connection, no migrations, reads only.
 */
public final class Advise {
    private static final int WIDTH = 100;

    private Advise() {}

    public static void main(String[] args) {
        int nodes = 1;
        if (args.length > 0 && !args[0].isBlank()) {
            try {
                nodes = Integer.parseInt(args[0].strip());
            } catch (NumberFormatException e) {
                nodes = -1;
            }
            if (nodes < 1 || nodes > DatabaseReports.MAX_NODES) {
                System.err.println("arches advise: NODES must be an integer from 1 to " + DatabaseReports.MAX_NODES
                        + ", was " + args[0]);
                System.exit(2);
            }
        }
        ArchesConfig cfg;
        try {
            cfg = ConfigLoader.load();
        } catch (ConfigException e) {
            System.err.println("arches advise: invalid configuration: " + e.getMessage());
            System.exit(2);
            return;
        }
        LogManager.getLogManager().reset();
        Logger.getLogger("").setLevel(Level.WARNING);
        ArchesConfig.Database d = cfg.database();
        ArchesConfig.Pool p = d.pool();
        ArchesConfig.Database one = d.derived(d.url(), new ArchesConfig.Pool(1, 0, p.maxLifetime(), p.idleTimeout(), p.connectionTimeout()));
        try (Database db = Database.connect(one, "arches-advise", new SimpleMeterRegistry())) {
            System.out.print(render(new SettingsAdvice(db, cfg).advise(nodes)));
        } catch (RuntimeException e) {
            Throwable t = e;
            while (t.getCause() != null) {
                t = t.getCause();
            }
            System.err.println("arches advise: " + t.getClass().getSimpleName() + ": " + t.getMessage());
            System.exit(1);
        }
    }

    static String render(SettingsAdvice.Advice a) {
        StringBuilder out = new StringBuilder();
        HostFacts h = a.host();
        Tuning.Deployment d = a.deployment();
        out.append("Host: ").append(h.cores()).append(" cores, ").append(h.memory()).append(" RAM, ")
                .append(h.disk().toUpperCase(Locale.ROOT)).append('\n');
        wrap(out, "  disk: ", h.diskSource(), "        ");
        out.append(String.format(Locale.ROOT, "Deployment: %d node(s) × %d connections (%d requests + %d workflows + "
                        + "1 LISTEN) + %d headroom = %d%n%n", d.nodes(), d.perNode(), d.requestsPool(), d.workflowsPool(),
                d.headroom(), d.connections()));
        String row = "%-34s %-12s %-12s %-6s %s%n";
        out.append(String.format(Locale.ROOT, row, "SETTING", "ADVISED", "CURRENT", "MATCH", "APPLIES ON"));
        for (SettingsAdvice.Setting s : a.settings()) {
            out.append(String.format(Locale.ROOT, row, s.name(), s.advisedDisplay(),
                    s.currentDisplay() == null ? "?" : s.currentDisplay(), s.matches() ? "yes" : "NO",
                    s.applies() == null ? "" : s.applies() + (s.pendingRestart() ? " (pending)" : "")));
            wrap(out, "    ", s.reason(), "    ");
        }
        if (!a.alterSystem().isEmpty()) {
            out.append("\nTo apply (as a superuser):\n");
            a.alterSystem().forEach(sql -> out.append("  ").append(sql).append('\n'));
        }
        out.append('\n');
        for (String note : a.notes()) {
            wrap(out, "Note: ", note, "      ");
        }
        return out.toString();
    }

    /** {@code text} after {@code prefix}, its words wrapped at WIDTH onto lines starting with {@code indent}. */
    private static void wrap(StringBuilder out, String prefix, String text, String indent) {
        StringBuilder line = new StringBuilder(prefix);
        boolean empty = true;
        for (String word : text.strip().split("\\s+")) {
            if (!empty && line.length() + 1 + word.length() > WIDTH) {
                out.append(line).append('\n');
                line = new StringBuilder(indent);
                empty = true;
            }
            if (!empty) {
                line.append(' ');
            }
            line.append(word);
            empty = false;
        }
        out.append(line).append('\n');
    }
}
