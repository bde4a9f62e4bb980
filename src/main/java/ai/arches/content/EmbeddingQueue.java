package ai.arches.content;

import java.time.Duration;
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
 * its status is pending (or processing past its lease). Claims use {@code FOR UPDATE SKIP LOCKED}
 * and stamp a claim id, and a result is only written while that claim still holds, so two nodes
 * never embed the same version of a document twice and an edit during embedding wins.
 */
final class EmbeddingQueue {
    /** SET clause that puts a document back in the queue as new work (text changed, re-queue). */
    static final String REQUEUE = """
            embedding_status = 'pending', embedding = NULL, embedding_error = NULL, embedding_attempts = 0,
            embedding_due_at = now(), embedding_claim = NULL, embedding_claimed_at = NULL""";

    /** A claimed document: the title heads each passage the model reads. */
    record Claimed(UUID id, UUID organizationId, String title, String body, int attempts) {}

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
     * Claims up to {@code batch} due documents. A claimed document becomes due again after the
     * lease, so the work of a node that died mid-batch is taken over, counting an attempt.
     */
    List<Claimed> claim(UUID claim, int batch, Duration lease) {
        return db.withHandle(h -> h.createQuery("""
                        WITH next AS (
                            SELECT id FROM content
                            WHERE embedding_status IN ('pending', 'processing') AND embedding_due_at <= now()
                            ORDER BY embedding_due_at
                            LIMIT :batch
                            FOR UPDATE SKIP LOCKED)
                        UPDATE content c
                        SET embedding_status = 'processing', embedding_claim = :claim, embedding_claimed_at = now(),
                            embedding_due_at = now() + make_interval(secs => :lease),
                            embedding_attempts = c.embedding_attempts + 1
                        FROM next WHERE c.id = next.id
                        RETURNING c.id, c.organization_id, c.title, c.body, c.embedding_attempts""")
                .define(Database.QUERY_TYPE, "embedding.claim")
                .bind("batch", batch).bind("claim", claim).bind("lease", lease.toMillis() / 1000.0)
                .map((rs, ctx) -> new Claimed(Rows.uuid(rs, "id"), Rows.uuid(rs, "organization_id"),
                        rs.getString("title"), rs.getString("body"), rs.getInt("embedding_attempts")))
                .list());
    }

    /** The stored passages of the documents, in order. */
    List<Passage> passages(List<UUID> ids) {
        return db.withHandle(h -> h.createQuery("""
                        SELECT content_id, ordinal, text FROM content_passages
                        WHERE content_id = ANY(:ids) ORDER BY content_id, ordinal""")
                .define(Database.QUERY_TYPE, "embedding.passages")
                .bindArray("ids", UUID.class, ids)
                .map((rs, ctx) -> new Passage(Rows.uuid(rs, "content_id"), rs.getInt("ordinal"), rs.getString("text")))
                .list());
    }

    /**
     * Stores the vectors if the claim still holds (the document was not edited, re-queued or taken
     * over meanwhile); returns whether it did. {@code texts} non-null means the passages are
     * written too (a document that had none, from before passages existed).
     */
    boolean complete(Claimed doc, UUID claim, List<String> texts, List<float[]> vectors, float[] mean) {
        return db.inTransaction(h -> {
            int held = h.createUpdate("""
                            UPDATE content SET embedding_status = 'ready', embedding = CAST(:mean AS vector),
                                embedding_error = NULL, embedding_claim = NULL, embedding_claimed_at = NULL
                            WHERE id = :id AND embedding_claim = :claim AND embedding_status = 'processing'""")
                    .define(Database.QUERY_TYPE, "embedding.complete")
                    .bind("mean", new PGvector(mean).toString()).bind("id", doc.id()).bind("claim", claim)
                    .execute();
            if (held == 0) {
                return false;
            }
            if (texts != null) {
                new ContentStore().writePassages(h, doc.organizationId(), doc.id(), texts);
            }
            writeVectors(h, doc.id(), vectors);
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
                .bind("max", maxAttempts).bind("error", message).bind("backoff", backoff.toMillis() / 1000.0)
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

    /** Puts one document back in the queue as new work; false if there is no such document. */
    static boolean requeue(Handle h, UUID org, UUID id) {
        return h.createUpdate("UPDATE content SET " + REQUEUE + " WHERE id = :id AND organization_id = :org")
                .define(Database.QUERY_TYPE, "embedding.requeue")
                .bind("id", id).bind("org", org).execute() == 1;
    }

    private static void writeVectors(Handle h, UUID id, List<float[]> vectors) {
        PreparedBatch batch = h.prepareBatch("""
                UPDATE content_passages SET embedding = CAST(:v AS vector)
                WHERE content_id = :id AND ordinal = :ordinal""");
        batch.define(Database.QUERY_TYPE, "embedding.vectors");
        for (int i = 0; i < vectors.size(); i++) {
            batch.bind("v", new PGvector(vectors.get(i)).toString()).bind("id", id).bind("ordinal", i).add();
        }
        batch.execute();
    }
}
