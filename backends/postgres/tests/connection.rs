//! triglot's own PostgreSQL connection against the real server: rows come
//! in order with every type diesel reads, rows kept past the next keep
//! their values, transactions recover from errors as diesel's do, errors
//! carry diesel's kinds and the server's fields, COPY copies or cancels,
//! custom types are looked up, an empty value is not NULL, a lost session
//! is seen as broken, and no password reaches an error or the
//! instrumentation.
//!
//! Each test works in temporary tables of its own connection, so tests
//! running at once do not meet.
#![allow(missing_docs)]

use std::io::Write as _;

use diesel::connection::{LoadConnection, SimpleConnection};
use diesel::prelude::*;
use diesel::r2d2::R2D2Connection;
use diesel::result::{DatabaseErrorKind, Error};
use diesel::row::{Field, Row};
use diesel::sql_types::{BigInt, Integer, Text};
mod server;

use server::connect;
use triglot_postgres::PgConnection;

diesel::table! {
    /// The test's temporary table.
    things (id) {
        id -> BigInt,
        label -> Text,
        note -> Nullable<Text>,
        count -> Integer,
        at -> Timestamp,
        ratio -> Double,
        data -> Nullable<Binary>,
        flag -> Bool,
    }
}

#[derive(Queryable, Selectable, Insertable, Debug, PartialEq, Clone)]
#[diesel(table_name = things)]
struct Thing {
    id: i64,
    label: String,
    note: Option<String>,
    count: i32,
    at: chrono::NaiveDateTime,
    ratio: f64,
    data: Option<Vec<u8>>,
    flag: bool,
}

fn things(conn: &mut PgConnection, n: i64) -> Vec<Thing> {
    conn.batch_execute(
        "CREATE TEMPORARY TABLE things (id BIGINT PRIMARY KEY, label TEXT NOT NULL UNIQUE, \
         note TEXT, count INT NOT NULL CONSTRAINT count_positive CHECK (count > 0), \
         at TIMESTAMP NOT NULL, ratio DOUBLE PRECISION NOT NULL, data BYTEA, flag BOOL NOT NULL)",
    )
    .expect("a temporary table");
    let anchor =
        chrono::DateTime::from_timestamp(1_764_000_000, 123_456_000).expect("a time").naive_utc();
    let rows: Vec<Thing> = (1..=n)
        .map(|i| Thing {
            id: i,
            label: format!("thing {i} ✓"),
            // Every seventh note is NULL, every tenth long.
            note: (i % 7 != 0)
                .then(|| "n".repeat(if i % 10 == 0 { 70_000 } else { i as usize % 50 })),
            count: i32::MAX - i as i32,
            at: anchor + chrono::TimeDelta::microseconds(i * 1_000_001),
            ratio: i as f64 / 3.0,
            data: (i % 2 == 0).then(|| vec![0, 1, 2, i as u8, 255]),
            flag: i % 3 == 0,
        })
        .collect();
    for chunk in rows.chunks(100) {
        diesel::insert_into(things::table).values(chunk).execute(conn).expect("insert");
    }
    rows
}

fn count(conn: &mut PgConnection) -> i64 {
    things::table.count().get_result(conn).expect("a count")
}

#[test]
fn rows_come_in_order_with_every_type_and_long_values_postgres() {
    let mut conn = connect();
    let written = things(&mut conn, 300);
    let read: Vec<Thing> =
        things::table.order_by(things::id).select(Thing::as_select()).load(&mut conn).unwrap();
    assert_eq!(read, written);
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
    // A statement diesel does not cache (raw SQL) reads the same.
    let labels: Vec<String> =
        diesel::sql_query("SELECT label FROM things WHERE id <= $1 ORDER BY id")
            .bind::<BigInt, _>(3)
            .load::<Label>(&mut conn)
            .unwrap()
            .into_iter()
            .map(|l| l.label)
            .collect();
    assert_eq!(labels, ["thing 1 ✓", "thing 2 ✓", "thing 3 ✓"]);
}

#[derive(QueryableByName)]
struct Label {
    #[diesel(sql_type = Text)]
    label: String,
}

#[test]
fn a_row_kept_past_the_next_keeps_its_values_postgres() {
    let mut conn = connect();
    let written = things(&mut conn, 50);
    let query = things::table.order_by(things::id).select((things::id, things::note));
    let rows: Vec<_> = conn.load(query).unwrap().collect::<Result<_, _>>().unwrap();
    assert_eq!(rows.len(), 50);
    for (row, want) in rows.iter().zip(&written) {
        assert_eq!(row.field_count(), 2);
        let id = row.get(0).expect("an id column");
        let id = id.value().map(|v| {
            <i64 as diesel::deserialize::FromSql<BigInt, diesel::pg::Pg>>::from_sql(v).unwrap()
        });
        assert_eq!(id, Some(want.id));
        let note = row.get("note").expect("a note column");
        assert_eq!(note.field_name(), Some("note"));
        assert_eq!(note.is_null(), want.note.is_none());
        assert_eq!(note.value().map(|v| v.as_bytes().len()), want.note.as_ref().map(String::len));
        assert!(row.get(2).is_none() && row.get("nothing").is_none());
    }
}

