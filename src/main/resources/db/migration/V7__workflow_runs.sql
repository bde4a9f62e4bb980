-- Workflow runs: the executor's durable state. A run keeps the definition it started with; each
-- node of it is one step row; every change a client can watch is one event row, numbered per run
-- (the Server-Sent Events id, so a client resumes with Last-Event-ID).
--
-- Every change to a run or its steps is made under the run's row lock (SELECT ... FOR UPDATE),
-- so parallel branches finishing at once cannot both miss, or both make, the run's last move.

ALTER TABLE workflow_runs
    ADD COLUMN definition jsonb     NOT NULL DEFAULT '{}',
    ADD COLUMN updated_at timestamptz,
    ADD COLUMN event_seq  bigint    NOT NULL DEFAULT 0,
    -- Share of the steps finished, kept with the run so a list page needs no step rows.
    ADD COLUMN progress   double precision NOT NULL DEFAULT 0;
ALTER TABLE workflow_runs ALTER COLUMN definition DROP DEFAULT;
UPDATE workflow_runs SET updated_at = created_at;
ALTER TABLE workflow_runs ALTER COLUMN updated_at SET NOT NULL;

-- Lists: an organization's runs newest first, by status, by workflow (the last exists).
CREATE INDEX idx_workflow_runs_org_created ON workflow_runs (organization_id, created_at DESC, id DESC);
CREATE INDEX idx_workflow_runs_org_status_created ON workflow_runs (organization_id, status, created_at DESC, id DESC);
DROP INDEX idx_workflow_runs_org_status;

CREATE TABLE workflow_steps (
    run_id          uuid        NOT NULL REFERENCES workflow_runs (id) ON DELETE CASCADE,
    node_id         text        NOT NULL,
    -- Denormalized from the run: the claim limits steps running per organization.
    organization_id uuid        NOT NULL,
    ordinal         integer     NOT NULL,
    tool            text,
    status          text        NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'skipped', 'cancelled')),
    -- Predecessors that have not succeeded yet; a pending step with none left is due at ready_at.
    waiting         integer     NOT NULL,
    ready_at        timestamptz,
    attempts        integer     NOT NULL DEFAULT 0,
    lease_owner     uuid,
    lease_until     timestamptz,
    started_at      timestamptz,
    finished_at     timestamptz,
    output          jsonb,
    error           text,
    PRIMARY KEY (run_id, node_id)
);
-- The claim: due steps oldest first.
CREATE INDEX idx_workflow_steps_due ON workflow_steps (ready_at) WHERE status = 'pending' AND waiting = 0;
-- Running steps per organization (the concurrency limit), and expired leases (the reaper).
CREATE INDEX idx_workflow_steps_running_org ON workflow_steps (organization_id) WHERE status = 'running';
CREATE INDEX idx_workflow_steps_running_lease ON workflow_steps (lease_until) WHERE status = 'running';

CREATE TABLE workflow_run_events (
    run_id     uuid        NOT NULL REFERENCES workflow_runs (id) ON DELETE CASCADE,
    seq        bigint      NOT NULL,
    type       text        NOT NULL CHECK (type IN ('run', 'step')),
    data       jsonb       NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (run_id, seq)
);
