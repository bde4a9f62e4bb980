package ai.arches.content;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import ai.arches.db.Database;
import ai.arches.db.Rows;

import com.pgvector.PGvector;
import org.jdbi.v3.core.Handle;
import org.jdbi.v3.core.statement.PreparedBatch;

/**
 * The embedding work queue, kept durably in the content table itself: a document is work while
 * its status is pending (or processing past its lease). A claim takes one slice (at most
 * {@code slice} passages from {@code embedding_next} on) of one document per organization, the
 * organizations served least recently first ({@code embedding_turns}), in one statement with
 * {@code FOR UPDATE SKIP LOCKED}. A document is claimed by one worker at a time, so two nodes never
 * embed the same slice; a slice's vectors are written only while its claim still holds, checked
 * under the document's row lock, which edits and re-queues take before rewriting the passages, so
 * an edit during embedding wins. A claim's lease is short and renewed by {@link #renew} while the
 * slice is worked on: a dead node's claims come back within a lease.
 */
final class EmbeddingQueue {
    /** SET clause that puts a document back in the queue as new work (text changed, re-queue). */
    static final String REQUEUE = """
            embedding_status = 'pending', embedding = NULL, embedding_error = NULL, embedding_attempts = 0,
            embedding_due_at = now(), embedding_claim = NULL, embedding_claimed_at = NULL, embedding_next = 0""";

    /**
     * A claimed slice: the document (its title heads each passage the model reads) and where the
     * slice starts. {@code attempts} counts claims since the document last made progress.
     */
    record Claimed(UUID id, UUID organizationId, String title, String body, int attempts, int next) {}

    /** A passage to embed. */
    record Passage(UUID contentId, int ordinal, String text) {}

    private final Database db;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition signal = lock.newCondition();
    private long signals;

    EmbeddingQueue(Database db) {
        this.db = db;
    }

