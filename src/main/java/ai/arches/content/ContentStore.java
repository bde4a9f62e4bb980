package ai.arches.content;

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
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.mapper.RowMapper;
import org.jdbi.v3.core.statement.PreparedBatch;

/**
 * SQL for content. Every statement is scoped by organization id, so an id from another
 * organization behaves exactly like one that does not exist. The embedding column is never
 * selected: 384 floats per row that no API response shows.
 */
final class ContentStore {
    private static final String COLUMNS = """
            id, organization_id, title, body, type, mime_type, tags, metadata, embedding_status, created_by,
            created_at, updated_at""";

    private static final RowMapper<Content> CONTENT = (rs, ctx) -> new Content(
            Rows.uuid(rs, "id"), Rows.uuid(rs, "organization_id"), rs.getString("title"), rs.getString("body"),
            rs.getString("type"), rs.getString("mime_type"), Rows.strings(rs, "tags"),
            object(rs.getString("metadata")), rs.getString("embedding_status"), Rows.uuid(rs, "created_by"),
            Rows.instant(rs, "created_at"), Rows.instant(rs, "updated_at"));

    /** The summary's columns: the body cut to an excerpt by PostgreSQL, so whole bodies stay there. */
    private static final String SUMMARY_COLUMNS = """
            id, organization_id, title, left(body, %d) AS excerpt, length(body) AS body_length, type, mime_type,
            tags, metadata, embedding_status, created_by, created_at, updated_at""".formatted(ContentSummary.EXCERPT_CHARS);

    private static final RowMapper<ContentSummary> SUMMARY = summary(false);
    private static final RowMapper<ContentSummary> SUMMARY_WITH_BODY = summary(true);

    /** Inserts the row and returns metadata as jsonb stored it (keys reordered, duplicates gone). */
    ObjectNode insert(Handle h, Content c) {
        String stored = h.createQuery("""
                        INSERT INTO content (id, organization_id, title, body, type, mime_type, tags, metadata,
                                             embedding_status, created_by, created_at, updated_at)
                        VALUES (:id, :org, :title, :body, :type, :mimeType, :tags, CAST(:metadata AS jsonb),
                                'pending', :by, :at, :at)
                        RETURNING metadata""")
                .define(Database.QUERY_TYPE, "content.insert")
                .bind("id", c.id()).bind("org", c.organizationId()).bind("title", c.title()).bind("body", c.body())
                .bind("type", c.type()).bind("mimeType", c.mimeType()).bindArray("tags", String.class, c.tags())
                .bind("metadata", text(c.metadata())).bind("by", c.createdBy()).bind("at", c.createdAt())
                .mapTo(String.class).one();
        return object(stored);
    }

    /**
     * Like {@link #insert}, but an id already taken (by any organization) inserts nothing and
     * gives empty; the caller decides what the existing row means.
     */
    Optional<ObjectNode> insertOnce(Handle h, Content c) {
        return h.createQuery("""
                        INSERT INTO content (id, organization_id, title, body, type, mime_type, tags, metadata,
                                             embedding_status, created_by, created_at, updated_at)
                        VALUES (:id, :org, :title, :body, :type, :mimeType, :tags, CAST(:metadata AS jsonb),
                                'pending', :by, :at, :at)
                        ON CONFLICT (id) DO NOTHING
                        RETURNING metadata""")
                .define(Database.QUERY_TYPE, "content.insert_once")
                .bind("id", c.id()).bind("org", c.organizationId()).bind("title", c.title()).bind("body", c.body())
                .bind("type", c.type()).bind("mimeType", c.mimeType()).bindArray("tags", String.class, c.tags())
                .bind("metadata", text(c.metadata())).bind("by", c.createdBy()).bind("at", c.createdAt())
                .mapTo(String.class).findOne().map(ContentStore::object);
    }

    Optional<Content> get(Handle h, UUID org, UUID id) {
        return h.createQuery("SELECT " + COLUMNS + " FROM content WHERE id = :id AND organization_id = :org")
                .define(Database.QUERY_TYPE, "content.get")
                .bind("id", id).bind("org", org).map(CONTENT).findOne();
    }

    /**
     * One page of summaries, newest first, optionally only rows carrying {@code tag} (the GIN index
     * serves @>), with whole bodies only when {@code withBody}; rows past {@code budget} estimated
     * bytes stay in the database (see {@link Keyset#withinBudget}).
     */
    Keyset.Budgeted<ContentSummary> list(Handle h, UUID org, Optional<String> tag, Cursors.PageRequest page,
                                         boolean withBody, long budget) {
        // octet_length reads a stored value's size without detoasting it.
        String est = "octet_length(title) + " + (withBody ? "octet_length(body)" : "0")
                + " + octet_length(metadata::text)";
        String sql = Keyset.withinBudget("SELECT " + SUMMARY_COLUMNS + (withBody ? ", body" : "") + ", " + est
                + " AS est FROM content WHERE organization_id = :org"
                + (tag.isPresent() ? " AND tags @> ARRAY[:tag]::text[]" : "")
                + Keyset.after(page, "created_at", "id")
                + " ORDER BY created_at DESC, id DESC LIMIT :fetch");
        var q = Keyset.bind(h.createQuery(sql), page)
                .define(Database.QUERY_TYPE, withBody ? "content.list_bodies" : "content.list")
                .bind("org", org).bind("budget", budget);
        tag.ifPresent(t -> q.bind("tag", t));
        RowMapper<ContentSummary> mapper = withBody ? SUMMARY_WITH_BODY : SUMMARY;
        long[] innerRows = {0};
        List<ContentSummary> rows = q.map((rs, ctx) -> {
            innerRows[0] = rs.getLong("inner_rows");
            return mapper.map(rs, ctx);
        }).list();
        return new Keyset.Budgeted<>(rows, rows.size() < innerRows[0]);
    }

