CREATE TABLE warehouses (
    id   BIGINT       NOT NULL AUTO_INCREMENT,
    code VARCHAR(8)   NOT NULL,
    city VARCHAR(100) NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT warehouses_code_key UNIQUE (code)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE items (
    id         BIGINT       NOT NULL AUTO_INCREMENT,
    sku        VARCHAR(32)  NOT NULL,
    name       VARCHAR(200) NOT NULL,
    unit_grams INT          NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT items_sku_key UNIQUE (sku),
    CONSTRAINT items_unit_grams_check CHECK (unit_grams > 0)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE stock_levels (
    id           BIGINT      NOT NULL AUTO_INCREMENT,
    warehouse_id BIGINT      NOT NULL,
    item_id      BIGINT      NOT NULL,
    quantity     BIGINT      NOT NULL,
    updated_at   DATETIME(6) NOT NULL,
    PRIMARY KEY (id),
    CONSTRAINT stock_levels_warehouse_item_key UNIQUE (warehouse_id, item_id),
    CONSTRAINT stock_levels_warehouse_id_fkey FOREIGN KEY (warehouse_id) REFERENCES warehouses (id),
    CONSTRAINT stock_levels_item_id_fkey FOREIGN KEY (item_id) REFERENCES items (id),
    CONSTRAINT stock_levels_quantity_check CHECK (quantity >= 0)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE stock_movements (
    id           BIGINT      NOT NULL AUTO_INCREMENT,
    warehouse_id BIGINT      NOT NULL,
    item_id      BIGINT      NOT NULL,
    delta        BIGINT      NOT NULL,
    moved_at     DATETIME(6) NOT NULL,
    confirmed_at DATETIME(6) NULL,
    PRIMARY KEY (id),
    CONSTRAINT stock_movements_warehouse_id_fkey FOREIGN KEY (warehouse_id) REFERENCES warehouses (id),
    CONSTRAINT stock_movements_item_id_fkey FOREIGN KEY (item_id) REFERENCES items (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE INDEX stock_movements_item_id_idx ON stock_movements (item_id);
CREATE INDEX stock_movements_warehouse_id_idx ON stock_movements (warehouse_id);
