DROP TABLE rejects;
DROP TABLE ingest_runs;
