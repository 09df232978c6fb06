-- A small library: the toolkit's own tests use it, so they touch no table of
-- the order pipeline.
CREATE TABLE authors (
    id      BIGINT       NOT NULL AUTO_INCREMENT,
    name    VARCHAR(100) NOT NULL,
    country VARCHAR(2)   NULL,
    PRIMARY KEY (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE books (
    id        BIGINT       NOT NULL AUTO_INCREMENT,
    isbn      VARCHAR(13)  NOT NULL,
    title     VARCHAR(200) NOT NULL,
    author_id BIGINT       NOT NULL,
    pages     INT          NOT NULL,
    in_stock  BOOLEAN      NOT NULL DEFAULT TRUE,
    price     DECIMAL(10,2),
    PRIMARY KEY (id),
    CONSTRAINT books_isbn_key UNIQUE (isbn),
    CONSTRAINT books_author_id_fkey FOREIGN KEY (author_id) REFERENCES authors (id),
    CONSTRAINT books_pages_check CHECK (pages > 0)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
CREATE INDEX books_author_id_idx ON books (author_id);

CREATE TABLE loans (
    id          BIGINT       NOT NULL AUTO_INCREMENT,
    book_id     BIGINT       NOT NULL,
    borrower    VARCHAR(100) NOT NULL,
    borrowed_at DATETIME(6)  NOT NULL,
    returned_at DATETIME(6)  NULL,
    PRIMARY KEY (id),
    CONSTRAINT loans_book_id_fkey FOREIGN KEY (book_id) REFERENCES books (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
