package ai.arches.admin.database;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import ai.arches.config.ArchesConfig;
import ai.arches.db.Database;

/**
 * GET /debug/database/advice and {@code make advise}: {@link Tuning}'s settings for this host and
 * {@code nodes} nodes of this configuration, each beside the live value from pg_settings in the
 * same unit. Sizes match within 10% (they derive from RAM and are rounded); everything else must
 * be equal.
 */
final class SettingsAdvice {
    private static final Pattern MEMORY_UNIT = Pattern.compile("(\\d*)(B|kB|MB|GB|TB)");

    /**
     * {@code advised} and {@code current}: bytes for sizes, else the number or word;
     * {@code applies}: "restart" or "reload"; {@code pendingRestart}: changed, waiting for a restart.
     */
    record Setting(String name, Object advised, String advisedDisplay, Object current, String currentDisplay,
                   boolean matches, String applies, boolean pendingRestart, String reason) {}

    /** {@code alterSystem}: the statements that would apply the settings that do not match. */
    record Advice(HostFacts host, Tuning.Deployment deployment, List<Setting> settings, List<String> alterSystem,
                  List<String> notes) {}

    private record Live(String name, String setting, String unit, String context, boolean pendingRestart) {}

    private final Database db;
    private final ArchesConfig cfg;

    SettingsAdvice(Database db, ArchesConfig cfg) {
        this.db = db;
        this.cfg = cfg;
    }

    Advice advise(int nodes) {
        return db.withHandle(h -> Reads.readOnly(h, tx -> {
            Map<String, Live> live = new HashMap<>();
            tx.createQuery("SELECT name, setting, unit, context, pending_restart FROM pg_settings")
                    .map((rs, ctx) -> new Live(rs.getString("name"), rs.getString("setting"), rs.getString("unit"),
                            rs.getString("context"), rs.getBoolean("pending_restart")))
                    .forEach(l -> live.put(l.name(), l));
            // Hidden (absent from pg_settings) unless this role may read all settings.
            Live dataDirectory = live.get("data_directory");
            String server = tx.createQuery("SELECT host(inet_server_addr())").mapTo(String.class).one();
            HostFacts host = HostFacts.detect(dataDirectory == null ? null : dataDirectory.setting());
            Live reserved = live.get("superuser_reserved_connections");
            Tuning.Deployment deployment = Tuning.Deployment.of(nodes, cfg.database().pool().maxConnections(),
                    cfg.workflows().poolConnections(), reserved == null ? 3 : Integer.parseInt(reserved.setting()));
            List<Setting> settings = new ArrayList<>();
            List<String> alter = new ArrayList<>();
            for (Tuning.Advised a : Tuning.advise(host, deployment)) {
                Setting s = compare(a, live.get(a.name()));
                settings.add(s);
                if (!s.matches()) {
                    alter.add("ALTER SYSTEM SET " + a.name() + " = '" + s.advisedDisplay() + "';");
                }
            }
            List<String> notes = new ArrayList<>();
            notes.add("computed as PGTune (le0pard/pgtune) does for a web application on a host PostgreSQL has to "
                    + "itself; where the platform's nodes or other services share the machine, scale the sizes by "
                    + "PostgreSQL's share of its memory");
            boolean local = server == null || server.equals("127.0.0.1") || server.equals("::1");
            if (!local) {
                notes.add("PostgreSQL answered on " + server + ", which may be another machine: the host facts are "
                        + "those of the machine running this report");
            }
            if (!alter.isEmpty()) {
                notes.add("ALTER SYSTEM needs a superuser; then SELECT pg_reload_conf(), and a restart for the "
                        + "settings marked restart");
            }
            return new Advice(host, deployment, settings, alter, notes);
        }));
    }

    private static Setting compare(Tuning.Advised a, Live live) {
        String advisedDisplay = switch (a.kind()) {
            case BYTES -> Tuning.display((Long) a.value());
            case REAL -> trim((Double) a.value());
            default -> a.value().toString();
        };
        if (live == null) {
            return new Setting(a.name(), a.value(), advisedDisplay, null, null, false, null, false, a.reason());
        }
        Object current;
        String currentDisplay;
        boolean matches;
        switch (a.kind()) {
            case BYTES -> {
                long bytes = bytes(live);
                current = bytes;
                currentDisplay = Tuning.display(bytes);
                long advised = (Long) a.value();
                matches = Math.abs(bytes - advised) <= advised / 10;
            }
            case INTEGER -> {
                current = Long.parseLong(live.setting());
                currentDisplay = live.setting();
                matches = current.equals(a.value());
            }
            case REAL -> {
                double v = Double.parseDouble(live.setting());
                current = v;
                currentDisplay = trim(v);
                matches = Math.abs(v - (Double) a.value()) < 1e-9;
            }
            default -> {
                current = live.setting();
                currentDisplay = live.setting();
                matches = live.setting().equalsIgnoreCase(a.value().toString());
            }
        }
        String applies = live.context().equals("postmaster") ? "restart" : "reload";
        return new Setting(a.name(), a.value(), advisedDisplay, current, currentDisplay, matches, applies,
                live.pendingRestart(), a.reason());
    }

    /** pg_settings' {@code setting} in its {@code unit} (8kB, kB, MB...) as bytes. */
    static long bytes(String setting, String unit) {
        long n = Long.parseLong(setting);
        Matcher m = unit == null ? null : MEMORY_UNIT.matcher(unit);
        if (m == null || !m.matches()) {
            throw new IllegalStateException("not a size unit: " + unit);
        }
        long factor = m.group(1).isEmpty() ? 1 : Long.parseLong(m.group(1));
        long scale = switch (m.group(2)) {
            case "B" -> 1;
            case "kB" -> Tuning.KB;
            case "MB" -> Tuning.MB;
            case "GB" -> Tuning.GB;
            default -> 1024 * Tuning.GB;
        };
        return n * factor * scale;
    }

    private static long bytes(Live live) {
        return bytes(live.setting(), live.unit());
    }

    private static String trim(double v) {
        return v == Math.rint(v) ? String.format(Locale.ROOT, "%.0f", v) : Double.toString(v);
    }
}
