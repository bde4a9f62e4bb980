package ai.arches.content;

import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import ai.arches.common.ConflictException;
import ai.arches.common.Cursors;
import ai.arches.common.Ids;
import ai.arches.common.NotFoundException;
import ai.arches.common.Page;
import ai.arches.cache.Caches;
import ai.arches.cache.TieredCache;
import ai.arches.db.Database;
import ai.arches.db.Keyset;
import ai.arches.embedding.Passages;
import ai.arches.http.Json;
import ai.arches.organizations.Access;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.jdbi.v3.core.HandleCallback;

/**
 * Documents of an organization: the public entry type of the feature. Every operation takes an
 * {@link Access}, so it only ever sees the caller's organization; viewers read, members and
 * above write (the routes declare the role, {@code OrgGuard} checks it). Input is validated by
 * the caller (the routes) before it gets here.
 */
public final class Contents {
    /** A new document's fields. */
    public record Draft(String title, String body, String type, String mimeType, List<String> tags,
                        ObjectNode metadata) {}

    /** A partial update: present fields replace the stored ones, empty ones are kept. */
    public record Changes(Optional<String> title, Optional<String> body, Optional<String> type,
                          Optional<String> mimeType, Optional<List<String>> tags, Optional<ObjectNode> metadata) {}

    private final Database db;
    private final Cursors cursors;
    private final Clock clock;
    private final ContentStore store = new ContentStore();
    private final Caches caches;
    private final Passages passages;
    private final EmbeddingQueue queue;
    /** Documents by (organization, id): the organization is in the key, so no entry crosses tenants. */
    private final TieredCache<Content> byId;
    /** List pages under the organization's content namespace, which every write bumps. */
    private final TieredCache<Page<ContentSummary>> pages;

    public Contents(Database db, Cursors cursors, Clock clock, Caches caches, Passages passages) {
        this.db = db;
        this.passages = passages;
        this.queue = new EmbeddingQueue(db);
        this.cursors = cursors;
        this.clock = clock;
        this.caches = caches;
        this.byId = caches.cache("content", Content.class, c -> ChronoUnit.MICROS.between(Instant.EPOCH, c.updatedAt()));
        this.pages = caches.cache("content-pages",
                caches.json().getTypeFactory().constructParametricType(Page.class, ContentSummary.class), p -> 0L);
    }

    public Content create(Access access, Draft d) {
        Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
        Content c = new Content(Ids.newId(), access.organizationId(), d.title(), d.body(), d.type(), d.mimeType(),
                List.copyOf(d.tags()), d.metadata(), "pending", access.userId(), now, now);
        List<String> texts = passages.split(c.title(), c.body());
        ObjectNode stored = db.inTransaction(h -> {
            ObjectNode m = store.insert(h, c);
            store.writePassages(h, c.organizationId(), c.id(), texts);
            return m;
        });
        queue.wake();
        Content created = new Content(c.id(), c.organizationId(), c.title(), c.body(), c.type(), c.mimeType(), c.tags(),
                stored, c.embeddingStatus(), c.createdBy(), c.createdAt(), c.updatedAt());
        byId.put(key(created.organizationId(), created.id()), created);
        caches.bump(namespace(created.organizationId()));
        return created;
    }

    /**
     * Like {@link #create}, with an id the caller derived, and safe to repeat: when a document
     * with that id already exists in the caller's organization, it is returned as stored and
     * nothing is written. A workflow step derives the id from its run and node, so a step run
     * again after a crash finds the document its first attempt wrote instead of writing a second.
     * The id is checked within the organization only: were it ever taken by another one, that row
     * stays invisible and this fails as a conflict.
     */
    public Content createOnce(Access access, UUID id, Draft d) {
        Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
        UUID org = access.organizationId();
        Content c = new Content(id, org, d.title(), d.body(), d.type(), d.mimeType(), List.copyOf(d.tags()),
                d.metadata(), "pending", access.userId(), now, now);
        List<String> texts = passages.split(c.title(), c.body());
        Optional<ObjectNode> stored = db.inTransaction(h -> {
            Optional<ObjectNode> m = store.insertOnce(h, c);
            if (m.isPresent()) {
                store.writePassages(h, org, id, texts);
            }
            return m;
        });
        if (stored.isEmpty()) {
            // A concurrent attempt's insert has committed before ON CONFLICT returned, so it is visible here.
            return db.withHandle(h -> store.get(h, org, id))
                    .orElseThrow(() -> new ConflictException("content id " + id + " is already taken"));
        }
        queue.wake();
        Content created = new Content(c.id(), c.organizationId(), c.title(), c.body(), c.type(), c.mimeType(), c.tags(),
                stored.get(), c.embeddingStatus(), c.createdBy(), c.createdAt(), c.updatedAt());
        byId.put(key(created.organizationId(), created.id()), created);
        caches.bump(namespace(created.organizationId()));
        return created;
    }

