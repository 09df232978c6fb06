//! The generic writes on a schema triglot has never seen: bulk load in every
//! statement size, upsert by a unique key, insert returning the new id.

use diesel::prelude::*;

use crate::library::{MIGRATIONS, NewAuthor, NewBook, NewLoan, at, authors, book, books, loans};

triglot::backend_test!(
    bulk_insert_loads_every_row_of_any_table,
    fixtures("shelf"),
    |db| -> triglot::Result<()> {
        // 1,234 rows: every fixed statement size of SQLite's and MySQL's paths
        // (1,000, 100, 10, 1 rows), one COPY on PostgreSQL.
        let rows: Vec<NewBook> = (10..1_244).map(|n| book(n, n as i32)).collect();
        let writes = db.writes();
        let inserted =
            db.write("loading books", |conn| writes.bulk_insert(conn, books::table, rows.clone()))?;
        assert_eq!(inserted, rows.len());
        let stored: Vec<NewBook> = db.run("reading books", |conn| {
            books::table
                .filter(books::id.gt(3))
                .order(books::id)
                .select(NewBook::as_select())
                .load(conn)
        })?;
        assert_eq!(stored, rows, "on {}", D::NAME);
        Ok(())
    }
);

triglot::backend_test!(
    bulk_insert_keeps_timestamps_and_nulls,
    fixtures("shelf"),
    |db| -> triglot::Result<()> {
        let rows: Vec<NewLoan> = (0..25)
            .map(|n| NewLoan {
                book_id: 1 + n % 3,
                borrower: format!("reader {n} 𝄞"),
                borrowed_at: at(1, n as u32 * 7),
                returned_at: (n % 2 == 0).then(|| at(20, 999_999)),
            })
            .collect();
        let writes = db.writes();
        db.write("loading loans", |conn| writes.bulk_insert(conn, loans::table, rows.clone()))?;
        let stored: Vec<(i64, String, chrono::NaiveDateTime, Option<chrono::NaiveDateTime>)> =
            db.run("reading loans", |conn| {
                loans::table
                    .order(loans::id)
                    .select((
                        loans::book_id,
                        loans::borrower,
                        loans::borrowed_at,
                        loans::returned_at,
                    ))
                    .load(conn)
            })?;
        let expected: Vec<_> = rows
            .into_iter()
            .map(|r| (r.book_id, r.borrower, r.borrowed_at, r.returned_at))
            .collect();
        assert_eq!(stored, expected, "on {}", D::NAME);
        Ok(())
    }
);

triglot::backend_test!(
    upsert_inserts_new_keys_and_updates_the_named_columns_of_existing_ones,
    fixtures("shelf"),
    |db| -> triglot::Result<()> {
        let writes = db.writes();
        let renamed = NewBook {
            isbn: "9780156027601".into(),
            title: "Solaris (new translation)".into(),
            author_id: 1,
            pages: 230,
            in_stock: false,
        };
        let rows = vec![renamed.clone(), book(99, 10)];
        let upsert = |rows: Vec<NewBook>| {
            db.write("upserting books", |conn| {
                writes.upsert(
                    conn,
                    books::table,
                    rows,
                    (books::isbn,),
                    (books::title, books::pages),
                )
            })
        };
        upsert(rows.clone())?;
        upsert(rows)?;
        let stored: Vec<(i64, String, String, i64, i32)> = db.run("reading books", |conn| {
            books::table
                .order(books::id)
                .select((books::id, books::isbn, books::title, books::author_id, books::pages))
                .load(conn)
        })?;
        assert_eq!(stored.len(), 4, "one new book, written once: {stored:?}");
        // The existing row keeps its id and the columns not named for update.
        assert_eq!(stored[1], (2, renamed.isbn.clone(), renamed.title.clone(), 2, 230));
        assert_eq!(stored[3].1, book(99, 10).isbn);

        // Nothing to update: an existing key is left as it is.
        let ignored = NewBook { title: "ignored".into(), ..renamed.clone() };
        db.write("upserting again", |conn| {
            writes.upsert(conn, books::table, vec![ignored], (books::isbn,), ())
        })?;
        let title: String = db.run("reading a title", |conn| {
            books::table.filter(books::isbn.eq(&renamed.isbn)).select(books::title).first(conn)
        })?;
        assert_eq!(title, renamed.title);

        // More rows than one statement's bind limit allows at the table's width.
        let many: Vec<NewBook> = (1_000..12_000).map(|n| book(n, 1)).collect();
        db.write("upserting many", |conn| {
            writes.upsert(conn, books::table, many, (books::isbn,), (books::title, books::pages))
        })?;
        let count: i64 = db.run("counting", |conn| books::table.count().get_result(conn))?;
        assert_eq!(count, 4 + 11_000);
        Ok(())
    }
);

