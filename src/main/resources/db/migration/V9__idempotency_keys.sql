-- Idempotency-Key on POST (ai.arches.idempotency.Idempotency): one row per caller and key.
-- In flight: status IS NULL, lock_token names the request that holds it, locked_until is when a
-- retry may take it over (its node died). Completed: status, the kept headers and the response
-- body (sealed with AES-GCM under a key derived from auth.token_secret, since a body may carry a
-- secret shown once, such as a new API key). Rows older than 24 h are ignored and swept.
-- owner_id is the user's id or the API key's id (both UUIDv7, never equal); no foreign key, so
-- a claim takes no lock on the users or api_keys row, and a row outlives its owner by 24 h at most.
CREATE TABLE idempotency_keys (
    owner_id     uuid        NOT NULL,
    key          text        NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    fingerprint  bytea       NOT NULL,
    created_at   timestamptz NOT NULL,
    locked_until timestamptz,
    lock_token   uuid,
    status       smallint,
    headers      jsonb,
    body         bytea,
    PRIMARY KEY (owner_id, key),
    CHECK ((status IS NULL) = (lock_token IS NOT NULL))
);
-- The sweep deletes rows past the retention in bounded batches, oldest first.
CREATE INDEX idx_idempotency_keys_created ON idempotency_keys (created_at);
-- The sealed body is random bytes: compressing it would only cost CPU.
ALTER TABLE idempotency_keys ALTER COLUMN body SET STORAGE EXTERNAL;
