package ai.arches.workflows;

import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

import ai.arches.cache.Caches;
import ai.arches.cache.TieredCache;
import ai.arches.common.Cursors;
import ai.arches.common.FieldError;
import ai.arches.common.Ids;
import ai.arches.common.NotFoundException;
import ai.arches.common.Page;
import ai.arches.db.Database;
import ai.arches.http.Json;
import ai.arches.organizations.Access;
import ai.arches.workflows.tools.Toolbox;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Workflow definitions of an organization: the public entry type of the feature. Every
 * operation takes an {@link Access}; viewers read, members and above write (declared by the
 * routes, checked by {@code OrgGuard}). A definition is
 * checked to be a DAG ({@link Dag}, 422) before any write, whoever the caller is.
 */
public final class Workflows {
    /** A partial update: present fields replace the stored ones, empty ones are kept. */
    public record Changes(Optional<String> name, Optional<String> description, Optional<Definition> definition,
                          Optional<WorkflowStatus> status) {}

    private final Database db;
    private final Cursors cursors;
    private final Clock clock;
    private final WorkflowStore store = new WorkflowStore();
    private final Toolbox toolbox;
    /** Workflows by (organization, id): every run start reads one, and definitions change rarely. */
    private final TieredCache<Workflow> byId;

    public Workflows(Database db, Cursors cursors, Clock clock, Toolbox toolbox, Caches caches) {
        this.db = db;
        this.cursors = cursors;
        this.clock = clock;
        this.toolbox = toolbox;
        this.byId = caches.cache("workflows", Workflow.class,
                w -> ChronoUnit.MICROS.between(Instant.EPOCH, w.updatedAt()));
    }

    /** A new workflow, in draft. */
    public Workflow create(Access access, String name, String description, Definition definition) {
        check(definition);
        Instant now = now();
        Workflow w = new Workflow(Ids.newId(), access.organizationId(), name, description, definition,
                WorkflowStatus.DRAFT.wire(), access.userId(), now, now);
        Definition stored = db.withHandle(h -> store.insert(h, w));
        Workflow created = new Workflow(w.id(), w.organizationId(), w.name(), w.description(), stored, w.status(),
                w.createdBy(), w.createdAt(), w.updatedAt());
        byId.put(key(created.organizationId(), created.id()), created);
        return created;
    }

    public Workflow get(Access access, UUID id) {
        UUID org = access.organizationId();
        return byId.get(key(org, id), () -> db.withHandle(h -> store.get(h, org, id))).orElseThrow(Workflows::notFound);
    }

    /**
     * Newest first; with a status, only workflows in it. Items are summaries (graph sizes, not
     * graphs) unless {@code withDefinition}; either way the page ends at the byte budget.
     */
    public Page<WorkflowSummary> list(Access access, Optional<WorkflowStatus> status, boolean withDefinition,
                                      String limit, String cursor) {
        UUID org = access.organizationId();
        // The filter is part of the scope, so a cursor from one filtered list is refused by another.
        String scope = "workflows:" + org + status.map(s -> ":" + s.wire()).orElse("");
        var page = cursors.request(scope, limit, cursor);
        var rows = db.withReadHandle(h -> store.list(h, org, status, page, withDefinition, cursors.maxPageBytes()));
        return cursors.page(scope, page, rows.rows(), w -> new Cursors.Position(w.createdAt(), w.id()), Json::size,
                rows.cut());
    }

    public Workflow update(Access access, UUID id, Changes changes) {
        changes.definition().ifPresent(this::check);
        Instant now = now();
        Workflow updated = db.withHandle(h -> store.update(h, access.organizationId(), id, changes, now))
                .orElseThrow(Workflows::notFound);
        byId.put(key(updated.organizationId(), updated.id()), updated);
        return updated;
    }

    public void delete(Access access, UUID id) {
        boolean deleted = db.withHandle(h -> store.delete(h, access.organizationId(), id));
        byId.invalidate(key(access.organizationId(), id));
        if (!deleted) {
            throw notFound();
        }
    }

    private static String key(UUID org, UUID id) {
        return org + ":" + id;
    }

    /**
     * What makes a definition runnable, all problems at once (422): a DAG; a known tool with a
     * sound config on every tool node; sound retry and timeout settings; and templates that read
     * only steps that finish before their node starts.
     */
    private void check(Definition d) {
        List<FieldError> problems = new ArrayList<>(Dag.problems(d));
        Dag.fail(problems);
        Map<String, Set<String>> before = Dag.ancestors(d);
        for (int i = 0; i < d.nodes().size(); i++) {
            Node n = d.nodes().get(i);
            String at = "definition.nodes[" + i + "]";
            ObjectNode config = n.config() == null ? Json.MAPPER.createObjectNode() : n.config();
            if ("tool".equals(n.type())) {
                if (n.tool() == null) {
                    problems.add(new FieldError(at + ".tool", "is required for a node of type tool (one of "
                            + String.join(", ", toolbox.names()) + ")"));
                } else {
                    problems.addAll(toolbox.check(n.tool(), config, at));
                }
            }
            problems.addAll(StepPolicy.check(config, at + ".config"));
            Set<String> earlier = before.get(n.id());
            if (earlier != null) {
                for (String ref : Templates.stepsReferenced(config)) {
                    if (!earlier.contains(ref)) {
                        problems.add(new FieldError(at + ".config", "a template reads step '" + ref
                                + "', which does not finish before this node starts (add an edge path from it)"));
                    }
                }
            }
        }
        Dag.fail("cannot run", problems);
    }

    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }

    static NotFoundException notFound() {
        return new NotFoundException("workflow not found");
    }
}