triglot::backend_test!(
    insert_returning_id_gives_each_new_row_its_key,
    |db| -> triglot::Result<()> {
        let writes = db.writes();
        let (a, b) = db.write("adding authors", |conn| {
            let a = writes.insert_returning_id(
                conn,
                authors::table,
                NewAuthor { name: "Calvino".into(), country: Some("IT".into()) },
            )?;
            let b = writes.insert_returning_id(
                conn,
                authors::table,
                NewAuthor { name: "Borges".into(), country: None },
            )?;
            Ok((a, b))
        })?;
        assert_ne!(a, b);
        let names: Vec<(i64, String)> = db.run("reading authors", |conn| {
            authors::table.order(authors::id).select((authors::id, authors::name)).load(conn)
        })?;
        assert_eq!(
            names,
            [(a, "Calvino".to_string()), (b, "Borges".to_string())],
            "on {}",
            D::NAME
        );
        Ok(())
    }
);

triglot::backend_test!(
    rows_known_only_at_run_time_are_inserted_and_upserted,
    fixtures("shelf"),
    |db| -> triglot::Result<()> {
        use triglot::values::SqlValue;

        let schema = db.introspect()?;
        let price_type =
            schema.tables["books"].column("price").expect("price").declared_type.clone();
        let columns: Vec<String> =
            ["isbn", "title", "author_id", "pages", "in_stock", "price"].map(String::from).to_vec();
        let row = |isbn: &str, title: &str, pages: i64, price: Option<&str>| {
            vec![
                SqlValue::Text(isbn.into()),
                SqlValue::Text(title.into()),
                SqlValue::Int(2),
                SqlValue::Int(pages),
                SqlValue::Bool(pages > 100),
                price.map_or(SqlValue::Null, |p| SqlValue::Decimal {
                    text: p.into(),
                    cast: price_type.clone(),
                }),
            ]
        };
        let writes = db.writes();
        // More rows than one statement takes at this width on every backend.
        let many: Vec<Vec<SqlValue>> = (0..12_000)
            .map(|n| row(&format!("x{n}"), "“Bulk”", n + 1, (n % 3 == 0).then_some("0.10")))
            .collect();
        db.write("inserting rows", |conn| writes.insert_values(conn, "books", &columns, &many))?;
        let update = ["title".to_string(), "price".to_string()];
        let key = ["isbn".to_string()];
        let again = vec![
            row("9780156027601", "Solaris (1961)", 204, Some("12.50")),
            row("new", "New", 5, None),
        ];
        db.write("upserting rows", |conn| {
            writes.upsert_values(conn, "books", &columns, &again, &key, &update)
        })?;

        let count: i64 = db.run("counting", |conn| books::table.count().get_result(conn))?;
        assert_eq!(count, 3 + 12_000 + 1, "on {}", D::NAME);
        let solaris: (String, i32, i64) = db.run("reading", |conn| {
            books::table
                .filter(books::isbn.eq("9780156027601"))
                .select((books::title, books::pages, books::author_id))
                .first(conn)
        })?;
        assert_eq!(solaris, ("Solaris (1961)".to_string(), 204, 2));
        // Decimals went in exactly: 4,000 × 0.10 + 12.50, summed by the server.
        let cents: i64 = db.run("summing prices", |conn| {
            diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
                "(SELECT CAST(SUM(price) * 100 AS {}) FROM books)",
                D::BIGINT_CAST
            )))
            .get_result(conn)
        })?;
        assert_eq!(cents, 4_000 * 10 + 1_250, "on {}", D::NAME);
        Ok(())
    }
);

