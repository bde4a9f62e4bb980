package ai.arches.admin;

import java.util.List;

import ai.arches.admin.database.DatabaseReports;
import ai.arches.admin.pprof.Profiles;
import ai.arches.config.ArchesConfig;
import ai.arches.http.ApiRouter;
import ai.arches.http.BearerToken;
import ai.arches.http.JsonIo;
import ai.arches.http.Problems;

import io.helidon.webserver.http.HttpRouting;

/**
 * The routing of the operators' listener ({@code admin.host}:{@code admin.port}): profiles in
 * Go's pprof formats, thread dumps, statement and database reports. It is a separate socket of
 * the same server, so none of it is reachable on the API port, and every request on it needs
 * {@code admin.token} when one is set. {@code routes} lists every (method, template) registered,
 * so tests check the whole listener rather than a copy of its paths.
 */
public record AdminRoutes(HttpRouting.Builder routing, List<ApiRouter.Route> routes) {

    public static AdminRoutes of(ArchesConfig.Admin cfg, JsonIo io, Profiles profiles, DatabaseReports reports) {
        HttpRouting.Builder routing = HttpRouting.builder();
        BearerToken token = new BearerToken(cfg.token(), "admin.token");
        routing.addFilter((chain, req, res) -> {
            token.check(req);
            chain.proceed();
        });
        ApiRouter router = new ApiRouter(routing);
        profiles.register(router, io);
        reports.register(router, io);
        Problems.register(routing, io, router);
        return new AdminRoutes(routing, router.routes());
    }
}