#[test]
fn transactions_roll_back_and_recover_from_errors_postgres() {
    let mut conn = connect();
    things(&mut conn, 20);
    conn.transaction::<(), Error, _>(|c| {
        diesel::delete(things::table.filter(things::id.gt(10))).execute(c)?;
        assert_eq!(count(c), 10);
        Err(Error::RollbackTransaction)
    })
    .unwrap_err();
    assert_eq!(count(&mut conn), 20, "the rollback restored the rows");
    // A failed statement in a nested transaction rolls back to its
    // savepoint; the outer transaction goes on and commits.
    conn.transaction::<(), Error, _>(|c| {
        diesel::delete(things::table.filter(things::id.eq(1))).execute(c)?;
        let inner = c.transaction::<(), Error, _>(|c| {
            diesel::delete(things::table.filter(things::id.eq(2))).execute(c)?;
            diesel::sql_query("SELECT 1/0").execute(c)?;
            Ok(())
        });
        assert!(inner.is_err(), "division by zero succeeded");
        assert_eq!(count(c), 19, "the savepoint kept the outer delete only");
        Ok(())
    })
    .unwrap();
    assert_eq!(count(&mut conn), 19);
    // A failed statement at the top level leaves the transaction for a
    // rollback, and the connection usable after it.
    let failed = conn.transaction::<(), Error, _>(|c| {
        diesel::sql_query("SELECT 1/0").execute(c)?;
        Ok(())
    });
    assert!(failed.is_err());
    assert!(!conn.is_broken(), "a rolled-back transaction left the connection broken");
    assert_eq!(count(&mut conn), 19);
}

#[test]
fn errors_carry_diesel_kinds_and_the_servers_fields_postgres() {
    let mut conn = connect();
    let written = things(&mut conn, 3);
    conn.batch_execute(
        "CREATE TEMPORARY TABLE parents (id INT PRIMARY KEY); \
         CREATE TEMPORARY TABLE children (parent INT NOT NULL REFERENCES parents (id))",
    )
    .unwrap();
    let mut again = written[0].clone();
    again.id = 100;
    let duplicate = diesel::insert_into(things::table).values(&again).execute(&mut conn);
    assert!(
        matches!(&duplicate, Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info))
            if info.constraint_name() == Some("things_label_key")
                && info.table_name() == Some("things")
                && info.details().is_some_and(|d| d.contains("thing 1"))),
        "{duplicate:?}"
    );
    let mut negative = written[0].clone();
    negative.id = 101;
    negative.label = "other".into();
    negative.count = -1;
    let refused = diesel::insert_into(things::table).values(&negative).execute(&mut conn);
    assert!(
        matches!(&refused, Err(Error::DatabaseError(DatabaseErrorKind::CheckViolation, info))
            if info.constraint_name() == Some("count_positive")),
        "{refused:?}"
    );
    let orphan = diesel::sql_query("INSERT INTO children (parent) VALUES ($1)")
        .bind::<Integer, _>(7)
        .execute(&mut conn);
    assert!(
        matches!(&orphan, Err(Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _))),
        "{orphan:?}"
    );
    let null = diesel::sql_query("INSERT INTO children (parent) VALUES (NULL)").execute(&mut conn);
    assert!(
        matches!(&null, Err(Error::DatabaseError(DatabaseErrorKind::NotNullViolation, info))
            if info.column_name() == Some("parent")),
        "{null:?}"
    );
    let missing = diesel::sql_query("SELECT * FROM no_such_table").execute(&mut conn);
    assert!(
        matches!(&missing, Err(Error::DatabaseError(DatabaseErrorKind::Unknown, info))
            if info.message().contains("no_such_table") && info.statement_position() == Some(15)),
        "{missing:?}"
    );
    let empty = conn.batch_execute("");
    assert!(empty.is_err(), "an empty query succeeded");
    // The connection goes on after each.
    assert_eq!(count(&mut conn), 3);
}

