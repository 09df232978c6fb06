-- What each load read, wrote and rejected, and every rejected record with its reason.
CREATE TABLE ingest_runs (
    id               INTEGER PRIMARY KEY,
    started_at       TIMESTAMP NOT NULL,
    finished_at      TIMESTAMP,
    status           TEXT      NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
    source           TEXT      NOT NULL,
    contract         TEXT      NOT NULL CHECK (length(contract) <= 255),
    records_read     BIGINT    NOT NULL CHECK (records_read >= 0),
    records_accepted BIGINT    NOT NULL CHECK (records_accepted >= 0),
    records_rejected BIGINT    NOT NULL CHECK (records_rejected >= 0),
    orders_inserted  BIGINT    NOT NULL CHECK (orders_inserted >= 0),
    orders_updated   BIGINT    NOT NULL CHECK (orders_updated >= 0),
    orders_unchanged BIGINT    NOT NULL CHECK (orders_unchanged >= 0),
    error            TEXT
);

CREATE TABLE rejects (
    id         INTEGER PRIMARY KEY,
    run_id     BIGINT    NOT NULL REFERENCES ingest_runs (id) ON DELETE CASCADE,
    source     TEXT      NOT NULL CHECK (length(source) <= 255),
    line       BIGINT    NOT NULL CHECK (line >= 0),
    field      TEXT               CHECK (length(field) <= 128),
    reason     TEXT      NOT NULL CHECK (length(reason) <= 64),
    detail     TEXT      NOT NULL,
    raw        TEXT      NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX rejects_run_id_idx ON rejects (run_id);

ALTER TABLE ingest_runs ADD COLUMN retries BIGINT NOT NULL DEFAULT 0 CHECK (retries >= 0);