triglot::backend_test!(
    an_upsert_of_many_rows_returns_the_id_of_each_row_it_wrote_where_the_backend_can,
    fixtures("shelf"),
    |db| -> triglot::Result<()> {
        use std::collections::HashMap;
        use triglot::values::SqlValue;

        let columns: Vec<String> =
            ["isbn", "title", "author_id", "pages"].map(String::from).to_vec();
        let row = |isbn: String, title: &str, pages: i64| {
            vec![
                SqlValue::Text(isbn),
                SqlValue::Text(title.into()),
                SqlValue::Int(2),
                SqlValue::Int(pages),
            ]
        };
        // Enough rows for PostgreSQL's staging table (64 or more).
        let rows: Vec<Vec<SqlValue>> =
            (0..200).map(|n| row(format!("r{n:03}"), "Returned", n + 1)).collect();
        let (key, update) = (["isbn".to_string()], ["title".to_string()]);
        let writes = db.writes();
        let upsert = |rows: &[Vec<SqlValue>], update: &[String]| {
            db.write("upserting rows", |conn| {
                let upsert = triglot::values::Upsert {
                    table: "books",
                    columns: &columns,
                    rows,
                    key: &key,
                    update,
                };
                writes.upsert_values_returning(conn, &upsert, "id")
            })
        };
        let stored = || -> triglot::Result<HashMap<String, i64>> {
            let pairs: Vec<(String, i64)> = db.run("reading ids", |conn| {
                books::table.select((books::isbn, books::id)).load(conn)
            })?;
            Ok(pairs.into_iter().collect())
        };
        let as_map = |ids: Vec<triglot::values::KeyId>| -> HashMap<String, i64> {
            ids.into_iter().map(|r| (r.k, r.n)).collect()
        };

        let first = upsert(&rows, &update)?;
        let ids = stored()?;
        assert_eq!(ids.len(), 3 + 200, "on {}", D::NAME);
        // MariaDB returns rows from an INSERT since 10.5, MySQL never.
        let server = db.server_version();
        if D::KEY == "mysql" {
            let mariadb = server.is_mariadb() && server.at_least(10, 5, 0);
            assert_eq!(db.capabilities().insert_returning, mariadb, "on {}", server.text);
        }
        if !db.capabilities().insert_returning {
            assert!(first.is_none(), "{} has no RETURNING", D::NAME);
            return Ok(());
        }
        let first = first.expect("ids returned");
        // New ids in the order of the rows given.
        let order: Vec<i64> = first.iter().map(|r| r.n).collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "on {}: {order:?}", D::NAME);
        let first = as_map(first);
        assert_eq!(first.len(), 200, "on {}", D::NAME);
        assert!(first.iter().all(|(k, n)| ids.get(k) == Some(n)), "on {}", D::NAME);

        // Rows updated come back too. With nothing to update, every new row
        // does; a row found stored may (MariaDB) or may not, and any that
        // does carries its stored id.
        let changed: Vec<Vec<SqlValue>> =
            (0..200).map(|n| row(format!("r{n:03}"), "Changed", n + 1)).collect();
        let again = as_map(upsert(&changed, &update)?.expect("ids returned"));
        assert_eq!(again, first, "on {}", D::NAME);
        let mixed: Vec<Vec<SqlValue>> =
            (130..270).map(|n| row(format!("r{n:03}"), "Mixed", n + 1)).collect();
        let new = as_map(upsert(&mixed, &[])?.expect("ids returned"));
        let ids = stored()?;
        assert_eq!(ids.len(), 3 + 270, "on {}", D::NAME);
        assert!(new.iter().all(|(k, n)| ids.get(k) == Some(n)), "on {}: {new:?}", D::NAME);
        let added = new.keys().filter(|k| k.as_str() >= "r200").count();
        assert_eq!(added, 70, "on {}", D::NAME);
        assert!(new.keys().all(|k| k.as_str() >= "r130"), "on {}", D::NAME);

        // A refusal names the table's own constraint, never a staging table.
        let mut refused = changed;
        refused[150][3] = SqlValue::Int(0);
        let err = upsert(&refused, &update).unwrap_err();
        assert_eq!(err.kind(), Some(triglot::ErrorKind::CheckViolation), "on {}: {err}", D::NAME);
        assert!(!err.to_string().contains("triglot_stage"), "on {}: {err}", D::NAME);
        Ok(())
    }
);

triglot::backend_test!(
    statements_built_at_run_time_bind_values_and_load_rows,
    fixtures("shelf"),
    |db| -> triglot::Result<()> {
        use diesel::sql_types::{BigInt, Text};
        use triglot::values::{SqlValue, Statement};

        #[derive(diesel::QueryableByName, Debug, PartialEq)]
        struct Row {
            #[diesel(sql_type = Text)]
            isbn: String,
            #[diesel(sql_type = BigInt)]
            pages: i64,
        }

        let keys = ["9780156027601", "0000000000000", "it's \"quoted\""];
        let mut select = Statement::new("SELECT ");
        select
            .ident("isbn")
            .sql(", CAST(")
            .ident("pages")
            .sql(format!(" AS {}) AS ", D::BIGINT_CAST));
        select.ident("pages").sql(" FROM ").ident("books").sql(" WHERE ").ident("isbn");
        select.sql(" IN (").values(keys.map(|k| SqlValue::Text(k.into()))).sql(") ORDER BY 1");
        assert_eq!(select.binds(), 3);
        let rows: Vec<Row> = db.run("selecting", |conn| select.load(conn))?;
        assert_eq!(rows, [Row { isbn: "9780156027601".into(), pages: 204 }], "on {}", D::NAME);

        let mut delete = Statement::new("DELETE FROM ");
        delete.ident("loans").sql(" WHERE ").ident("borrower").sql(" IN (");
        delete.values([SqlValue::Text("nobody".into()), SqlValue::Null]).sql(")");
        let deleted = db.write("deleting nothing", |conn| delete.execute(conn))?;
        assert_eq!(deleted, 0, "on {}", D::NAME);
        Ok(())
    }
);

