//! Each constraint violation maps to its `Error` variant, with a message that
//! says what failed and where, on every backend.

#[allow(unused_imports)]
use triglot_pipeline::MIGRATIONS;

use diesel::prelude::*;
use triglot::Error;
use triglot_pipeline::model::{CustomerQueries, NewOrderLine, OrderLineQueries, OrderQueries};
use triglot_pipeline::schema::customers;

use crate::harness::customer;

fn one_order<C>(conn: &mut C) -> diesel::QueryResult<i64>
where
    C: OrderQueries,
{
    Ok(conn.order_fingerprints(&["O1".to_owned()])?[0].1)
}

triglot::backend_test!(duplicate_external_id_is_a_unique_violation, |db| {
    let err = db
        .write("inserting customers", |conn| {
            diesel::insert_into(customers::table)
                .values(vec![customer("C1"), customer("C1")])
                .execute(conn)
        })
        .unwrap_err();
    assert!(matches!(err, Error::UniqueViolation(_)), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(D::NAME) && text.contains("inserting customers"), "{text}");
    // Where: the database's file path or (redacted) URL.
    assert!(text.contains(db.location()), "{text} does not name {}", db.location());
    // The failed statement left nothing behind.
    assert_eq!(db.run("count", |conn| conn.count_customers()).unwrap(), 0);
});

triglot::backend_test!(line_of_a_missing_order_is_a_foreign_key_violation, |db| {
    let err = db
        .write("inserting order lines", |conn| {
            conn.insert_order_lines(vec![NewOrderLine {
                order_id: 424_242,
                line_no: 1,
                sku: "S".into(),
                quantity: 1,
                unit_price_cents: 1,
                discount_bp: None,
                note: None,
            }])
        })
        .unwrap_err();
    assert!(matches!(err, Error::ForeignKeyViolation(_)), "{err:?}");
});

triglot::backend_test!(null_in_a_required_column_is_a_not_null_violation, |db| {
    let err = db
        .write("inserting a customer", |conn| {
            diesel::sql_query(
                "INSERT INTO customers (external_id, name, created_at) VALUES ('C1', NULL, '2026-01-01 00:00:00')",
            )
            .execute(conn)
        })
        .unwrap_err();
    assert!(matches!(err, Error::NotNullViolation(_)), "{err:?}");
});

triglot::backend_test!(requires(check_constraints) zero_quantity_is_a_check_violation, |db| {
    triglot_pipeline::OrderWriter::new(db).write_batch(&[crate::harness::order("O1", "C1", 1)]).unwrap();
    let err = db
        .write("inserting order lines", |conn| {
            let order_id = one_order(conn)?;
            conn.insert_order_lines(vec![NewOrderLine {
                order_id,
                line_no: 2,
                sku: "S".into(),
                quantity: 0,
                unit_price_cents: 1,
                discount_bp: None,
                note: None,
            }])
        })
        .unwrap_err();
    assert!(matches!(err, Error::CheckViolation(_)), "{err:?}");
});

triglot::backend_test!(text_over_its_declared_length_is_refused, |db| {
    let mut long = customer("C1");
    long.country = Some("DEU".into());
    let err = db
        .write("inserting a customer", |conn| {
            diesel::insert_into(customers::table).values(long).execute(conn)
        })
        .unwrap_err();
    // SQLite and MariaDB check the length with CHECK; strict MySQL and
    // PostgreSQL refuse it as too long for VARCHAR(2).
    assert!(matches!(err, Error::CheckViolation(_) | Error::Query(_)), "{err:?}");
    assert_eq!(db.run("count", |conn| conn.count_customers()).unwrap(), 0);
});

/// Server-side failures that need two sessions: a connection killed under
/// its holder, and two transactions that deadlock.
#[cfg(any(feature = "mysql", feature = "postgres"))]
mod two_sessions {
    use std::sync::{Arc, Barrier};
    use std::time::Duration;

    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use triglot::testing::TestDb;
    use triglot::{Database, Error, PoolConfig};

    use crate::harness::Id;

