-- Embedding work is claimed in slices of a document's passages, taken round-robin across the
-- organizations that have work waiting, so one organization's large documents cannot hold
-- another's small ones for minutes.

-- The next passage ordinal without a vector while a document is queued: it is embedded slice by
-- slice, each slice its own claim, and the passages already embedded keep their vectors between
-- slices. Ready documents, edits and re-queues (which rewrite the passages under the document's
-- row lock) set it back to 0.
ALTER TABLE content ADD COLUMN embedding_next integer NOT NULL DEFAULT 0;

-- When each organization last had a slice claimed: the claim serves the organization with due
-- work that waited longest (never served first). One row per organization that ever had work.
CREATE TABLE embedding_turns (
    organization_id uuid        PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    served_at       timestamptz NOT NULL
);

-- The claim walks the organizations with unfinished documents (a loose index scan: one probe per
-- organization, not one row per document) and takes the oldest due document of each in turn.
-- It replaces the queue index on due time alone, which only the claim used.
CREATE INDEX idx_content_embedding_org_queue ON content (organization_id, embedding_due_at)
    WHERE embedding_status IN ('pending', 'processing');
DROP INDEX idx_content_embedding_queue;

-- Heartbeats renew, and shutdown releases, the leases of a node's claims by claim id.
CREATE INDEX idx_content_embedding_claim ON content (embedding_claim) WHERE embedding_claim IS NOT NULL;