#[test]
fn copy_in_copies_every_row_or_none_postgres() {
    let mut conn = connect();
    conn.batch_execute("CREATE TEMPORARY TABLE copied (n INT NOT NULL, s TEXT)").unwrap();
    let copied = conn
        .copy_in("COPY copied (n, s) FROM STDIN", &mut |out| {
            for n in 0..10_000 {
                writeln!(out, "{n}\tline {n}").map_err(|e| Error::SerializationError(e.into()))?;
            }
            out.write_all(b"-1\t\\N\n").map_err(|e| Error::SerializationError(e.into()))
        })
        .unwrap();
    assert_eq!(copied, 10_001);
    let nulls: i64 =
        diesel::select(diesel::dsl::sql::<BigInt>("(SELECT count(*) FROM copied WHERE s IS NULL)"))
            .get_result(&mut conn)
            .unwrap();
    assert_eq!(nulls, 1);
    // The writer fails half-way: the COPY is cancelled, nothing is copied.
    let stopped = conn.copy_in("COPY copied (n, s) FROM STDIN", &mut |out| {
        out.write_all(b"1\tkept?\n").map_err(|e| Error::SerializationError(e.into()))?;
        Err(Error::SerializationError("the writer stops".into()))
    });
    assert!(
        matches!(&stopped, Err(Error::SerializationError(e)) if e.to_string() == "the writer stops"),
        "{stopped:?}"
    );
    // The server refuses a row: nothing of that COPY is copied either.
    let refused = conn.copy_in("COPY copied (n, s) FROM STDIN", &mut |out| {
        out.write_all(b"2\tfine\nnot a number\tbad\n")
            .map_err(|e| Error::SerializationError(e.into()))
    });
    assert!(
        matches!(&refused, Err(Error::DatabaseError(_, info)) if info.message().contains("integer")),
        "{refused:?}"
    );
    let total: i64 = diesel::select(diesel::dsl::sql::<BigInt>("(SELECT count(*) FROM copied)"))
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(total, 10_001, "a failed COPY copied rows");
    // A COPY inside a transaction that rolls back copies nothing.
    conn.transaction::<(), Error, _>(|c| {
        c.copy_in("COPY copied (n) FROM STDIN", &mut |out| {
            out.write_all(b"5\n").map_err(|e| Error::SerializationError(e.into()))
        })?;
        Err(Error::RollbackTransaction)
    })
    .unwrap_err();
    let total: i64 = diesel::select(diesel::dsl::sql::<BigInt>("(SELECT count(*) FROM copied)"))
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(total, 10_001);
}

/// A PostgreSQL enum, whose OID the connection looks up by name.
#[derive(diesel::sql_types::SqlType, diesel::query_builder::QueryId)]
#[diesel(postgres_type(name = "triglot_test_mood"))]
struct MoodType;

#[derive(Debug, PartialEq, diesel::expression::AsExpression, diesel::deserialize::FromSqlRow)]
#[diesel(sql_type = MoodType)]
enum Mood {
    Calm,
    Busy,
}

impl diesel::serialize::ToSql<MoodType, diesel::pg::Pg> for Mood {
    fn to_sql<'b>(
        &'b self,
        out: &mut diesel::serialize::Output<'b, '_, diesel::pg::Pg>,
    ) -> diesel::serialize::Result {
        out.write_all(match self {
            Self::Calm => b"calm",
            Self::Busy => b"busy",
        })?;
        Ok(diesel::serialize::IsNull::No)
    }
}

impl diesel::deserialize::FromSql<MoodType, diesel::pg::Pg> for Mood {
    fn from_sql(bytes: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
        match bytes.as_bytes() {
            b"calm" => Ok(Self::Calm),
            b"busy" => Ok(Self::Busy),
            other => Err(format!("no mood {other:?}").into()),
        }
    }
}

#[test]
fn a_custom_type_is_looked_up_by_name_postgres() {
    let mut conn = connect();
    // Types are not temporary: created once per database, kept.
    conn.batch_execute(
        "DO $$ BEGIN CREATE TYPE triglot_test_mood AS ENUM ('calm', 'busy'); \
         EXCEPTION WHEN duplicate_object THEN NULL; END $$",
    )
    .unwrap();
    let mood: Mood =
        diesel::select(diesel::dsl::sql::<MoodType>("").bind::<MoodType, _>(Mood::Busy))
            .get_result(&mut conn)
            .unwrap();
    assert_eq!(mood, Mood::Busy);
}

#[test]
fn a_lost_session_is_seen_as_broken_postgres() {
    let mut conn = connect();
    let pid: i32 = diesel::select(diesel::dsl::sql::<Integer>("pg_backend_pid()"))
        .get_result(&mut conn)
        .unwrap();
    assert!(!conn.is_broken());
    let mut other = connect();
    let ended: bool = diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
        "pg_terminate_backend({pid})"
    )))
    .get_result(&mut other)
    .unwrap();
    assert!(ended, "the session was not terminated");
    let after = conn.batch_execute("SELECT 1");
    assert!(
        matches!(&after, Err(Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _))),
        "{after:?}"
    );
    assert!(conn.is_broken(), "a lost session is not seen as broken");
}

