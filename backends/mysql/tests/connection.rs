//! triglot's own MySQL connection against the real server: rows stream in
//! order with every type diesel reads, buffers grow for long values, rows
//! kept past the next fetch keep their values, a cursor dropped half-way
//! leaves the connection usable, errors carry diesel's kinds, and no
//! password reaches an error.
//!
//! Each test works in temporary tables of its own connection, so tests
//! running at once do not meet.
#![allow(missing_docs)]

use diesel::connection::{LoadConnection, SimpleConnection};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error};
use diesel::row::{Field, Row};
use diesel::sql_types::{BigInt, Integer, Nullable, Text};
use triglot_mysql::MysqlConnection;

fn url() -> String {
    std::env::var("TRIGLOT_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".into())
}

fn connect() -> MysqlConnection {
    MysqlConnection::establish(&url())
        .unwrap_or_else(|e| panic!("MySQL is needed (bash scripts/services.sh starts it): {e}"))
}

diesel::table! {
    /// The test's temporary table.
    things (id) {
        id -> BigInt,
        label -> Text,
        note -> Nullable<Text>,
        count -> Unsigned<Integer>,
        at -> Datetime,
        ratio -> Double,
        data -> Nullable<Binary>,
    }
}

#[derive(Queryable, Selectable, Insertable, Debug, PartialEq, Clone)]
#[diesel(table_name = things)]
struct Thing {
    id: i64,
    label: String,
    note: Option<String>,
    count: u32,
    at: chrono::NaiveDateTime,
    ratio: f64,
    data: Option<Vec<u8>>,
}

fn things(conn: &mut MysqlConnection, n: i64) -> Vec<Thing> {
    conn.batch_execute(
        "CREATE TEMPORARY TABLE things (id BIGINT PRIMARY KEY, label VARCHAR(20) NOT NULL, \
         note LONGTEXT, count INT UNSIGNED NOT NULL, at DATETIME(6) NOT NULL, \
         ratio DOUBLE NOT NULL, data BLOB) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
    )
    .expect("a temporary table");
    let anchor =
        chrono::DateTime::from_timestamp(1_764_000_000, 123_456_000).expect("a time").naive_utc();
    let rows: Vec<Thing> = (1..=n)
        .map(|i| Thing {
            id: i,
            label: format!("thing {i} ✓"),
            // Every seventh note is NULL, every tenth longer than any buffer
            // the cursor starts with.
            note: (i % 7 != 0)
                .then(|| "n".repeat(if i % 10 == 0 { 70_000 } else { i as usize % 50 })),
            count: u32::MAX - i as u32,
            at: anchor + chrono::TimeDelta::microseconds(i * 1_000_001),
            ratio: i as f64 / 3.0,
            data: (i % 2 == 0).then(|| vec![0, 1, 2, i as u8, 255]),
        })
        .collect();
    for chunk in rows.chunks(100) {
        diesel::insert_into(things::table).values(chunk).execute(conn).expect("insert");
    }
    rows
}

#[test]
fn rows_stream_in_order_with_every_type_and_long_values_mysql() {
    let mut conn = connect();
    let written = things(&mut conn, 300);
    let read: Vec<Thing> =
        things::table.order_by(things::id).select(Thing::as_select()).load(&mut conn).unwrap();
    assert_eq!(read, written);
    // The same rows one at a time, through load_iter.
    let mut n = 0;
    for (row, want) in things::table
        .order_by(things::id)
        .select(Thing::as_select())
        .load_iter::<Thing, diesel::connection::DefaultLoadingMode>(&mut conn)
        .unwrap()
        .zip(&written)
    {
        assert_eq!(&row.unwrap(), want);
        n += 1;
    }
    assert_eq!(n, written.len());
}

#[test]
fn a_row_kept_past_the_next_fetch_keeps_its_values_mysql() {
    let mut conn = connect();
    let written = things(&mut conn, 50);
    let query = things::table.order_by(things::id).select((things::id, things::note));
    let rows: Vec<_> = conn.load(query).unwrap().collect::<Result<_, _>>().unwrap();
    assert_eq!(rows.len(), 50);
    for (row, want) in rows.iter().zip(&written) {
        let id = row.get(0).expect("an id column");
        let id = id.value().map(|v| {
            <i64 as diesel::deserialize::FromSql<BigInt, diesel::mysql::Mysql>>::from_sql(v)
                .unwrap()
        });
        assert_eq!(id, Some(want.id));
        let note = row.get("note").expect("a note column");
        assert_eq!(note.field_name(), Some("note"));
        assert_eq!(note.is_null(), want.note.is_none());
        assert_eq!(note.value().map(|v| v.as_bytes().len()), want.note.as_ref().map(String::len));
    }
}

