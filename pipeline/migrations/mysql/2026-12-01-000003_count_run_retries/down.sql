ALTER TABLE ingest_runs DROP COLUMN retries;
