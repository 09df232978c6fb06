//! Pools: in-memory SQLite databases are shared by the pool, checkouts time
//! out, busy databases are retryable.

#[cfg(feature = "sqlite")]
mod sqlite {
    use std::time::Duration;

    use diesel::prelude::*;
    use triglot::model::CustomerQueries;
    use triglot::sqlite::SqliteDialect;
    use triglot::{Database, Error, PoolConfig};

    #[test]
    fn memory_database_is_shared_by_every_checkout() {
        let db = Database::<SqliteDialect>::open("sqlite::memory:").unwrap();
        db.migrate().unwrap();
        db.run("insert", |conn| {
            diesel::insert_into(triglot::schema::customers::table)
                .values(crate::harness::customer("C1"))
                .execute(conn)
        })
        .unwrap();
        for _ in 0..3 {
            assert_eq!(db.run("count", |conn| conn.count_customers()).unwrap(), 1);
        }
        assert_eq!(db.pool_state().max_size, 1);
    }

    #[test]
    fn checkout_times_out_with_pool_timeout_when_all_are_in_use() {
        let config =
            PoolConfig { checkout_timeout: Duration::from_millis(200), ..PoolConfig::default() };
        let db = Database::<SqliteDialect>::open_with("sqlite::memory:", config).unwrap();
        let _held = db.get().unwrap();
        let Err(err) = db.get() else { panic!("second checkout must time out") };
        assert!(matches!(err, Error::PoolTimeout { .. }), "{err:?}");
        assert!(err.to_string().contains("no connection from the pool"), "{err}");
        let state = db.pool_state();
        assert_eq!((state.connections, state.in_use), (1, 1));
    }

    #[test]
    fn busy_database_is_a_retryable_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("busy.db");
        let db = Database::<SqliteDialect>::open(&format!("sqlite://{}", path.display())).unwrap();
        db.migrate().unwrap();
        let mut holder = db.get().unwrap();
        diesel::connection::SimpleConnection::batch_execute(&mut *holder, "BEGIN IMMEDIATE")
            .unwrap();

        // A second writer that does not wait for the lock.
        let mut other = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        diesel::connection::SimpleConnection::batch_execute(&mut other, "PRAGMA busy_timeout = 0")
            .unwrap();
        let raw =
            diesel::connection::SimpleConnection::batch_execute(&mut other, "BEGIN IMMEDIATE")
                .unwrap_err();
        let err = db.error("starting a write", raw);
        assert!(matches!(err, Error::Retryable(_)), "{err:?}");
        assert!(err.is_retryable());
    }
}