#[test]
fn a_cursor_dropped_half_way_leaves_the_connection_usable_mysql() {
    let mut conn = connect();
    things(&mut conn, 500);
    {
        let mut rows = things::table
            .order_by(things::id)
            .select(things::id)
            .load_iter::<i64, diesel::connection::DefaultLoadingMode>(&mut conn)
            .unwrap();
        assert_eq!(rows.next().map(Result::unwrap), Some(1));
        assert_eq!(rows.next().map(Result::unwrap), Some(2));
    }
    let total: i64 = things::table.count().get_result(&mut conn).unwrap();
    assert_eq!(total, 500);
    // And inside a transaction, rolled back.
    conn.transaction::<(), Error, _>(|c| {
        diesel::delete(things::table.filter(things::id.gt(10))).execute(c)?;
        let left: i64 = things::table.count().get_result(c)?;
        assert_eq!(left, 10);
        Err(Error::RollbackTransaction)
    })
    .unwrap_err();
    let total: i64 = things::table.count().get_result(&mut conn).unwrap();
    assert_eq!(total, 500, "the rollback restored the rows");
}

#[test]
fn constraint_errors_carry_diesel_kinds_and_the_servers_words_mysql() {
    let mut conn = connect();
    things(&mut conn, 3);
    conn.batch_execute(
        "CREATE TEMPORARY TABLE checked (n INT NOT NULL, CONSTRAINT n_positive CHECK (n > 0))",
    )
    .unwrap();
    let anchor = chrono::NaiveDateTime::default();
    let duplicate = diesel::insert_into(things::table)
        .values((
            things::id.eq(1),
            things::label.eq("again"),
            things::count.eq(1u32),
            things::at.eq(anchor),
            things::ratio.eq(0.0),
        ))
        .execute(&mut conn);
    assert!(
        matches!(&duplicate, Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info)) if info.message().starts_with("Duplicate entry")),
        "{duplicate:?}"
    );
    let refused = diesel::sql_query("INSERT INTO checked (n) VALUES (?)")
        .bind::<Integer, _>(-1)
        .execute(&mut conn);
    assert!(
        matches!(&refused, Err(Error::DatabaseError(DatabaseErrorKind::CheckViolation, info)) if info.message().contains("n_positive")),
        "{refused:?}"
    );
    let null = diesel::sql_query("INSERT INTO checked (n) VALUES (?)")
        .bind::<Nullable<Integer>, _>(None::<i32>)
        .execute(&mut conn);
    assert!(
        matches!(&null, Err(Error::DatabaseError(DatabaseErrorKind::NotNullViolation, _))),
        "{null:?}"
    );
    let missing = diesel::sql_query("SELECT * FROM no_such_table").execute(&mut conn);
    assert!(
        matches!(&missing, Err(Error::DatabaseError(DatabaseErrorKind::Unknown, info)) if info.message().contains("no_such_table")),
        "{missing:?}"
    );
    // The connection goes on after each.
    let n: i64 = things::table.count().get_result(&mut conn).unwrap();
    assert_eq!(n, 3);
}

#[test]
fn an_update_counts_the_rows_it_matched_mysql() {
    let mut conn = connect();
    things(&mut conn, 5);
    // CLIENT_FOUND_ROWS: rows matched, whether or not a value changed.
    let n = diesel::update(things::table).set(things::ratio.eq(1.0)).execute(&mut conn).unwrap();
    assert_eq!(n, 5);
    let n = diesel::update(things::table).set(things::ratio.eq(1.0)).execute(&mut conn).unwrap();
    assert_eq!(n, 5, "unchanged rows are counted too");
}

