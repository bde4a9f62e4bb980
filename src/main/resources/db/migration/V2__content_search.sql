-- Content intelligence: passages with vectors and full-text vectors, the embedding queue,
-- trigram and metadata indexes. The vector index itself is built by the application
-- (VectorIndex) because its kind and parameters come from configuration.

-- pg_trgm is a trusted extension: the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Queue state of the embedding work, kept on the document itself so that claiming it and
-- changing the document are serialized by the same row lock.
ALTER TABLE content
    ADD COLUMN embedding_attempts   integer     NOT NULL DEFAULT 0,
    ADD COLUMN embedding_due_at     timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN embedding_claim      uuid,
    ADD COLUMN embedding_claimed_at timestamptz;

-- Workers claim the oldest due work first; the partial index holds only unfinished documents,
-- so it stays small however much content is ready.
CREATE INDEX idx_content_embedding_queue ON content (embedding_due_at)
    WHERE embedding_status IN ('pending', 'processing');

CREATE INDEX idx_content_title_trgm ON content USING gin (title gin_trgm_ops);
CREATE INDEX idx_content_metadata ON content USING gin (metadata jsonb_path_ops);

-- A document is searched through its passages: ordinal 0 is the title, then overlapping windows
-- of the body. Passages are written with the document (so keyword search finds it at once) and
-- get their vectors from the background workers. organization_id is copied here so that the
-- vector scan filters by tenant without a join.
CREATE TABLE content_passages (
    content_id      uuid    NOT NULL REFERENCES content (id) ON DELETE CASCADE,
    ordinal         integer NOT NULL,
    organization_id uuid    NOT NULL,
    text            text    NOT NULL,
    embedding       vector(384),
    tsv             tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', text), CASE WHEN ordinal = 0 THEN 'A' ELSE 'B' END::"char")
    ) STORED,
    PRIMARY KEY (content_id, ordinal)
);

CREATE INDEX idx_passages_org ON content_passages (organization_id);
CREATE INDEX idx_passages_tsv ON content_passages USING gin (tsv);

-- Documents written before passages existed are chunked and embedded again by the workers.
UPDATE content SET embedding_status = 'pending', embedding = NULL, embedding_due_at = now()
WHERE embedding_status <> 'pending';
