-- Transactions a run made again after a transient failure (a conflict or a
-- lost connection).
ALTER TABLE ingest_runs ADD COLUMN retries BIGINT NOT NULL DEFAULT 0 CHECK (retries >= 0);
