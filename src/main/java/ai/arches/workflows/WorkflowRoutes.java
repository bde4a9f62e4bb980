package ai.arches.workflows;

import java.util.List;
import java.util.Optional;
import java.util.UUID;

import ai.arches.auth.Role;
import ai.arches.common.FieldError;
import ai.arches.common.Ids;
import ai.arches.common.InvalidInputException;
import ai.arches.http.ApiRouter;
import ai.arches.http.Input;
import ai.arches.http.JsonIo;
import ai.arches.organizations.Access;
import ai.arches.organizations.OrgGuard;

import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/** /organizations/{org}/workflows: create, list (by status), read, update and delete definitions. */
public final class WorkflowRoutes {
    private static final int MAX_NAME = 200;
    private static final int MAX_DESCRIPTION = 2000;

    private final Workflows workflows;
    private final OrgGuard orgGuard;
    private final JsonIo io;

    public WorkflowRoutes(Workflows workflows, OrgGuard orgGuard, JsonIo io) {
        this.workflows = workflows;
        this.orgGuard = orgGuard;
        this.io = io;
    }

    public void register(ApiRouter r, String base) {
        String list = base + "/organizations/{org}/workflows";
        r.post(list, orgGuard.at(Role.MEMBER, this::create));
        r.get(list, orgGuard.at(Role.VIEWER, this::list));
        r.get(list + "/{id}", orgGuard.at(Role.VIEWER, this::get));
        r.patch(list + "/{id}", orgGuard.at(Role.MEMBER, this::update));
        r.delete(list + "/{id}", orgGuard.at(Role.MEMBER, this::delete));
    }

    private void create(Access access, ServerRequest req, ServerResponse res) {
        Workflow w = create(workflows, access, io.readInput(req));
        res.header(HeaderNames.LOCATION, "/api/v1/organizations/" + w.organizationId() + "/workflows/" + w.id());
        io.send(req, res, Status.CREATED_201, w, Workflow.FIELDS);
    }

    /** Checks a new workflow's fields (400 with every problem), then creates it; GraphQL's createWorkflow too. */
    static Workflow create(Workflows workflows, Access access, Input in) {
        String name = in.requiredString("name", 1, MAX_NAME);
        String description = in.optionalString("description", 0, MAX_DESCRIPTION).orElse("");
        Optional<Definition> definition = DefinitionParser.required(in, "definition");
        in.validate();
        return workflows.create(access, name, description, definition.orElseThrow());
    }

    private void list(Access access, ServerRequest req, ServerResponse res) {
        Optional<WorkflowStatus> status = req.query().first("status").asOptional().map(WorkflowRoutes::status);
        // Whole graphs only on request: a page of summaries is small whatever the graphs' size.
        var fields = JsonIo.fields(req, WorkflowSummary.FIELDS);
        boolean withDefinition = fields != null && fields.contains("definition");
        io.send(req, res, Status.OK_200, workflows.list(access, status, withDefinition,
                req.query().first("limit").orElse(null), req.query().first("cursor").orElse(null)),
                WorkflowSummary.FIELDS);
    }

    private void get(Access access, ServerRequest req, ServerResponse res) {
        io.send(req, res, Status.OK_200, workflows.get(access, pathId(req)), Workflow.FIELDS);
    }

    private void update(Access access, ServerRequest req, ServerResponse res) {
        UUID id = pathId(req);
        io.send(req, res, Status.OK_200, workflows.update(access, id, changes(io.readInput(req))), Workflow.FIELDS);
    }

    /** A partial update, checked; at least one field. GraphQL's updateWorkflow reads the same. */
    static Workflows.Changes changes(Input in) {
        in.requireAnyOf("name", "description", "definition", "status");
        var changes = new Workflows.Changes(
                in.optionalString("name", 1, MAX_NAME),
                in.optionalString("description", 0, MAX_DESCRIPTION),
                DefinitionParser.optional(in, "definition"),
                in.optionalEnum("status", WorkflowStatus.class, WorkflowStatus.BY_NAME));
        in.validate();
        return changes;
    }

    private void delete(Access access, ServerRequest req, ServerResponse res) {
        workflows.delete(access, pathId(req));
        res.status(Status.NO_CONTENT_204).send();
    }

    private static WorkflowStatus status(String raw) {
        WorkflowStatus s = WorkflowStatus.BY_NAME.get(raw.strip());
        if (s == null) {
            String message = "must be one of " + String.join(", ", WorkflowStatus.BY_NAME.keySet());
            throw new InvalidInputException("status " + message, List.of(new FieldError("status", message)));
        }
        return s;
    }

    private static UUID pathId(ServerRequest req) {
        return Ids.parse(req.path().pathParameters().get("id")).orElseThrow(Workflows::notFound);
    }
}
