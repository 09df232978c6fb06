-- What each load read, wrote and rejected, and every rejected record with its reason.
CREATE TABLE ingest_runs (
    id               BIGINT       NOT NULL AUTO_INCREMENT,
    started_at       DATETIME(6)  NOT NULL,
    finished_at      DATETIME(6)  NULL,
    status           VARCHAR(16)  NOT NULL,
    source           TEXT         NOT NULL,
    contract         VARCHAR(255) NOT NULL,
    records_read     BIGINT       NOT NULL,
    records_accepted BIGINT       NOT NULL,
    records_rejected BIGINT       NOT NULL,
    orders_inserted  BIGINT       NOT NULL,
    orders_updated   BIGINT       NOT NULL,
    orders_unchanged BIGINT       NOT NULL,
    error            TEXT         NULL,
    PRIMARY KEY (id),
    CONSTRAINT ingest_runs_status_check CHECK (status IN ('running', 'completed', 'failed')),
    CONSTRAINT ingest_runs_counts_check CHECK (records_read >= 0 AND records_accepted >= 0 AND records_rejected >= 0
        AND orders_inserted >= 0 AND orders_updated >= 0 AND orders_unchanged >= 0)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE rejects (
    id         BIGINT       NOT NULL AUTO_INCREMENT,
    run_id     BIGINT       NOT NULL,
    source     VARCHAR(255) NOT NULL,
    line       BIGINT       NOT NULL,
    field      VARCHAR(128) NULL,
    reason     VARCHAR(64)  NOT NULL,
    detail     TEXT         NOT NULL,
    raw        MEDIUMTEXT   NOT NULL,
    created_at DATETIME(6)  NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT rejects_run_id_fkey FOREIGN KEY (run_id) REFERENCES ingest_runs (id) ON DELETE CASCADE,
    CONSTRAINT rejects_line_check CHECK (line >= 0)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE INDEX rejects_run_id_idx ON rejects (run_id);

ALTER TABLE ingest_runs ADD COLUMN retries BIGINT NOT NULL DEFAULT 0 CHECK (retries >= 0);
