-- The order pipeline's runs and rejects are a flow's, in triglot_runs and
-- triglot_rejects (created by the flow engine on any schema).
DROP TABLE rejects;
DROP TABLE ingest_runs;
