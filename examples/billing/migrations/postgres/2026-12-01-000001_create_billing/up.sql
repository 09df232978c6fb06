-- Regions have no foreign key from sites: the quality report checks that
-- link as a logical key (quality.toml).
CREATE TABLE regions (
    code VARCHAR(8)   NOT NULL PRIMARY KEY,
    name VARCHAR(100) NOT NULL
);

CREATE TABLE sites (
    id        BIGINT       PRIMARY KEY,
    name      VARCHAR(100) NOT NULL,
    region    VARCHAR(8)   NOT NULL,
    opened_on DATE         NOT NULL
);

CREATE TABLE invoices (
    id        BIGINT        PRIMARY KEY,
    site_id   BIGINT        NOT NULL REFERENCES sites (id),
    issued_on DATE          NOT NULL,
    currency  VARCHAR(3)    NOT NULL,
    paid      BOOLEAN       NOT NULL DEFAULT FALSE,
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
