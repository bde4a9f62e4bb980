-- Platform core: users, organizations, members, content, workflows, runs, credentials.
-- Ids are UUIDv7 made by the application, so rows arrive in time order and B-tree inserts
-- land on the right edge. Index names follow the performance guide.

-- pgvector must be created once per database by a superuser (make run / make test do it);
-- IF NOT EXISTS lets the application role pass this line afterwards.
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    email         text        NOT NULL,
    name          text        NOT NULL,
    password_hash text        NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
-- Emails are stored lower-cased, so a plain unique index is case-insensitive in effect.
CREATE UNIQUE INDEX idx_users_email ON users (email);

CREATE TABLE organizations (
    id         uuid PRIMARY KEY,
    name       text        NOT NULL,
    slug       text        NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX idx_organizations_slug ON organizations (slug);

CREATE TABLE organization_members (
    organization_id uuid        NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id         uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            text        NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    created_at      timestamptz NOT NULL,
    CONSTRAINT idx_members_org_user PRIMARY KEY (organization_id, user_id)
);
-- "My organizations" walks a user's memberships.
CREATE INDEX idx_members_user ON organization_members (user_id, organization_id) INCLUDE (role);
-- Member lists page by join time.
CREATE INDEX idx_members_org_created ON organization_members (organization_id, created_at DESC, user_id DESC);

CREATE TABLE content (
    id               uuid PRIMARY KEY,
    organization_id  uuid        NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    title            text        NOT NULL,
    body             text        NOT NULL,
    type             text        NOT NULL,
    mime_type        text        NOT NULL,
    tags             text[]      NOT NULL DEFAULT '{}',
    metadata         jsonb       NOT NULL DEFAULT '{}',
    embedding        vector(384),
    embedding_status text        NOT NULL DEFAULT 'pending'
        CHECK (embedding_status IN ('pending', 'processing', 'ready', 'failed')),
    embedding_error  text,
    created_by       uuid        REFERENCES users (id) ON DELETE SET NULL,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL
);
-- Keyset pagination on (created_at DESC, id DESC) within one organization; id breaks ties.
CREATE INDEX idx_content_org_created ON content (organization_id, created_at DESC, id DESC);
CREATE INDEX idx_content_tags ON content USING gin (tags);

CREATE TABLE workflows (
    id              uuid PRIMARY KEY,
    organization_id uuid        NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name            text        NOT NULL,
    description     text        NOT NULL DEFAULT '',
    definition      jsonb       NOT NULL,
    status          text        NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'active', 'paused', 'archived')),
    created_by      uuid        REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX idx_workflows_org_status ON workflows (organization_id, status, created_at DESC, id DESC);
CREATE INDEX idx_workflows_org_created ON workflows (organization_id, created_at DESC, id DESC);

CREATE TABLE workflow_runs (
    id              uuid PRIMARY KEY,
    organization_id uuid        NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    workflow_id     uuid        NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    status          text        NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    input           jsonb       NOT NULL DEFAULT '{}',
    output          jsonb,
    error           text,
    created_by      uuid        REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL,
    started_at      timestamptz,
    finished_at     timestamptz
);
CREATE INDEX idx_workflow_runs_workflow_created ON workflow_runs (workflow_id, created_at DESC, id DESC);
CREATE INDEX idx_workflow_runs_org_status ON workflow_runs (organization_id, status);

-- Refresh tokens rotate within a family (one login); reuse of a rotated token revokes the family.
CREATE TABLE refresh_tokens (
    id          uuid PRIMARY KEY,
    user_id     uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id   uuid        NOT NULL,
    token_hash  bytea       NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);
CREATE UNIQUE INDEX idx_refresh_tokens_hash ON refresh_tokens (token_hash);
CREATE INDEX idx_refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX idx_refresh_tokens_user ON refresh_tokens (user_id);

-- API keys: only a SHA-256 of the secret is kept; the key itself is shown once.
CREATE TABLE api_keys (
    id              uuid PRIMARY KEY,
    organization_id uuid        NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name            text        NOT NULL,
    role            text        NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
    prefix          text        NOT NULL,
    key_hash        bytea       NOT NULL,
    created_by      uuid        REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL,
    last_used_at    timestamptz
);
CREATE UNIQUE INDEX idx_api_keys_hash ON api_keys (key_hash);
CREATE INDEX idx_api_keys_org_created ON api_keys (organization_id, created_at DESC, id DESC);
