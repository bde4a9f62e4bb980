-- Auth hardening: access tokens answer to a session row, API keys answer to their creator.

-- One row per login (the refresh-token family). Every request with an access token checks its
-- session here (through the two-level cache), so revoking a session ends its access tokens at
-- once instead of when they expire.
CREATE TABLE sessions (
    id         uuid PRIMARY KEY,
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);
-- Sign-out-everywhere and password changes revoke a user's live sessions.
CREATE INDEX idx_sessions_user_live ON sessions (user_id) WHERE revoked_at IS NULL;

-- Sessions that exist already: a family is live while any of its tokens is.
INSERT INTO sessions (id, user_id, created_at, revoked_at)
SELECT family_id, user_id, min(created_at),
       CASE WHEN bool_and(revoked_at IS NOT NULL) THEN max(revoked_at) END
FROM refresh_tokens GROUP BY family_id, user_id;

ALTER TABLE refresh_tokens
    ADD CONSTRAINT refresh_tokens_session_fkey FOREIGN KEY (family_id) REFERENCES sessions (id) ON DELETE CASCADE;

-- Keys may expire; NULL means never.
ALTER TABLE api_keys ADD COLUMN expires_at timestamptz;

-- A key dies with its creator's account (it used to outlive it with created_by NULL).
ALTER TABLE api_keys DROP CONSTRAINT api_keys_created_by_fkey;
ALTER TABLE api_keys
    ADD CONSTRAINT api_keys_created_by_fkey FOREIGN KEY (created_by) REFERENCES users (id) ON DELETE CASCADE;
-- Demoting or removing a member finds the keys they created in that organization.
CREATE INDEX idx_api_keys_org_creator ON api_keys (organization_id, created_by);
