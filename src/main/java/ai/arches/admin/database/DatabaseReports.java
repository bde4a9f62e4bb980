package ai.arches.admin.database;

import ai.arches.config.ArchesConfig;
import ai.arches.db.Database;
import ai.arches.http.ApiRouter;
import ai.arches.http.JsonIo;

/** Statement, health and tuning reports of the database, on the admin listener. (Skeleton: routes to come.) */
public final class DatabaseReports {
    private final Database db;
    private final ArchesConfig cfg;

    public DatabaseReports(Database db, ArchesConfig cfg) {
        this.db = db;
        this.cfg = cfg;
    }

    public void register(ApiRouter router, JsonIo io) {
    }
}