#[derive(QueryableByName, Debug, PartialEq)]
struct Returned {
    #[diesel(sql_type = Text)]
    k: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[test]
fn an_upsert_returning_streams_the_rows_it_inserted_or_updated_mysql() {
    let mut conn = connect();
    conn.batch_execute(
        "CREATE TEMPORARY TABLE tagged (id INT AUTO_INCREMENT PRIMARY KEY, \
         tag VARCHAR(20) NOT NULL UNIQUE, v INT NOT NULL)",
    )
    .unwrap();
    // MariaDB 10.5+ returns rows from an INSERT; a prepared one has no
    // result metadata until it runs.
    let upsert = |conn: &mut MysqlConnection, sql: &str| -> Vec<Returned> {
        diesel::sql_query(format!(
            "{sql} ON DUPLICATE KEY UPDATE v = VALUES(v) \
             RETURNING CAST(tag AS CHAR) AS k, CAST(id AS SIGNED) AS n"
        ))
        .load(conn)
        .unwrap()
    };
    let first = upsert(&mut conn, "INSERT INTO tagged (tag, v) VALUES ('a', 1), ('b', 2)");
    assert_eq!(first, [Returned { k: "a".into(), n: 1 }, Returned { k: "b".into(), n: 2 }]);
    // An existing key comes back with its stored id, whether or not a value
    // changed; a new one gets the next id.
    let again =
        upsert(&mut conn, "INSERT INTO tagged (tag, v) VALUES ('b', 2), ('a', 5), ('c', 3)");
    let again: Vec<(String, i64)> = again.into_iter().map(|r| (r.k, r.n)).collect();
    assert_eq!(again[..2], [("b".to_string(), 2), ("a".to_string(), 1)]);
    assert_eq!(again[2].0, "c");
    let stored: i64 = diesel::sql_query(
        "SELECT CAST('c' AS CHAR) AS k, CAST(id AS SIGNED) AS n FROM tagged WHERE tag = 'c'",
    )
    .get_result::<Returned>(&mut conn)
    .unwrap()
    .n;
    assert_eq!(again[2].1, stored);
    // The same text again (a statement the connection may keep prepared).
    let third = upsert(&mut conn, "INSERT INTO tagged (tag, v) VALUES ('a', 1), ('b', 2)");
    assert_eq!(third, [Returned { k: "a".into(), n: 1 }, Returned { k: "b".into(), n: 2 }]);
}

#[test]
fn text_and_numbers_read_as_other_sql_types_mysql() {
    let mut conn = connect();
    // A number read as text and text read as a number: the library converts.
    let (a, b): (String, i64) = diesel::select((
        diesel::dsl::sql::<Text>("CAST(42 AS CHAR)"),
        diesel::dsl::sql::<BigInt>("CAST('17' AS SIGNED)"),
    ))
    .get_result(&mut conn)
    .unwrap();
    assert_eq!((a.as_str(), b), ("42", 17));
    let big: i64 = diesel::select(diesel::dsl::sql::<BigInt>("9223372036854775807"))
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(big, i64::MAX);
}

#[test]
fn a_password_is_never_part_of_a_connect_error_mysql() {
    let canary = "Pa55-c@nary/?#%";
    let encoded: String =
        percent_encoding::utf8_percent_encode(canary, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
    let bad = format!("mysql://nobody:{encoded}@127.0.0.1:3306/test");
    let Err(e) = MysqlConnection::establish(&bad) else { panic!("a wrong password connected") };
    let shown = format!("{e} {e:?}");
    // The error is never printed: on a failure it would show the password.
    assert!(
        !shown.contains(canary) && !shown.contains(&encoded),
        "a connect error shows the password"
    );
    let Err(e) =
        MysqlConnection::establish(&format!("mysql://nobody:{canary}@127.0.0.1:3306/test"))
    else {
        panic!("a malformed URL connected")
    };
    assert!(!format!("{e} {e:?}").contains("c@nary"), "a URL error shows the password");
}

/// What the default instrumentation was shown as connections were opened.
static ESTABLISH_EVENTS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

struct EstablishRecorder;

impl diesel::connection::Instrumentation for EstablishRecorder {
    fn on_connection_event(&mut self, event: diesel::connection::InstrumentationEvent<'_>) {
        use diesel::connection::InstrumentationEvent as E;
        if matches!(event, E::StartEstablishConnection { .. } | E::FinishEstablishConnection { .. })
        {
            ESTABLISH_EVENTS.lock().unwrap_or_else(|p| p.into_inner()).push(format!("{event:?}"));
        }
    }
}

#[test]
fn instrumentation_sees_a_connection_url_without_its_password_mysql() {
    // The process-wide default: connections of other tests opened meanwhile
    // are recorded too, and hold no canary.
    diesel::connection::set_default_instrumentation(|| Some(Box::new(EstablishRecorder)))
        .expect("a default instrumentation");
    let canary = "In5tr-c@nary/?#%";
    let encoded: String =
        percent_encoding::utf8_percent_encode(canary, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
    for url in [
        format!("mysql://nobody:{encoded}@127.0.0.1:3306/test"),
        format!("mysql://nobody:{canary}@127.0.0.1:3306/test"),
    ] {
        assert!(MysqlConnection::establish(&url).is_err(), "a wrong password connected");
    }
    let events = ESTABLISH_EVENTS.lock().unwrap_or_else(|p| p.into_inner()).join("\n");
    // Never printed: on a failure it would show the password.
    assert!(events.contains("nobody:***@127.0.0.1"), "the redacted URL is not in the events");
    assert!(
        !events.contains(canary) && !events.contains(&encoded) && !events.contains("c@nary"),
        "an instrumentation event shows the password"
    );
}

#[test]
fn a_cursor_left_unread_past_net_write_timeout_fails_cleanly_mysql() {
    let mut conn = connect();
    conn.batch_execute(
        "CREATE TEMPORARY TABLE wide (id INT PRIMARY KEY, body LONGTEXT NOT NULL); \
         INSERT INTO wide SELECT seq, REPEAT('x', 20000) FROM seq_1_to_3000; \
         SET SESSION net_write_timeout = 1",
    )
    .unwrap();
    // `select` writes the SELECT keyword itself.
    let query = diesel::dsl::sql::<(Integer, Text)>("id, body FROM wide ORDER BY id");
    let mut rows = diesel::select(query)
        .load_iter::<(i32, String), diesel::connection::DefaultLoadingMode>(&mut conn)
        .unwrap();
    assert_eq!(rows.next().map(|r| r.unwrap().0), Some(1));
    // 60 MB do not fit the sockets' buffers: the server gives up on its write.
    std::thread::sleep(std::time::Duration::from_secs(4));
    let rest: Vec<_> = rows.collect();
    let failed = rest.iter().find_map(|r| r.as_ref().err());
    assert!(
        matches!(failed, Some(Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _))),
        "read {} more rows, then {failed:?}",
        rest.len()
    );
}
