package ai.arches.content;

import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import ai.arches.auth.Role;
import ai.arches.common.Cursors;
import ai.arches.common.Ids;
import ai.arches.common.NotFoundException;
import ai.arches.common.Page;
import ai.arches.db.Database;
import ai.arches.organizations.Access;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Documents of an organization: the public entry type of the feature. Every operation takes an
 * {@link Access}, so it only ever sees the caller's organization; viewers read, members and
 * above write. Input is validated by the caller (the routes) before it gets here.
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

    public Contents(Database db, Cursors cursors, Clock clock) {
        this.db = db;
        this.cursors = cursors;
        this.clock = clock;
    }

    public Content create(Access access, Draft d) {
        access.require(Role.MEMBER);
        Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
        Content c = new Content(Ids.newId(), access.organizationId(), d.title(), d.body(), d.type(), d.mimeType(),
                List.copyOf(d.tags()), d.metadata(), "pending", access.userId(), now, now);
        ObjectNode stored = db.withHandle(h -> store.insert(h, c));
        return new Content(c.id(), c.organizationId(), c.title(), c.body(), c.type(), c.mimeType(), c.tags(),
                stored, c.embeddingStatus(), c.createdBy(), c.createdAt(), c.updatedAt());
    }

    public Content get(Access access, UUID id) {
        return db.withHandle(h -> store.get(h, access.organizationId(), id)).orElseThrow(Contents::notFound);
    }

    /** Newest first; with a tag, only documents carrying it. */
    public Page<Content> list(Access access, Optional<String> tag, String limit, String cursor) {
        UUID org = access.organizationId();
        // The tag is part of the scope, so a cursor from one filtered list is refused by another.
        String scope = "content:" + org + tag.map(t -> ":" + t).orElse("");
        var page = cursors.request(scope, limit, cursor);
        return cursors.page(scope, page, db.withHandle(h -> store.list(h, org, tag, page)),
                c -> new Cursors.Position(c.createdAt(), c.id()));
    }

    public Content update(Access access, UUID id, Changes changes) {
        access.require(Role.MEMBER);
        Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
        return db.withHandle(h -> store.update(h, access.organizationId(), id, changes, now))
                .orElseThrow(Contents::notFound);
    }

    public void delete(Access access, UUID id) {
        access.require(Role.MEMBER);
        if (!db.withHandle(h -> store.delete(h, access.organizationId(), id))) {
            throw notFound();
        }
    }

    static NotFoundException notFound() {
        return new NotFoundException("content not found");
    }
}
