//! A foreign key checked after a load, against the real server: found by
//! its table, columns and referenced table; dropped inside a transaction
//! without other sessions' noticing; added back unchecked and still
//! holding for new rows, with its comment; checked once by `validate`, which refuses, and
//! changes nothing, while a row references nothing.
//!
//! Each test works in temporary tables of its own connection, so tests
//! running at once do not meet.
#![allow(missing_docs)]

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error};
use triglot_core::introspect::ForeignKey;
use triglot_core::{DeferredKeyCheck, Dialect};
mod server;

use server::{connect, url};
use triglot_postgres::{PgConnection, PostgresDialect};

/// A parent with one row (id 1) and an empty child linked to it.
fn tables(conn: &mut PgConnection) {
    conn.batch_execute(
        "CREATE TEMPORARY TABLE parent (id BIGINT PRIMARY KEY, code TEXT UNIQUE);
         INSERT INTO parent VALUES (1, 'a');
         CREATE TEMPORARY TABLE child (
             id BIGINT PRIMARY KEY,
             parent_id BIGINT NOT NULL,
             CONSTRAINT child_link FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE CASCADE
         );",
    )
    .unwrap();
}

/// A foreign key on `columns` to `referenced` of `references`.
fn link(columns: &[&str], references: &str, referenced: &[&str]) -> ForeignKey {
    let owned = |names: &[&str]| names.iter().map(|c| (*c).to_owned()).collect();
    ForeignKey {
        columns: owned(columns),
        references: references.to_owned(),
        referenced_columns: owned(referenced),
    }
}

/// The child's link to its parent's id, as `conn` is offered it.
fn offered(conn: &mut PgConnection) -> Option<DeferredKeyCheck> {
    let key = link(&["parent_id"], "parent", &["id"]);
    PostgresDialect::foreign_key_checked_after_load(conn, "child", &key).unwrap()
}

fn key(conn: &mut PgConnection) -> DeferredKeyCheck {
    offered(conn).expect("the child's link is found")
}

fn is_foreign_key_violation(e: &Error) -> bool {
    matches!(e, Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _))
}

#[test]
fn a_link_is_found_by_its_table_columns_and_parent_postgres() {
    let mut conn = connect();
    tables(&mut conn);
    let found = key(&mut conn);
    assert_eq!(found.name, "child_link");
    assert!(found.valid);
    assert!(found.resume.ends_with("ON DELETE CASCADE NOT VALID"), "{}", found.resume);
    for (columns, references, referenced) in [
        (&["id"][..], "parent", &["id"][..]),
        (&["parent_id"], "child", &["id"]),
        (&["parent_id"], "parent", &["code"]),
    ] {
        let key = link(columns, references, referenced);
        let none =
            PostgresDialect::foreign_key_checked_after_load(&mut conn, "child", &key).unwrap();
        assert!(none.is_none(), "{columns:?} → {references} {referenced:?}: {none:?}");
    }
}

#[test]
fn a_suspended_key_is_back_unchecked_at_commit_and_holds_for_new_rows_postgres() {
    let mut conn = connect();
    tables(&mut conn);
    conn.batch_execute("COMMENT ON CONSTRAINT child_link ON child IS 'the parent''s row'").unwrap();
    let found = key(&mut conn);
    // Inside the transaction a row referencing nothing is let through; the
    // rollback brings the key back as it was.
    conn.transaction::<(), Error, _>(|conn| {
        conn.batch_execute(&found.suspend)?;
        conn.batch_execute("INSERT INTO child VALUES (1, 99)")?;
        Err(Error::RollbackTransaction)
    })
    .unwrap_err();
    assert_eq!(key(&mut conn), found);

    conn.transaction::<_, Error, _>(|conn| {
        conn.batch_execute(&found.suspend)?;
        conn.batch_execute("INSERT INTO child VALUES (1, 1)")?;
        conn.batch_execute(&found.resume)
    })
    .unwrap();
    let unchecked = key(&mut conn);
    assert!(!unchecked.valid);
    assert_eq!(unchecked.resume, found.resume, "the same key, added back as it was");
    let comment: Option<String> = diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::Text>>(
        "SELECT obj_description(oid, 'pg_constraint') FROM pg_constraint WHERE conname = 'child_link' \
         AND conrelid = 'child'::regclass",
    )
    .get_result(&mut conn)
    .unwrap();
    assert_eq!(comment.as_deref(), Some("the parent's row"), "with its comment");
    let orphan = conn.batch_execute("INSERT INTO child VALUES (2, 99)").unwrap_err();
    assert!(is_foreign_key_violation(&orphan), "{orphan:?}");

    conn.batch_execute(&unchecked.validate).unwrap();
    assert_eq!(key(&mut conn), found, "checked again");
    conn.batch_execute("DELETE FROM parent").unwrap();
    let left: i64 = diesel::dsl::sql::<diesel::sql_types::BigInt>("SELECT COUNT(*) FROM child")
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(left, 0, "ON DELETE CASCADE came back with the key");
}

