package ai.arches.workflows;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import ai.arches.auth.Role;
import ai.arches.common.FieldError;
import ai.arches.common.Ids;
import ai.arches.common.InvalidInputException;
import ai.arches.common.NotFoundException;
import ai.arches.graphql.Fields;
import ai.arches.graphql.SchemaPiece;
import ai.arches.http.Input;
import ai.arches.http.Json;
import ai.arches.organizations.Access;
import ai.arches.organizations.OrgGuard;

import com.fasterxml.jackson.databind.node.ObjectNode;
import graphql.schema.DataFetchingEnvironment;

/**
 * The workflows feature's part of the GraphQL schema: an organization's workflows and runs (a
 * run with its steps), and the mutations that create, change and delete workflows and start and
 * cancel runs. Inputs go through the same checks as REST bodies; roles are REST's.
 */
public final class WorkflowGraph {
    private static final String SDL = """
            enum WorkflowStatus { DRAFT ACTIVE PAUSED ARCHIVED }
            enum RunStatus { QUEUED RUNNING SUCCEEDED FAILED CANCELLED }
            enum StepStatus { PENDING RUNNING SUCCEEDED FAILED SKIPPED CANCELLED }

            "A workflow: a named DAG of tool steps ({nodes, edges}, as REST shows it) with a lifecycle status."
            type Workflow {
              id: ID!
              organizationId: ID!
              name: String!
              description: String!
              definition: JSON!
              status: WorkflowStatus!
              createdBy: ID
              createdAt: DateTime!
              updatedAt: DateTime!
            }

            "A workflow in a list: the size of its graph; definition only when selected."
            type WorkflowSummary {
              id: ID!
              organizationId: ID!
              name: String!
              description: String!
              nodeCount: Int!
              edgeCount: Int!
              definition: JSON
              status: WorkflowStatus!
              createdBy: ID
              createdAt: DateTime!
              updatedAt: DateTime!
            }

            type WorkflowPage {
              data: [WorkflowSummary!]!
              nextCursor: String
            }

            "One node of a run. error is the last attempt's, also while a retry waits (PENDING, nextAttemptAt set)."
            type Step {
              nodeId: String!
              tool: String
              status: StepStatus!
              attempts: Int!
              startedAt: DateTime
              finishedAt: DateTime
              nextAttemptAt: DateTime
              output: JSON
              error: String
            }

            "A run of a workflow. progress: the share of its steps that finished (0 to 1)."
            type Run {
              id: ID!
              organizationId: ID!
              workflowId: ID!
              status: RunStatus!
              input: JSON
              output: JSON
              error: String
              progress: Float!
              createdBy: ID
              createdAt: DateTime!
              startedAt: DateTime
              finishedAt: DateTime
              updatedAt: DateTime!
              "Its steps; null in lists (read the run for them)."
              steps: [Step!]
            }

            type RunPage {
              data: [Run!]!
              nextCursor: String
            }

            extend type Organization {
              "Workflows, newest first; with status, only those in it. limit 1-100."
              workflows(limit: Int = 20, cursor: String, status: WorkflowStatus): WorkflowPage
              "One workflow; not found unless it is this organization's."
              workflow(id: ID!): Workflow
              "Runs, newest first, optionally of one workflow and in one status; without steps. limit 1-100."
              runs(limit: Int = 20, cursor: String, status: RunStatus, workflowId: ID): RunPage
              "One run with its steps; not found unless it is this organization's."
              run(id: ID!): Run
            }

            input CreateWorkflowInput {
              name: String!
              description: String
              "{nodes: [{id, type, tool, config}], edges: [{from, to}]}; checked to be a runnable DAG."
              definition: JSON!
            }

            "Fields given replace the stored ones; at least one."
            input UpdateWorkflowInput {
              name: String
              description: String
              definition: JSON
              status: WorkflowStatus
            }

            extend type Mutation {
              "A new workflow, in draft; member or above."
              createWorkflow(org: String!, input: CreateWorkflowInput!): Workflow
              "Changes a workflow; member or above."
              updateWorkflow(org: String!, id: ID!, input: UpdateWorkflowInput!): Workflow
              "Deletes a workflow; member or above. True when it was deleted."
              deleteWorkflow(org: String!, id: ID!): Boolean
              "Queues a run of the workflow's current definition with input (a JSON object); member or above."
              startRun(org: String!, workflowId: ID!, input: JSON): Run
              "Cancels a run; member or above."
              cancelRun(org: String!, id: ID!): Run
            }
            """;

