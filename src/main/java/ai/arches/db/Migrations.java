package ai.arches.db;

import javax.sql.DataSource;

import org.flywaydb.core.Flyway;

/** Flyway over {@code classpath:db/migration}; the schema history says which ran. */
public final class Migrations {
    private Migrations() {}

    /** Applies pending migrations and returns how many ran. */
    public static int migrate(DataSource dataSource) {
        return Flyway.configure()
                .dataSource(dataSource)
                .locations("classpath:db/migration")
                .load()
                .migrate()
                .migrationsExecuted;
    }
}