#[test]
fn validating_while_a_row_references_nothing_fails_and_leaves_the_key_unchecked_postgres() {
    let mut conn = connect();
    tables(&mut conn);
    let found = key(&mut conn);
    conn.transaction::<_, Error, _>(|conn| {
        conn.batch_execute(&found.suspend)?;
        conn.batch_execute("INSERT INTO child VALUES (1, 99)")?;
        conn.batch_execute(&found.resume)
    })
    .unwrap();
    let refused = conn.batch_execute(&found.validate).unwrap_err();
    assert!(is_foreign_key_violation(&refused), "{refused:?}");
    assert!(!key(&mut conn).valid);
    conn.batch_execute("DELETE FROM child WHERE parent_id = 99").unwrap();
    conn.batch_execute(&found.validate).unwrap();
    assert!(key(&mut conn).valid);
}

/// `url` with its user (and any password) replaced by `user`.
fn as_user(url: &str, user: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let host = rest.split_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{user}@{host}")
}

#[test]
fn a_session_that_does_not_own_the_tables_is_offered_nothing_to_drop_postgres() {
    let mut owner = connect();
    let schema = format!("key_check_{}", std::process::id());
    let loader = "triglot_key_check_loader";
    owner
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE;
             CREATE SCHEMA {schema};
             CREATE TABLE {schema}.parent (id BIGINT PRIMARY KEY);
             CREATE TABLE {schema}.child (
                 id BIGINT PRIMARY KEY,
                 parent_id BIGINT NOT NULL REFERENCES {schema}.parent (id));
             CREATE INDEX child_parent ON {schema}.child (parent_id);
             DO $$ BEGIN CREATE ROLE {loader} LOGIN;
                EXCEPTION WHEN duplicate_object THEN NULL; END $$;
             GRANT USAGE ON SCHEMA {schema} TO {loader};
             GRANT SELECT, INSERT, UPDATE, DELETE, REFERENCES
                 ON ALL TABLES IN SCHEMA {schema} TO {loader};"
        ))
        .unwrap();
    let mut other = PgConnection::establish(&as_user(&url(), loader)).unwrap();
    for (conn, owns) in [(&mut owner, true), (&mut other, false)] {
        conn.batch_execute(&format!("SET search_path = {schema}")).unwrap();
        let key = offered(conn);
        let indexes = PostgresDialect::indexes_built_after_load(conn, "child").unwrap();
        assert_eq!(key.is_some(), owns, "{key:?}");
        assert_eq!(indexes.len(), usize::from(owns), "{indexes:?}");
    }
    drop(other);
    owner.batch_execute(&format!("DROP SCHEMA {schema} CASCADE")).unwrap();
}

#[test]
fn a_table_with_another_deferrable_constraint_is_offered_nothing_postgres() {
    // Its pending events would make PostgreSQL refuse to add the key back
    // in the batch's transaction.
    let mut conn = connect();
    tables(&mut conn);
    assert!(offered(&mut conn).is_some());
    conn.batch_execute(
        "ALTER TABLE child ADD COLUMN code TEXT REFERENCES parent (code) \
         DEFERRABLE INITIALLY DEFERRED",
    )
    .unwrap();
    assert_eq!(offered(&mut conn), None);
}

#[test]
fn another_session_sees_the_key_while_a_batch_has_it_dropped_postgres() {
    let mut conn = connect();
    conn.batch_execute(
        "CREATE TEMPORARY TABLE parent (id BIGINT PRIMARY KEY);
         CREATE TEMPORARY TABLE child (
             id BIGINT PRIMARY KEY,
             parent_id BIGINT NOT NULL REFERENCES parent (id));",
    )
    .unwrap();
    let found = key(&mut conn);
    let table: i64 =
        diesel::dsl::sql::<diesel::sql_types::BigInt>("SELECT 'child'::regclass::oid::bigint")
            .get_result(&mut conn)
            .unwrap();
    let mut other = connect();
    let keys_seen = |other: &mut PgConnection| -> i64 {
        diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
            "SELECT COUNT(*) FROM pg_constraint WHERE conrelid = {table} AND contype = 'f'"
        ))
        .get_result(other)
        .unwrap()
    };
    conn.transaction::<_, Error, _>(|conn| {
        conn.batch_execute(&found.suspend)?;
        assert_eq!(keys_seen(&mut other), 1, "dropped only inside the transaction");
        conn.batch_execute(&found.resume)
    })
    .unwrap();
    assert_eq!(keys_seen(&mut other), 1);
}