triglot::backend_test!(
    rows_known_only_at_run_time_go_through_the_bulk_path_unchanged,
    fixtures("shelf"),
    |db| -> triglot::Result<()> {
        use diesel::sql_types::{BigInt, Nullable, Text};
        use triglot::values::{SqlValue, Statement};

        #[derive(diesel::QueryableByName, Debug, PartialEq)]
        struct Loan {
            #[diesel(sql_type = Text)]
            borrower: String,
            #[diesel(sql_type = BigInt)]
            book_id: i64,
            #[diesel(sql_type = Nullable<Text>)]
            returned: Option<String>,
        }

        let columns: Vec<String> =
            ["book_id", "borrower", "borrowed_at", "returned_at"].map(String::from).to_vec();
        let at = |h| {
            chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
                .unwrap()
                .and_hms_micro_opt(h, 5, 0, 250)
                .unwrap()
        };
        // Text COPY reads tabs, newlines and backslashes specially; these must arrive as written.
        let odd = "tab\there\\back\nline\r“quote” 'single'";
        let mut rows = vec![vec![
            SqlValue::Int(1),
            SqlValue::Text(odd.into()),
            SqlValue::Timestamp(at(9)),
            SqlValue::Null,
        ]];
        for n in 0..5_000 {
            rows.push(vec![
                SqlValue::Int(2),
                SqlValue::Text(format!("reader {n}")),
                SqlValue::Timestamp(at(10)),
                SqlValue::Timestamp(at(11)),
            ]);
        }
        let writes = db.writes();
        let written = db
            .write("bulk rows", |conn| writes.bulk_insert_values(conn, "loans", &columns, &rows))?;
        assert_eq!(written, 5_001, "on {}", D::NAME);
        let mut select = Statement::new("SELECT borrower, CAST(book_id AS ");
        select.sql(format!("{}) AS book_id, SUBSTR(CAST(returned_at AS CHAR(32)), 1, 19) AS returned FROM loans WHERE borrower IN (", D::BIGINT_CAST));
        select
            .values([SqlValue::Text(odd.into()), SqlValue::Text("reader 4999".into())])
            .sql(") ORDER BY book_id");
        let loans: Vec<Loan> = db.run("reading", |conn| select.load(conn))?;
        assert_eq!(
            loans,
            [
                Loan { borrower: odd.into(), book_id: 1, returned: None },
                Loan {
                    borrower: "reader 4999".into(),
                    book_id: 2,
                    returned: Some("2026-12-01 11:05:00".into())
                },
            ],
            "on {}",
            D::NAME
        );
        Ok(())
    }
);

triglot::backend_test!(
    statistics_are_refreshed_after_a_bulk_load_where_the_planner_needs_them,
    fixtures("shelf"),
    |db| -> triglot::Result<()> {
        #[derive(diesel::QueryableByName)]
        struct Estimate {
            #[diesel(sql_type = diesel::sql_types::Double)]
            rows: f64,
        }

        let rows: Vec<NewBook> = (10..2_010).map(|n| book(n, n as i32)).collect();
        let writes = db.writes();
        db.write("loading books", |conn| writes.bulk_insert(conn, books::table, rows))?;
        let ran = db.run("refreshing", |conn| writes.refresh_statistics(conn, "books"))?;
        assert_eq!(ran, db.capabilities().refresh_statistics.is_some(), "on {}", D::NAME);
        if D::KEY == "postgres" {
            // ANALYZE counted the rows: the planner estimates from them.
            let sql = "SELECT CAST(reltuples AS DOUBLE PRECISION) AS rows FROM pg_class WHERE relname = 'books'";
            let estimate: Estimate = db.run("reading the estimate", |conn| {
                triglot::values::Statement::new(sql).get_result(conn)
            })?;
            assert!(estimate.rows >= 2_000.0, "{}", estimate.rows);
        }
        Ok(())
    }
);
