-- The run tables are a queue: every run inserts a run, its steps and events, then updates the run
-- and each step once or twice. Autovacuum's defaults (vacuum at 20% dead rows, analyze at 10%
-- changed) let them carry a long tail of dead rows and, worse, keep the statistics of the table as
-- it was: a table analyzed while small (a new deployment, or after a retention purge) gives every
-- connection cached plans that scan it whole. Measured on this machine's PostgreSQL, which runs
-- with autovacuum off: one-step runs went from 1,039/s with analyzed history to 447/s on tables
-- created fresh and 248/s on tables analyzed empty then filled (the foreign-key checks and the
-- executor's "id = ANY(...)" lookups turned into sequential scans). Vacuum and analyze them often.
ALTER TABLE workflow_runs SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02,
                               autovacuum_vacuum_insert_scale_factor = 0.05);
ALTER TABLE workflow_steps SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02,
                                autovacuum_vacuum_insert_scale_factor = 0.05);
ALTER TABLE workflow_run_events SET (autovacuum_vacuum_scale_factor = 0.05, autovacuum_analyze_scale_factor = 0.05,
                                     autovacuum_vacuum_insert_scale_factor = 0.05);