    /** The current title and body, row-locked until the transaction ends. */
    Optional<String[]> lockText(Handle h, UUID org, UUID id) {
        return h.createQuery("SELECT title, body FROM content WHERE id = :id AND organization_id = :org FOR UPDATE")
                .define(Database.QUERY_TYPE, "content.lock")
                .bind("id", id).bind("org", org)
                .map((rs, ctx) -> new String[] {rs.getString("title"), rs.getString("body")}).findOne();
    }

    /**
     * Applies the present fields in one statement. When the text changed, the stored vectors no
     * longer describe it: the document goes back to the embedding queue as new work.
     */
    Optional<Content> update(Handle h, UUID org, UUID id, Contents.Changes ch, boolean textChanged, Instant at) {
        List<String> sets = new ArrayList<>();
        ch.title().ifPresent(v -> sets.add("title = :title"));
        ch.body().ifPresent(v -> sets.add("body = :body"));
        ch.type().ifPresent(v -> sets.add("type = :type"));
        ch.mimeType().ifPresent(v -> sets.add("mime_type = :mimeType"));
        ch.tags().ifPresent(v -> sets.add("tags = :tags"));
        ch.metadata().ifPresent(v -> sets.add("metadata = CAST(:metadata AS jsonb)"));
        if (textChanged) {
            sets.add(EmbeddingQueue.REQUEUE);
        }
        sets.add("updated_at = :at");
        var u = h.createQuery("UPDATE content SET " + String.join(", ", sets)
                        + " WHERE id = :id AND organization_id = :org RETURNING " + COLUMNS)
                .define(Database.QUERY_TYPE, "content.update")
                .bind("id", id).bind("org", org).bind("at", at);
        // Only present fields are bound: JDBI refuses bindings the SQL does not use.
        ch.title().ifPresent(v -> u.bind("title", v));
        ch.body().ifPresent(v -> u.bind("body", v));
        ch.type().ifPresent(v -> u.bind("type", v));
        ch.mimeType().ifPresent(v -> u.bind("mimeType", v));
        ch.tags().ifPresent(v -> u.bindArray("tags", String.class, v));
        ch.metadata().ifPresent(v -> u.bind("metadata", text(v)));
        return u.map(CONTENT).findOne();
    }

    /**
     * Replaces the document's passages (without vectors; the workers add them). Written with the
     * document, so keyword search finds new text at once.
     */
    void writePassages(Handle h, UUID org, UUID id, List<String> texts) {
        h.createUpdate("DELETE FROM content_passages WHERE content_id = :id")
                .define(Database.QUERY_TYPE, "passages.delete")
                .bind("id", id).execute();
        PreparedBatch batch = h.prepareBatch("""
                INSERT INTO content_passages (content_id, ordinal, organization_id, text)
                VALUES (:id, :ordinal, :org, :text)""");
        batch.define(Database.QUERY_TYPE, "passages.insert");
        for (int i = 0; i < texts.size(); i++) {
            batch.bind("id", id).bind("ordinal", i).bind("org", org).bind("text", texts.get(i)).add();
        }
        batch.execute();
    }

    boolean delete(Handle h, UUID org, UUID id) {
        return h.createUpdate("DELETE FROM content WHERE id = :id AND organization_id = :org")
                .define(Database.QUERY_TYPE, "content.delete")
                .bind("id", id).bind("org", org).execute() == 1;
    }

    private static RowMapper<ContentSummary> summary(boolean withBody) {
        return (rs, ctx) -> new ContentSummary(
                Rows.uuid(rs, "id"), Rows.uuid(rs, "organization_id"), rs.getString("title"), rs.getString("excerpt"),
                rs.getInt("body_length"), withBody ? rs.getString("body") : null, rs.getString("type"),
                rs.getString("mime_type"), Rows.strings(rs, "tags"), object(rs.getString("metadata")),
                rs.getString("embedding_status"), Rows.uuid(rs, "created_by"), Rows.instant(rs, "created_at"),
                Rows.instant(rs, "updated_at"));
    }

    private static String text(ObjectNode metadata) {
        try {
            return Json.MAPPER.writeValueAsString(metadata);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ObjectNode object(String json) {
        try {
            return (ObjectNode) Json.MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