/// `text` with every byte but unreserved ASCII percent-encoded.
fn percent_encoded(text: &str) -> String {
    text.bytes()
        .map(
            |b| {
                if b.is_ascii_alphanumeric() {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            },
        )
        .collect()
}

#[test]
fn a_password_is_never_part_of_a_connect_error_postgres() {
    let canary = "Pa55-c@nary/?#%";
    let encoded = percent_encoded(canary);
    for bad in [
        format!("postgres://nobody:{encoded}@127.0.0.1:5432/test"),
        format!("postgres://nobody:{encoded}@127.0.0.1:1/test"),
        format!("postgres://nobody:{canary}@127.0.0.1:5432/test"),
    ] {
        let Err(e) = PgConnection::establish(&bad) else { panic!("a wrong user connected") };
        let shown = format!("{e} {e:?}");
        // The error is never printed: on a failure it would show the password.
        assert!(
            !shown.contains(canary) && !shown.contains(&encoded) && !shown.contains("c@nary"),
            "a connect error shows the password"
        );
    }
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
fn instrumentation_sees_a_connection_url_without_its_password_postgres() {
    diesel::connection::set_default_instrumentation(|| Some(Box::new(EstablishRecorder)))
        .expect("a default instrumentation");
    let canary = "In5tr-c@nary/?#%";
    let encoded = percent_encoded(canary);
    for url in [
        format!("postgres://nobody:{encoded}@127.0.0.1:5432/test"),
        format!("postgres://nobody:{canary}@127.0.0.1:5432/test"),
    ] {
        assert!(PgConnection::establish(&url).is_err(), "a wrong user connected");
    }
    let events = ESTABLISH_EVENTS.lock().unwrap_or_else(|p| p.into_inner()).join("\n");
    // Never printed: on a failure it would show the password.
    assert!(events.contains("nobody:***@127.0.0.1"), "the redacted URL is not in the events");
    assert!(
        !events.contains(canary) && !events.contains(&encoded) && !events.contains("c@nary"),
        "an instrumentation event shows the password"
    );
}

/// Empty text, NULL text, an empty blob, a NULL blob.
type EmptyAndNull = (Option<String>, Option<String>, Option<Vec<u8>>, Option<Vec<u8>>);

#[test]
fn an_empty_value_is_not_null_postgres() {
    use diesel::sql_types::{Binary, Nullable};
    let mut conn = connect();
    // libpq gives a NULL and an empty value the same length, 0: the row
    // asks for the NULL flag of those.
    let row: EmptyAndNull = diesel::select((
        diesel::dsl::sql::<Nullable<Text>>("''::text"),
        diesel::dsl::sql::<Nullable<Text>>("NULL::text"),
        diesel::dsl::sql::<Nullable<Binary>>("''::bytea"),
        diesel::dsl::sql::<Nullable<Binary>>("NULL::bytea"),
    ))
    .get_result(&mut conn)
    .unwrap();
    assert_eq!(row, (Some(String::new()), None, Some(Vec::new()), None));
    let rows = conn.load(diesel::select(diesel::dsl::sql::<Nullable<Text>>("''::text"))).unwrap();
    for row in rows {
        let row = row.unwrap();
        let field = row.get(0).expect("one column");
        assert!(!field.is_null() && field.value().is_some_and(|v| v.as_bytes().is_empty()));
    }
}

#[test]
fn a_copy_whose_session_ends_is_a_lost_connection_postgres() {
    let mut conn = connect();
    conn.batch_execute("CREATE TEMPORARY TABLE copied (n INT NOT NULL, s TEXT)").unwrap();
    let pid: i32 = diesel::select(diesel::dsl::sql::<Integer>("pg_backend_pid()"))
        .get_result(&mut conn)
        .unwrap();
    let mut other = connect();
    let line = b"1\tthe same line again and again\n".repeat(2_000);
    let lost = conn.copy_in("COPY copied (n, s) FROM STDIN", &mut |out| {
        out.write_all(&line).map_err(|e| Error::SerializationError(e.into()))?;
        diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
            "pg_terminate_backend({pid})"
        )))
        .get_result::<bool>(&mut other)
        .map_err(|e| Error::SerializationError(e.into()))?;
        std::thread::sleep(std::time::Duration::from_millis(200));
        // The writer maps its failed writes to its own error, as a COPY
        // encoder does; the connection's loss must still be what is seen.
        for _ in 0..200 {
            out.write_all(&line).map_err(|e| Error::SerializationError(e.into()))?;
        }
        Ok(())
    });
    assert!(
        matches!(&lost, Err(Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _))),
        "{lost:?}"
    );
    assert!(conn.is_broken(), "a lost session is not seen as broken");
}
