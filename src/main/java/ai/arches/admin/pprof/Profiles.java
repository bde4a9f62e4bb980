package ai.arches.admin.pprof;

import ai.arches.config.ArchesConfig;
import ai.arches.http.ApiRouter;
import ai.arches.http.JsonIo;

/** Profiles of this JVM in Go's pprof formats, on the admin listener. (Skeleton: routes to come.) */
public final class Profiles implements AutoCloseable {
    private final ArchesConfig.Profiling cfg;

    public Profiles(ArchesConfig.Profiling cfg) {
        this.cfg = cfg;
    }

    public void register(ApiRouter router, JsonIo io) {
    }

    @Override
    public void close() {
    }
}
