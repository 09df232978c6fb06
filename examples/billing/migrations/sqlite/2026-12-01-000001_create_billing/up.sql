-- SQLite ignores VARCHAR(n): lengths are CHECKs. Its NUMERIC keeps
-- decimals as REAL, exact to 15 digits, which these columns stay within.

-- Regions have no foreign key from sites: the quality report checks that
-- link as a logical key (quality.toml).
CREATE TABLE regions (
    code TEXT NOT NULL PRIMARY KEY CHECK (length(code) <= 8),
    name TEXT NOT NULL CHECK (length(name) <= 100)
);

CREATE TABLE sites (
    id        INTEGER PRIMARY KEY,
    name      TEXT    NOT NULL CHECK (length(name) <= 100),
    region    TEXT    NOT NULL CHECK (length(region) <= 8),
    opened_on DATE    NOT NULL
);

CREATE TABLE invoices (
    id        INTEGER       PRIMARY KEY,
    site_id   BIGINT        NOT NULL REFERENCES sites (id),
    issued_on DATE          NOT NULL,
    currency  TEXT          NOT NULL CHECK (length(currency) <= 3),
    paid      BOOLEAN       NOT NULL DEFAULT 0,
    total     NUMERIC(12,2) NOT NULL
);
CREATE INDEX invoices_site_id_idx ON invoices (site_id);

CREATE TABLE invoice_items (
    invoice_id BIGINT        NOT NULL REFERENCES invoices (id),
    item_no    INTEGER       NOT NULL,
    kwh        NUMERIC(12,3) NOT NULL CHECK (kwh >= 0),
    rate       NUMERIC(8,5)  NOT NULL,
    discount   NUMERIC(4,3)  NOT NULL DEFAULT 0,
    amount     NUMERIC(12,2) NOT NULL,
    PRIMARY KEY (invoice_id, item_no)
);