    public Content get(Access access, UUID id) {
        UUID org = access.organizationId();
        return byId.get(key(org, id), () -> db.withHandle(h -> store.get(h, org, id))).orElseThrow(Contents::notFound);
    }

    /**
     * Newest first; with a tag, only documents carrying it. Items are summaries (an excerpt, not
     * the body) unless {@code withBody}; either way the page ends at the byte budget.
     */
    public Page<ContentSummary> list(Access access, Optional<String> tag, boolean withBody, String limit,
                                     String cursor) {
        UUID org = access.organizationId();
        // The tag is part of the scope, so a cursor from one filtered list is refused by another.
        String scope = "content:" + org + tag.map(t -> ":" + t).orElse("");
        var page = cursors.request(scope, limit, cursor);
        // A page for the shared cache is read on the primary: a replica's older page would outlive the write.
        java.util.function.Function<Boolean, Page<ContentSummary>> load = stale -> {
            HandleCallback<Keyset.Budgeted<ContentSummary>, RuntimeException> read = h -> store.list(h, org, tag, page, withBody, cursors.maxPageBytes());
            var rows = stale ? db.withReadHandle(read) : db.withHandle(read);
            return cursors.page(scope, page, rows.rows(), c -> new Cursors.Position(c.createdAt(), c.id()),
                    Json::size, rows.cut());
        };
        long version = caches.namespace(namespace(org));
        if (version < 0) {
            return load.apply(true);
        }
        String key = org + "@" + version + ":" + page.limit() + ":" + (withBody ? "body" : "summary") + ":"
                + (cursor == null ? "" : cursor) + ":" + tag.orElse("");
        return pages.get(key, () -> Optional.of(load.apply(false))).orElseThrow();
    }

    public Content update(Access access, UUID id, Changes changes) {
        Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
        UUID org = access.organizationId();
        boolean[] requeued = {false};
        Content updated = db.inTransaction(h -> {
            var current = store.lockText(h, org, id);
            if (current.isEmpty()) {
                return Optional.<Content>empty();
            }
            String title = changes.title().orElse(current.get()[0]);
            String body = changes.body().orElse(current.get()[1]);
            boolean textChanged = !title.equals(current.get()[0]) || !body.equals(current.get()[1]);
            var u = store.update(h, org, id, changes, textChanged, now);
            if (textChanged) {
                store.writePassages(h, org, id, passages.split(title, body));
                requeued[0] = true;
            }
            return u;
        }).orElseThrow(Contents::notFound);
        if (requeued[0]) {
            queue.wake();
        }
        byId.put(key(updated.organizationId(), updated.id()), updated);
        caches.bump(namespace(updated.organizationId()));
        return updated;
    }

    public void delete(Access access, UUID id) {
        UUID org = access.organizationId();
        if (!db.withHandle(h -> store.delete(h, org, id))) {
            throw notFound();
        }
        byId.invalidate(key(org, id));
        caches.bump(namespace(org));
    }

    /**
     * Puts a ready or failed document back in the embedding queue (re-chunked from its current
     * text). A document already pending or being embedded is left as it is: its work is queued, and
     * resetting the claim would throw the slices in flight away and embed it all again.
     */
    public Content requeue(Access access, UUID id) {
        UUID org = access.organizationId();
        Boolean requeued = db.inTransaction(h -> {
            var current = store.lockText(h, org, id);
            if (current.isEmpty()) {
                return null;
            }
            if (!EmbeddingQueue.requeue(h, org, id)) {
                return false;
            }
            store.writePassages(h, org, id, passages.split(current.get()[0], current.get()[1]));
            return true;
        });
        if (requeued == null) {
            throw notFound();
        }
        if (requeued) {
            embeddingChanged(org, id);
            queue.wake();
        }
        return db.withHandle(h -> store.get(h, org, id)).orElseThrow(Contents::notFound);
    }

    EmbeddingQueue queue() {
        return queue;
    }

    /** A worker changed the document's embedding state: cached copies and pages are stale. */
    void embeddingChanged(UUID org, UUID id) {
        byId.invalidate(key(org, id));
        caches.bump(namespace(org));
    }

    private static String key(UUID org, UUID id) {
        return org + ":" + id;
    }

    static String namespace(UUID org) {
        return "content:" + org;
    }

    static NotFoundException notFound() {
        return new NotFoundException("content not found");
    }
}
