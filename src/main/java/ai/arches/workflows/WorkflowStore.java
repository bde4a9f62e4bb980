package ai.arches.workflows;

import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import ai.arches.common.Cursors;
import ai.arches.db.Database;
import ai.arches.db.Keyset;
import ai.arches.db.Rows;
import ai.arches.http.Json;

import com.fasterxml.jackson.core.JsonProcessingException;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.mapper.RowMapper;

/** SQL for workflows. Every statement is scoped by organization id. */
final class WorkflowStore {
    private static final String COLUMNS =
            "id, organization_id, name, description, definition, status, created_by, created_at, updated_at";

    private static final RowMapper<Workflow> WORKFLOW = (rs, ctx) -> new Workflow(
            Rows.uuid(rs, "id"), Rows.uuid(rs, "organization_id"), rs.getString("name"),
            rs.getString("description"), definition(rs.getString("definition")), rs.getString("status"),
            Rows.uuid(rs, "created_by"), Rows.instant(rs, "created_at"), Rows.instant(rs, "updated_at"));

    /** Graph sizes computed by PostgreSQL, so a list never carries the graphs themselves. */
    private static final String SUMMARY_COLUMNS = """
            id, organization_id, name, description, jsonb_array_length(definition -> 'nodes') AS node_count,
            coalesce(jsonb_array_length(definition -> 'edges'), 0) AS edge_count, status, created_by, created_at,
            updated_at""";

    /** Inserts the row and returns the definition as jsonb stored it (config keys reordered). */
    Definition insert(Handle h, Workflow w) {
        String stored = h.createQuery("""
                        INSERT INTO workflows (id, organization_id, name, description, definition, status,
                                               created_by, created_at, updated_at)
                        VALUES (:id, :org, :name, :description, CAST(:definition AS jsonb), :status,
                                :by, :at, :at)
                        RETURNING definition""")
                .define(Database.QUERY_TYPE, "workflows.insert")
                .bind("id", w.id()).bind("org", w.organizationId()).bind("name", w.name())
                .bind("description", w.description()).bind("definition", text(w.definition()))
                .bind("status", w.status()).bind("by", w.createdBy()).bind("at", w.createdAt())
                .mapTo(String.class).one();
        return definition(stored);
    }

    Optional<Workflow> get(Handle h, UUID org, UUID id) {
        return h.createQuery("SELECT " + COLUMNS + " FROM workflows WHERE id = :id AND organization_id = :org")
                .define(Database.QUERY_TYPE, "workflows.get")
                .bind("id", id).bind("org", org).map(WORKFLOW).findOne();
    }

    /**
     * One page of summaries, newest first; with a status, idx_workflows_org_status serves the whole
     * range. Definitions only when {@code withDefinition}; rows past {@code budget} estimated bytes
     * stay in the database (see {@link Keyset#withinBudget}).
     */
    Keyset.Budgeted<WorkflowSummary> list(Handle h, UUID org, Optional<WorkflowStatus> status,
                                          Cursors.PageRequest page, boolean withDefinition, long budget) {
        String est = "octet_length(name) + octet_length(description)"
                + (withDefinition ? " + octet_length(definition::text)" : "");
        String sql = Keyset.withinBudget("SELECT " + SUMMARY_COLUMNS + (withDefinition ? ", definition" : "")
                + ", " + est + " AS est FROM workflows WHERE organization_id = :org"
                + (status.isPresent() ? " AND status = :status" : "")
                + Keyset.after(page, "created_at", "id")
                + " ORDER BY created_at DESC, id DESC LIMIT :fetch");
        var q = Keyset.bind(h.createQuery(sql), page)
                .define(Database.QUERY_TYPE, withDefinition ? "workflows.list_definitions" : "workflows.list")
                .bind("org", org).bind("budget", budget);
        status.ifPresent(s -> q.bind("status", s.wire()));
        long[] innerRows = {0};
        List<WorkflowSummary> rows = q.map((rs, ctx) -> {
            innerRows[0] = rs.getLong("inner_rows");
            return new WorkflowSummary(Rows.uuid(rs, "id"), Rows.uuid(rs, "organization_id"), rs.getString("name"),
                    rs.getString("description"), rs.getInt("node_count"), rs.getInt("edge_count"),
                    withDefinition ? definition(rs.getString("definition")) : null, rs.getString("status"),
                    Rows.uuid(rs, "created_by"), Rows.instant(rs, "created_at"), Rows.instant(rs, "updated_at"));
        }).list();
        return new Keyset.Budgeted<>(rows, rows.size() < innerRows[0]);
    }

    /** Applies the present fields in one statement; empty when no such workflow. */
    Optional<Workflow> update(Handle h, UUID org, UUID id, Workflows.Changes ch, Instant at) {
        List<String> sets = new ArrayList<>();
        ch.name().ifPresent(v -> sets.add("name = :name"));
        ch.description().ifPresent(v -> sets.add("description = :description"));
        ch.definition().ifPresent(v -> sets.add("definition = CAST(:definition AS jsonb)"));
        ch.status().ifPresent(v -> sets.add("status = :status"));
        sets.add("updated_at = :at");
        var u = h.createQuery("UPDATE workflows SET " + String.join(", ", sets)
                        + " WHERE id = :id AND organization_id = :org RETURNING " + COLUMNS)
                .define(Database.QUERY_TYPE, "workflows.update")
                .bind("id", id).bind("org", org).bind("at", at);
        // Only present fields are bound: JDBI refuses bindings the SQL does not use.
        ch.name().ifPresent(v -> u.bind("name", v));
        ch.description().ifPresent(v -> u.bind("description", v));
        ch.definition().ifPresent(v -> u.bind("definition", text(v)));
        ch.status().ifPresent(v -> u.bind("status", v.wire()));
        return u.map(WORKFLOW).findOne();
    }

    boolean delete(Handle h, UUID org, UUID id) {
        return h.createUpdate("DELETE FROM workflows WHERE id = :id AND organization_id = :org")
                .define(Database.QUERY_TYPE, "workflows.delete")
                .bind("id", id).bind("org", org).execute() == 1;
    }

    private static String text(Definition d) {
        try {
            return Json.MAPPER.writeValueAsString(d);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Definition definition(String json) {
        try {
            return Json.MAPPER.readValue(json, Definition.class);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
