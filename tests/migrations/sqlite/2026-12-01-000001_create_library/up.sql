-- A small library: the toolkit's own tests use it, so they touch no table of
-- the order pipeline. SQLite ignores VARCHAR(n): lengths are CHECKs.
CREATE TABLE authors (
    id      INTEGER PRIMARY KEY,
    name    TEXT NOT NULL CHECK (length(name) <= 100),
    country TEXT CHECK (length(country) = 2)
);

CREATE TABLE books (
    id        INTEGER PRIMARY KEY,
    isbn      TEXT    NOT NULL CHECK (length(isbn) <= 13),
    title     TEXT    NOT NULL CHECK (length(title) <= 200),
    author_id BIGINT  NOT NULL REFERENCES authors (id),
    pages     INTEGER NOT NULL CHECK (pages > 0),
    in_stock  BOOLEAN NOT NULL DEFAULT 1,
    price     NUMERIC(10,2),
    CONSTRAINT books_isbn_key UNIQUE (isbn)
);
CREATE INDEX books_author_id_idx ON books (author_id);

CREATE TABLE loans (
    id          INTEGER PRIMARY KEY,
    book_id     BIGINT    NOT NULL REFERENCES books (id),
    borrower    TEXT      NOT NULL CHECK (length(borrower) <= 100),
    borrowed_at TIMESTAMP NOT NULL,
    returned_at TIMESTAMP
);
