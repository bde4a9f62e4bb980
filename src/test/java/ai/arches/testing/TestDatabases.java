package ai.arches.testing;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

import ai.arches.db.Migrations;

import org.postgresql.ds.PGSimpleDataSource;

/**
 * Throw-away databases for tests. A template database is migrated once per set of migration
 * files (its name carries their hash), then each test class clones it with CREATE DATABASE ...
 * TEMPLATE, which takes milliseconds, and drops its clone when done. The superuser connection
 * (trust auth on this machine) creates databases and the pgvector extension; the application
 * role runs migrations and the server, as in production.
 */
public final class TestDatabases {
    public static final String HOST = env("ARCHES_TEST_PGHOST", "127.0.0.1");
    public static final String PORT = env("ARCHES_TEST_PGPORT", "5432");
    public static final String SUPERUSER = env("ARCHES_TEST_PGSUPERUSER", "postgres");
    public static final String APP_USER = env("ARCHES_TEST_DB_USER", "arches");

    private static String template;

    private TestDatabases() {}

    /** Creates a fresh, migrated database and returns its name. */
    public static String create() {
        String tpl = template();
        String name = "arches_t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
        admin("postgres", "CREATE DATABASE " + name + " TEMPLATE " + tpl + " OWNER " + APP_USER);
        return name;
    }

    /** Creates an empty database (no migrations, extension only). */
    public static String createEmpty() {
        String name = "arches_e_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
        admin("postgres", "CREATE DATABASE " + name + " OWNER " + APP_USER);
        admin(name, "CREATE EXTENSION IF NOT EXISTS vector");
        return name;
    }

    public static void drop(String name) {
        admin("postgres", "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    }

    public static String url(String database) {
        return "jdbc:postgresql://" + HOST + ":" + PORT + "/" + database;
    }

    /** A superuser connection to a database, for tests that inspect or break things. */
    public static Connection superuser(String database) throws SQLException {
        return DriverManager.getConnection(url(database), SUPERUSER, "");
    }

    private static synchronized String template() {
        if (template != null) {
            return template;
        }
        String name = "arches_tpl_" + migrationsHash();
        if (!exists(name)) {
            String tmp = "arches_tmp_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
            admin("postgres", "CREATE DATABASE " + tmp + " OWNER " + APP_USER);
            try {
                admin(tmp, "CREATE EXTENSION IF NOT EXISTS vector");
                PGSimpleDataSource ds = new PGSimpleDataSource();
                ds.setURL(url(tmp));
                ds.setUser(APP_USER);
                Migrations.migrate(ds);
                admin("postgres", "ALTER DATABASE " + tmp + " RENAME TO " + name);
            } catch (RuntimeException e) {
                if (!exists(name)) {
                    throw e;
                }
            } finally {
                admin("postgres", "DROP DATABASE IF EXISTS " + tmp + " WITH (FORCE)");
            }
        }
        dropStaleTemplates(name);
        template = name;
        return name;
    }

    /** Templates of older migration sets are no longer used by anyone: drop them (best effort). */
    private static void dropStaleTemplates(String current) {
        // Several checkouts with different migrations may test at once on one machine (parallel
        // work trees): ARCHES_TEST_KEEP_TEMPLATES leaves the others' templates alone.
        if (System.getenv("ARCHES_TEST_KEEP_TEMPLATES") != null) {
            return;
        }
        try (Connection c = superuser("postgres"); Statement s = c.createStatement();
             var rs = s.executeQuery("SELECT datname FROM pg_database WHERE datname LIKE 'arches\\_tpl\\_%' "
                     + "AND datname <> '" + current + "'")) {
            java.util.List<String> stale = new java.util.ArrayList<>();
            while (rs.next()) {
                stale.add(rs.getString(1));
            }
            for (String db : stale) {
                try (Statement d = c.createStatement()) {
                    d.execute("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
                } catch (SQLException e) {
                    // another run may be cloning it right now; it will be dropped next time
                }
            }
        } catch (SQLException e) {
            // cleanup only
        }
    }

    private static boolean exists(String name) {
        try (Connection c = superuser("postgres"); Statement s = c.createStatement();
             var rs = s.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + name + "'")) {
            return rs.next();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void admin(String database, String sql) {
        try (Connection c = superuser(database); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + ": " + e.getMessage(), e);
        }
    }

    private static String migrationsHash() {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            URL dir = TestDatabases.class.getResource("/db/migration");
            List<Path> files;
            try (Stream<Path> s = Files.list(Path.of(dir.toURI()))) {
                files = s.sorted().toList();
            }
            for (Path f : files) {
                md.update(f.getFileName().toString().getBytes());
                try (InputStream in = Files.newInputStream(f)) {
                    md.update(in.readAllBytes());
                }
            }
            return HexFormat.of().formatHex(md.digest()).substring(0, 12);
        } catch (IOException | URISyntaxException | java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String env(String name, String fallback) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? fallback : v;
    }
}
