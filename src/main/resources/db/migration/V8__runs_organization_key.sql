-- A run's organization is its workflow's, and deleting an organization already removes its runs
-- through its workflows (workflow_runs -> workflows and workflows -> organizations both cascade).
-- The direct key cost a KEY SHARE lock on the organization's row for every run inserted: under a
-- storm of starts /debug/queries showed runs.insert at ~70% of the database's time, and its plan
-- (EXPLAIN ANALYZE, 16 runs) spent 1.7 of 13.5 ms in this key's trigger.
ALTER TABLE workflow_runs DROP CONSTRAINT workflow_runs_organization_id_fkey;
