//! The session setup of each backend, read back from several pooled connections at once.

#[cfg(feature = "sqlite")]
mod sqlite {
    use diesel::prelude::*;
    use diesel::sql_types::{BigInt, Text};
    use triglot::PoolConfig;
    use triglot::sqlite::SqliteDialect;

    #[derive(QueryableByName)]
    struct Setting {
        #[diesel(sql_type = Text)]
        value: String,
    }

    #[derive(QueryableByName)]
    struct Number {
        #[diesel(sql_type = BigInt)]
        value: i64,
    }

    fn text(conn: &mut SqliteConnection, pragma: &str) -> String {
        diesel::sql_query(format!("SELECT {pragma} AS value FROM pragma_{pragma}"))
            .get_result::<Setting>(conn)
            .unwrap()
            .value
    }

    /// `column` is the pragma's result column (`busy_timeout` names it `timeout`).
    fn number(conn: &mut SqliteConnection, pragma: &str, column: &str) -> i64 {
        diesel::sql_query(format!("SELECT {column} AS value FROM pragma_{pragma}"))
            .get_result::<Number>(conn)
            .unwrap()
            .value
    }

    #[test]
    fn every_pooled_connection_has_wal_busy_timeout_foreign_keys_and_normal_sync() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("s.db").display());
        let config = PoolConfig { max_size: 3, min_idle: Some(3), ..PoolConfig::default() };
        let db = triglot::Database::<SqliteDialect>::open_with(&url, config).unwrap();
        // Hold three connections at once so each one is a different connection.
        let mut held: Vec<_> = (0..3).map(|_| db.get().unwrap()).collect();
        for conn in &mut held {
            assert_eq!(text(conn, "journal_mode"), "wal");
            assert_eq!(number(conn, "busy_timeout", "timeout"), 5_000);
            assert_eq!(number(conn, "foreign_keys", "foreign_keys"), 1);
            assert_eq!(number(conn, "synchronous", "synchronous"), 1, "1 is NORMAL");
        }
    }
}

#[cfg(feature = "mysql")]
mod mysql {
    use diesel::prelude::*;
    use diesel::sql_types::Text;
    use triglot::mysql::MysqlDialect;

    use triglot::testing::TestDb;

    #[derive(QueryableByName, Debug)]
    struct Session {
        #[diesel(sql_type = Text)]
        sql_mode: String,
        #[diesel(sql_type = Text)]
        time_zone: String,
        #[diesel(sql_type = Text)]
        client: String,
        #[diesel(sql_type = Text)]
        connection: String,
        #[diesel(sql_type = Text)]
        results: String,
    }

    #[test]
    fn every_pooled_connection_is_strict_utc_and_utf8mb4() {
        let db = TestDb::<MysqlDialect>::new(module_path!(), &crate::library::MIGRATIONS);
        let mut held: Vec<_> = (0..3).map(|_| db.get().unwrap()).collect();
        for conn in &mut held {
            let s: Session = diesel::sql_query(
                "SELECT CAST(@@SESSION.sql_mode AS CHAR) AS sql_mode, CAST(@@SESSION.time_zone AS CHAR) AS time_zone, \
                 CAST(@@SESSION.character_set_client AS CHAR) AS client, \
                 CAST(@@SESSION.character_set_connection AS CHAR) AS connection, \
                 CAST(@@SESSION.character_set_results AS CHAR) AS results",
            )
            .get_result(&mut ***conn)
            .unwrap();
            let modes: Vec<&str> = s.sql_mode.split(',').collect();
            for mode in [
                "STRICT_ALL_TABLES",
                "STRICT_TRANS_TABLES",
                "NO_ZERO_DATE",
                "NO_ZERO_IN_DATE",
                "ONLY_FULL_GROUP_BY",
            ] {
                assert!(modes.contains(&mode), "{mode} missing from {}", s.sql_mode);
            }
            assert_eq!(s.time_zone, "+00:00");
            assert_eq!(
                (s.client.as_str(), s.connection.as_str(), s.results.as_str()),
                ("utf8mb4", "utf8mb4", "utf8mb4")
            );
        }
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    use diesel::prelude::*;
    use diesel::sql_types::Text;
    use triglot::postgres::PostgresDialect;

    use triglot::testing::TestDb;

    #[derive(QueryableByName, Debug)]
    struct Session {
        #[diesel(sql_type = Text)]
        time_zone: String,
        #[diesel(sql_type = Text)]
        application_name: String,
    }

    #[test]
    fn every_pooled_connection_is_utc_and_named_triglot() {
        let db = TestDb::<PostgresDialect>::new(module_path!(), &crate::library::MIGRATIONS);
        let mut held: Vec<_> = (0..3).map(|_| db.get().unwrap()).collect();
        for conn in &mut held {
            let s: Session = diesel::sql_query(
                "SELECT current_setting('TimeZone') AS time_zone, current_setting('application_name') AS application_name",
            )
            .get_result(&mut ***conn)
            .unwrap();
            assert_eq!(s.time_zone, "UTC");
            assert_eq!(s.application_name, "triglot");
        }
    }
}