    /** Wakes idle workers of this node: new work was just written. */
    void wake() {
        lock.lock();
        try {
            signals++;
            signal.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Waits until {@link #wake()} or the timeout; returns at once if woken since {@code seen}. */
    long await(long seen, Duration timeout) throws InterruptedException {
        lock.lock();
        try {
            long nanos = timeout.toNanos();
            while (signals == seen && nanos > 0) {
                nanos = signal.awaitNanos(nanos);
            }
            return signals;
        } finally {
            lock.unlock();
        }
    }

    long signals() {
        lock.lock();
        try {
            return signals;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Claims the next slice of up to {@code batch} due documents, each from a different
     * organization, least recently served first, and marks those organizations served. The
     * organizations are ranked before any document is locked (the MATERIALIZED list), so the lateral
     * lock runs only until {@code batch} documents are found. A claimed document becomes due again
     * once its lease runs out unrenewed, so the work of a node that died is taken over, counting an
     * attempt.
     */
    List<Claimed> claim(UUID claim, int batch, Duration lease) {
        return db.withHandle(h -> h.createQuery("""
                        WITH RECURSIVE orgs AS (
                            (SELECT organization_id FROM content
                             WHERE embedding_status IN ('pending', 'processing')
                             ORDER BY organization_id LIMIT 1)
                            UNION ALL
                            SELECT (SELECT c.organization_id FROM content c
                                    WHERE c.embedding_status IN ('pending', 'processing')
                                      AND c.organization_id > orgs.organization_id
                                    ORDER BY c.organization_id LIMIT 1)
                            FROM orgs WHERE orgs.organization_id IS NOT NULL),
                        ranked AS MATERIALIZED (
                            SELECT o.organization_id FROM orgs o
                            LEFT JOIN embedding_turns t ON t.organization_id = o.organization_id
                            WHERE o.organization_id IS NOT NULL
                            ORDER BY t.served_at NULLS FIRST, o.organization_id),
                        next AS (
                            SELECT d.id, r.organization_id FROM ranked r
                            CROSS JOIN LATERAL (
                                SELECT c.id FROM content c
                                WHERE c.organization_id = r.organization_id
                                  AND c.embedding_status IN ('pending', 'processing') AND c.embedding_due_at <= now()
                                ORDER BY c.embedding_due_at LIMIT 1
                                FOR UPDATE SKIP LOCKED) d
                            LIMIT :batch),
                        served AS (
                            INSERT INTO embedding_turns (organization_id, served_at)
                            SELECT organization_id, clock_timestamp() FROM next
                            ON CONFLICT (organization_id) DO UPDATE SET served_at = excluded.served_at)
                        UPDATE content c
                        SET embedding_status = 'processing', embedding_claim = :claim, embedding_claimed_at = now(),
                            embedding_due_at = now() + make_interval(secs => :lease),
                            embedding_attempts = c.embedding_attempts + 1
                        FROM next WHERE c.id = next.id
                        RETURNING c.id, c.organization_id, c.title, c.body, c.embedding_attempts, c.embedding_next""")
                .define(Database.QUERY_TYPE, "embedding.claim")
                .bind("batch", batch).bind("claim", claim).bind("lease", seconds(lease))
                .map((rs, ctx) -> new Claimed(Rows.uuid(rs, "id"), Rows.uuid(rs, "organization_id"),
                        rs.getString("title"), rs.getString("body"), rs.getInt("embedding_attempts"),
                        rs.getInt("embedding_next")))
                .list());
    }

    /**
     * Pushes the lease of this node's live claims forward; a claim given up or completed is simply
     * no longer matched. One statement per heartbeat, served by the claim index.
     */
    int renew(Collection<UUID> claims, Duration lease) {
        if (claims.isEmpty()) {
            return 0;
        }
        return db.withHandle(h -> h.createUpdate("""
                        UPDATE content SET embedding_due_at = now() + make_interval(secs => :lease)
                        WHERE embedding_claim = ANY(:claims) AND embedding_status = 'processing'""")
                .define(Database.QUERY_TYPE, "embedding.renew")
                .bindArray("claims", UUID.class, List.copyOf(claims)).bind("lease", seconds(lease))
                .execute());
    }

    /**
     * The slice's passages from {@code from} on, in order: at most {@code limit + 1}, so the caller
     * knows whether passages remain after the slice.
     */
    List<Passage> slice(UUID id, int from, int limit) {
        return db.withHandle(h -> h.createQuery("""
                        SELECT content_id, ordinal, text FROM content_passages
                        WHERE content_id = :id AND ordinal >= :from ORDER BY ordinal LIMIT :limit""")
                .define(Database.QUERY_TYPE, "embedding.passages")
                .bind("id", id).bind("from", from).bind("limit", limit + 1)
                .map((rs, ctx) -> new Passage(Rows.uuid(rs, "content_id"), rs.getInt("ordinal"), rs.getString("text")))
                .list());
    }

    /** Writes the passages of a document that had none (from before passages existed), under the claim. */
    boolean writePassages(Claimed doc, UUID claim, List<String> texts) {
        return db.inTransaction(h -> {
            if (!holds(h, doc.id(), claim)) {
                return false;
            }
            new ContentStore().writePassages(h, doc.organizationId(), doc.id(), texts);
            return true;
        });
    }

    /**
     * Stores the slice's vectors if the claim still holds (the document was not edited, re-queued
     * or taken over meanwhile); returns whether it did. The last slice makes the document ready with
     * the unit mean of all its passages' vectors (and progress back at 0: whatever queues it again
     * starts over); an earlier one puts it back in the queue, due now
     * and behind the other organizations, with its progress kept and its attempts cleared.
     */
    boolean complete(Claimed doc, UUID claim, List<Passage> slice, List<float[]> vectors, boolean last) {
        return db.inTransaction(h -> {
            if (!holds(h, doc.id(), claim)) {
                return false;
            }
            writeVectors(h, doc.id(), slice, vectors);
            if (last) {
                h.createUpdate("""
                                UPDATE content SET embedding_status = 'ready', embedding_error = NULL,
                                    embedding = l2_normalize((SELECT avg(embedding) FROM content_passages WHERE content_id = :id)),
                                    embedding_claim = NULL, embedding_claimed_at = NULL, embedding_next = 0
                                WHERE id = :id""")
                        .define(Database.QUERY_TYPE, "embedding.complete")
                        .bind("id", doc.id()).execute();
            } else {
                h.createUpdate("""
                                UPDATE content SET embedding_status = 'pending', embedding_error = NULL,
                                    embedding_claim = NULL, embedding_claimed_at = NULL, embedding_due_at = now(),
                                    embedding_attempts = 0, embedding_next = :next
                                WHERE id = :id""")
                        .define(Database.QUERY_TYPE, "embedding.progress")
                        .bind("id", doc.id()).bind("next", slice.getLast().ordinal() + 1).execute();
            }
            return true;
        });
    }

    /** Back to pending after a backoff, or failed for good after {@code maxAttempts}. */
    boolean fail(Claimed doc, UUID claim, String error, int maxAttempts, Duration backoff) {
        String message = error.length() > 1000 ? error.substring(0, 1000) : error;
        return db.withHandle(h -> h.createUpdate("""
                        UPDATE content SET
                            embedding_status = CASE WHEN embedding_attempts >= :max THEN 'failed' ELSE 'pending' END,
                            embedding_error = :error, embedding_claim = NULL, embedding_claimed_at = NULL,
                            embedding_due_at = now() + make_interval(secs => :backoff)
                        WHERE id = :id AND embedding_claim = :claim""")
                .define(Database.QUERY_TYPE, "embedding.fail")
                .bind("max", maxAttempts).bind("error", message).bind("backoff", seconds(backoff))
                .bind("id", doc.id()).bind("claim", claim).execute() == 1);
    }

    /** Gives unfinished claims back at shutdown, without counting the attempt. */
    void release(UUID claim) {
        db.withHandle(h -> h.createUpdate("""
                        UPDATE content SET embedding_status = 'pending', embedding_claim = NULL,
                            embedding_claimed_at = NULL, embedding_due_at = now(),
                            embedding_attempts = greatest(embedding_attempts - 1, 0)
                        WHERE embedding_claim = :claim AND embedding_status = 'processing'""")
                .define(Database.QUERY_TYPE, "embedding.release")
                .bind("claim", claim).execute());
    }

    /** Documents waiting for vectors (pending) and being embedded (processing). */
    long[] backlog() {
        return db.withHandle(h -> h.createQuery("""
                        SELECT count(*) FILTER (WHERE embedding_status = 'pending'),
                               count(*) FILTER (WHERE embedding_status = 'processing')
                        FROM content WHERE embedding_status IN ('pending', 'processing')""")
                .define(Database.QUERY_TYPE, "embedding.backlog")
                .map((rs, ctx) -> new long[] {rs.getLong(1), rs.getLong(2)}).one());
    }

    /**
     * Puts one document back in the queue as new work unless it is already queued or being
     * embedded (that work stands: a second embedding would only repeat it); the caller holds the
     * row lock. Returns whether it re-queued.
     */
    static boolean requeue(Handle h, UUID org, UUID id) {
        return h.createUpdate("UPDATE content SET " + REQUEUE
                        + " WHERE id = :id AND organization_id = :org AND embedding_status IN ('ready', 'failed')")
                .define(Database.QUERY_TYPE, "embedding.requeue")
                .bind("id", id).bind("org", org).execute() == 1;
    }

    /** Whether the claim still holds the document, taking its row lock for the transaction. */
    private static boolean holds(Handle h, UUID id, UUID claim) {
        return h.createQuery("""
                        SELECT 1 FROM content WHERE id = :id AND embedding_claim = :claim AND embedding_status = 'processing'
                        FOR UPDATE""")
                .define(Database.QUERY_TYPE, "embedding.holds")
                .bind("id", id).bind("claim", claim).mapTo(Integer.class).findOne().isPresent();
    }

    private static void writeVectors(Handle h, UUID id, List<Passage> slice, List<float[]> vectors) {
        PreparedBatch batch = h.prepareBatch("""
                UPDATE content_passages SET embedding = CAST(:v AS vector)
                WHERE content_id = :id AND ordinal = :ordinal""");
        batch.define(Database.QUERY_TYPE, "embedding.vectors");
        for (int i = 0; i < vectors.size(); i++) {
            batch.bind("v", new PGvector(vectors.get(i)).toString()).bind("id", id)
                    .bind("ordinal", slice.get(i).ordinal()).add();
        }
        batch.execute();
    }

    private static double seconds(Duration d) {
        return d.toMillis() / 1000.0;
    }
}