    /// A connection killed by the server while idle, handed out without a
    /// ping (the idle threshold is an hour), fails its next statement as
    /// `ConnectionLost`.
    fn killed_connection_is_connection_lost<D: triglot_pipeline::OrderBackend>(
        session_id: &str,
        kill: &str,
    ) where
        diesel::query_builder::SqlQuery:
            for<'q> diesel::query_dsl::LoadQuery<'q, D::Connection, Id>,
    {
        let test = TestDb::<D>::new(
            &format!("errors::connection_lost::{}", D::NAME),
            &triglot_pipeline::MIGRATIONS,
        );
        let config = PoolConfig {
            max_size: 1,
            ping_after_idle: Duration::from_secs(3_600),
            ..PoolConfig::default()
        };
        let db = Database::<D>::open_with(test.url(), config).unwrap();
        let id =
            db.run("session id", |c| diesel::sql_query(session_id).get_result::<Id>(c)).unwrap().id;
        test.get().unwrap().batch_execute(&kill.replace("{id}", &id.to_string())).unwrap();
        std::thread::sleep(Duration::from_millis(200));
        let err = db
            .run("reading after the kill", |c| diesel::sql_query(session_id).get_result::<Id>(c))
            .err()
            .expect("a killed connection cannot answer");
        assert!(matches!(err, Error::ConnectionLost(_)), "{}: {err:?}", D::NAME);
        assert!(err.to_string().contains("reading after the kill"), "{err}");
    }

    /// Two transactions lock two customers in opposite orders; the server
    /// breaks the deadlock by failing one of them, which must be `Retryable`.
    fn deadlock_is_retryable<D: triglot_pipeline::OrderBackend>()
    where
        diesel::query_builder::SqlQuery: diesel::query_dsl::methods::ExecuteDsl<D::Connection>,
    {
        let test = TestDb::<D>::new(
            &format!("errors::deadlock::{}", D::NAME),
            &triglot_pipeline::MIGRATIONS,
        );
        let db: &Database<D> = &test;
        db.run("seeding", |c| {
            c.batch_execute(
                "INSERT INTO customers (external_id, name, created_at) \
                 VALUES ('A', 'a', '2026-01-01 00:00:00'), ('B', 'b', '2026-01-01 00:00:00')",
            )
        })
        .unwrap();
        let both_hold_one = Arc::new(Barrier::new(2));
        let results: Vec<triglot::Result<()>> = std::thread::scope(|s| {
            let workers: Vec<_> = [("A", "B"), ("B", "A")]
                .into_iter()
                .map(|(first, second)| {
                    let barrier = Arc::clone(&both_hold_one);
                    s.spawn(move || {
                        db.write("updating two customers", |c| {
                            let touch = |key: &str| {
                                format!("UPDATE customers SET name = 'x{key}' WHERE external_id = '{key}'")
                            };
                            diesel::sql_query(touch(first)).execute(c)?;
                            barrier.wait();
                            diesel::sql_query(touch(second)).execute(c).map(drop)
                        })
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        let failed: Vec<&Error> = results.iter().filter_map(|r| r.as_ref().err()).collect();
        assert_eq!(failed.len(), 1, "{}: exactly one side loses: {results:?}", D::NAME);
        assert!(matches!(failed[0], Error::Retryable(_)), "{}: {:?}", D::NAME, failed[0]);
        assert!(failed[0].is_retryable());
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn postgres_killed_connection_is_connection_lost() {
        killed_connection_is_connection_lost::<triglot::postgres::PostgresDialect>(
            "SELECT CAST(pg_backend_pid() AS BIGINT) AS id",
            "SELECT pg_terminate_backend({id})",
        );
    }

    #[cfg(feature = "mysql")]
    #[test]
    fn mysql_killed_connection_is_connection_lost() {
        killed_connection_is_connection_lost::<triglot::mysql::MysqlDialect>(
            "SELECT CAST(CONNECTION_ID() AS SIGNED) AS id",
            "KILL {id}",
        );
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn postgres_deadlock_is_retryable() {
        deadlock_is_retryable::<triglot::postgres::PostgresDialect>();
    }

    #[cfg(feature = "mysql")]
    #[test]
    fn mysql_deadlock_is_retryable() {
        deadlock_is_retryable::<triglot::mysql::MysqlDialect>();
    }
}

triglot::backend_test!(a_duplicate_in_a_multi_statement_batch_is_a_unique_violation, |db| {
    use diesel::connection::SimpleConnection;
    let err = db
        .write("running a batch", |conn| {
            conn.batch_execute(
                "INSERT INTO customers (external_id, name, created_at) VALUES ('X', 'x', '2026-01-01 00:00:00'); \
                 INSERT INTO customers (external_id, name, created_at) VALUES ('X', 'y', '2026-01-01 00:00:00');",
            )
        })
        .unwrap_err();
    assert!(matches!(err, Error::UniqueViolation(_)), "{err:?}");
});