    private WorkflowGraph() {}

    public static SchemaPiece piece(Workflows workflows, Runs runs, OrgGuard orgGuard) {
        return new SchemaPiece(SDL, wiring -> wiring
                .type("Organization", t -> t
                        .dataFetcher("workflows", env -> {
                            Access access = OrgGuard.of(env, Role.VIEWER);
                            // Whole graphs only when selected, as REST sends them only for fields=definition.
                            boolean withDefinition = env.getSelectionSet().contains("data/definition");
                            return workflows.list(access, Optional.ofNullable(env.getArgument("status")),
                                    withDefinition, Fields.limit(env), env.getArgument("cursor"));
                        })
                        .dataFetcher("workflow", env -> workflows.get(OrgGuard.of(env, Role.VIEWER),
                                id(env, "id", Workflows::notFound)))
                        .dataFetcher("runs", env -> {
                            Access access = OrgGuard.of(env, Role.VIEWER);
                            Optional<UUID> workflowId = Optional.ofNullable(env.<String>getArgument("workflowId"))
                                    .map(v -> Ids.parse(v.strip()).orElseThrow(() -> new InvalidInputException(
                                            "workflowId must be a UUID",
                                            List.of(new FieldError("workflowId", "must be a UUID")))));
                            return runs.list(access, workflowId, Optional.ofNullable(env.getArgument("status")),
                                    Fields.limit(env), env.getArgument("cursor"));
                        })
                        .dataFetcher("run", env -> runs.get(OrgGuard.of(env, Role.VIEWER), id(env, "id", Runs::notFound))))
                .type("Mutation", t -> t
                        .dataFetcher("createWorkflow", env -> WorkflowRoutes.create(workflows,
                                orgGuard.at(Role.MEMBER, env, env.getArgument("org")), input(env)))
                        .dataFetcher("updateWorkflow", env -> {
                            Access access = orgGuard.at(Role.MEMBER, env, env.getArgument("org"));
                            return workflows.update(access, id(env, "id", Workflows::notFound),
                                    WorkflowRoutes.changes(input(env)));
                        })
                        .dataFetcher("deleteWorkflow", env -> {
                            workflows.delete(orgGuard.at(Role.MEMBER, env, env.getArgument("org")),
                                    id(env, "id", Workflows::notFound));
                            return true;
                        })
                        .dataFetcher("startRun", env -> {
                            Access access = orgGuard.at(Role.MEMBER, env, env.getArgument("org"));
                            UUID workflowId = id(env, "workflowId", Workflows::notFound);
                            ObjectNode body = Json.MAPPER.createObjectNode();
                            if (env.containsArgument("input")) {
                                body.set("input", Json.MAPPER.valueToTree(env.getArgument("input")));
                            }
                            return runs.start(access, workflowId, RunRoutes.input(new Input(body)).orElse(null));
                        })
                        .dataFetcher("cancelRun", env -> runs.cancel(orgGuard.at(Role.MEMBER, env,
                                env.getArgument("org")), id(env, "id", Runs::notFound))))
                .type("Workflow", t -> t.dataFetcher("status", Fields.enumOf(WorkflowStatus.class, "status")))
                .type("WorkflowSummary", t -> t.dataFetcher("status", Fields.enumOf(WorkflowStatus.class, "status")))
                .type("Run", t -> t.dataFetcher("status", Fields.enumOf(RunStatus.class, "status")))
                .type("Step", t -> t.dataFetcher("status", Fields.enumOf(StepStatus.class, "status")))
                .type("WorkflowStatus", t -> t.enumValues(WorkflowStatus::valueOf))
                .type("RunStatus", t -> t.enumValues(RunStatus::valueOf))
                .type("StepStatus", t -> t.enumValues(StepStatus::valueOf)),
                Map.of());
    }

    /**
     * The mutation's input object as the JSON body REST would read, so the same checks apply;
     * an enum goes back to its wire name.
     */
    private static Input input(DataFetchingEnvironment env) {
        Map<String, Object> input = env.getArgument("input");
        ObjectNode body = Json.MAPPER.valueToTree(input);
        if (input.get("status") instanceof WorkflowStatus s) {
            body.put("status", s.wire());
        }
        return new Input(body);
    }

    private static UUID id(DataFetchingEnvironment env, String name,
                           java.util.function.Supplier<NotFoundException> notFound) {
        return Ids.parse(env.<String>getArgument(name)).orElseThrow(notFound);
    }
}
