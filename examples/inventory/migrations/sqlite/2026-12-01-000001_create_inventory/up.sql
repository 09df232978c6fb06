CREATE TABLE warehouses (
    id   INTEGER PRIMARY KEY,
    code TEXT NOT NULL CHECK (length(code) <= 8),
    city TEXT NOT NULL CHECK (length(city) <= 100),
    CONSTRAINT warehouses_code_key UNIQUE (code)
);

CREATE TABLE items (
    id         INTEGER PRIMARY KEY,
    sku        TEXT    NOT NULL CHECK (length(sku) <= 32),
    name       TEXT    NOT NULL CHECK (length(name) <= 200),
    unit_grams INTEGER NOT NULL CHECK (unit_grams > 0),
    CONSTRAINT items_sku_key UNIQUE (sku)
);

CREATE TABLE stock_levels (
    id           INTEGER PRIMARY KEY,
    warehouse_id BIGINT    NOT NULL REFERENCES warehouses (id),
    item_id      BIGINT    NOT NULL REFERENCES items (id),
    quantity     BIGINT    NOT NULL CHECK (quantity >= 0),
    updated_at   TIMESTAMP NOT NULL,
    CONSTRAINT stock_levels_warehouse_item_key UNIQUE (warehouse_id, item_id)
);

CREATE TABLE stock_movements (
    id           INTEGER PRIMARY KEY,
    warehouse_id BIGINT    NOT NULL REFERENCES warehouses (id),
    item_id      BIGINT    NOT NULL REFERENCES items (id),
    delta        BIGINT    NOT NULL,
    moved_at     TIMESTAMP NOT NULL,
    confirmed_at TIMESTAMP
);
CREATE INDEX stock_movements_item_id_idx ON stock_movements (item_id);
CREATE INDEX stock_movements_warehouse_id_idx ON stock_movements (warehouse_id);
