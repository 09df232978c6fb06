//! Pools: in-memory SQLite databases are shared by the pool, checkouts time
//! out, busy databases are retryable; server connections lost, stuck or
//! silent are replaced.

#[cfg(feature = "sqlite")]
mod sqlite {
    use std::time::Duration;

    use diesel::prelude::*;
    use triglot::sqlite::SqliteDialect;
    use triglot::{Database, Error, PoolConfig};

    use crate::library::{NewAuthor, authors};

    #[test]
    fn a_commit_that_lost_its_connection_is_a_lost_connection_sqlite() {
        use diesel::result::{DatabaseErrorKind, Error as Diesel};
        let db = Database::<SqliteDialect>::open("sqlite::memory:").unwrap();
        let lost = || {
            Diesel::DatabaseError(DatabaseErrorKind::ClosedConnection, Box::new("gone".to_owned()))
        };
        // What diesel's transaction manager gives when COMMIT and the
        // rollback after it both meet a dead connection.
        let on_commit = Diesel::RollbackErrorOnCommit {
            rollback_error: Box::new(lost()),
            commit_error: Box::new(lost()),
        };
        let err = db.error("committing", on_commit);
        assert!(err.is_connection_failure(), "{err}");
        let failed_check = Diesel::RollbackErrorOnCommit {
            rollback_error: Box::new(lost()),
            commit_error: Box::new(Diesel::NotFound),
        };
        let other = db.error("committing", failed_check);
        assert!(!other.is_connection_failure(), "{other}");
    }

    #[test]
    fn memory_database_is_shared_by_every_checkout() {
        let db = Database::<SqliteDialect>::open("sqlite::memory:").unwrap();
        db.migrate(&crate::library::MIGRATIONS).unwrap();
        db.run("insert", |conn| {
            diesel::insert_into(authors::table)
                .values(NewAuthor { name: "Lem".into(), country: None })
                .execute(conn)
        })
        .unwrap();
        for _ in 0..3 {
            let count: i64 =
                db.run("count", |conn| authors::table.count().get_result(conn)).unwrap();
            assert_eq!(count, 1);
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
        db.migrate(&crate::library::MIGRATIONS).unwrap();
        let mut holder = db.get().unwrap();
        diesel::connection::SimpleConnection::batch_execute(&mut **holder, "BEGIN IMMEDIATE")
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

/// A connection whose server session was killed while it sat idle is never
/// handed out: the check-out ping finds it dead and the pool replaces it.
#[cfg(any(feature = "mysql", feature = "postgres"))]
mod server_gone {
    use std::time::Duration;

    use diesel::connection::SimpleConnection;
    use diesel::prelude::*;
    use triglot::testing::TestDb;
    use triglot::{Database, PoolConfig, RetryPolicy};

    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
    }

    /// Opens the test database again with one connection and a short idle threshold.
    fn single<D: triglot::Dialect>(test: &TestDb<D>) -> Database<D> {
        let config = PoolConfig {
            max_size: 1,
            min_idle: Some(1),
            ping_after_idle: Duration::from_millis(100),
            ..PoolConfig::default()
        };
        Database::<D>::open_with(test.url(), config).unwrap()
    }

    fn killed_session_is_replaced<D: triglot::Dialect>(sessions: &Sessions)
    where
        D::Connection: diesel::connection::LoadConnection,
        diesel::query_builder::SqlQuery:
            for<'q> diesel::query_dsl::LoadQuery<'q, D::Connection, Id>,
    {
        let Sessions { id: session_id, kill, .. } = *sessions;
        let test = TestDb::<D>::new(
            &format!("pool::server_gone::{}", D::NAME),
            &crate::library::MIGRATIONS,
        );
        let db = single(&test);
        let first = db
            .run("session id", |conn| diesel::sql_query(session_id).get_result::<Id>(conn))
            .unwrap()
            .id;
        // Killed from another connection while the pooled one sits idle.
        let mut other = test.get().unwrap();
        other.batch_execute(&kill(first)).unwrap();
        drop(other);
        std::thread::sleep(Duration::from_millis(300));
        let second = db
            .run("session id", |conn| diesel::sql_query(session_id).get_result::<Id>(conn))
            .unwrap()
            .id;
        assert_ne!(first, second, "{}: the dead connection was handed out", D::NAME);
    }

    /// Kills every connection of a pool that pings none of them (they were
    /// all used moments ago), as a server restart does: the first write
    /// finds its connection dead; with a policy that waits for the server it
    /// runs again on a new connection, not on one of the other dead ones.
    fn lost_connection_is_retried_and_its_peers_dropped<D: triglot::Dialect>(sessions: &Sessions)
    where
        D::Connection: diesel::connection::LoadConnection,
        diesel::query_builder::SqlQuery:
            for<'q> diesel::query_dsl::LoadQuery<'q, D::Connection, Id>,
    {
        let Sessions { id: session_id, kill, .. } = *sessions;
        let test = TestDb::<D>::new(
            &format!("pool::server_gone::peers::{}", D::NAME),
            &crate::library::MIGRATIONS,
        );
        let config = PoolConfig {
            max_size: 3,
            min_idle: Some(3),
            ping_after_idle: Duration::from_secs(3600),
            ..PoolConfig::default()
        };
        let db = Database::<D>::open_with(test.url(), config).unwrap();
        let id_of = |conn: &mut D::Connection| {
            diesel::sql_query(session_id).get_result::<Id>(conn).map(|row| row.id)
        };
        // Every pooled connection is checked out, used and killed from outside.
        let kill_all = || {
            let mut held: Vec<_> = (0..3).map(|_| db.get().unwrap()).collect();
            let ids: Vec<i64> = held.iter_mut().map(|conn| id_of(conn).unwrap()).collect();
            drop(held);
            let mut other = test.get().unwrap();
            for id in &ids {
                other.batch_execute(&kill(*id)).unwrap();
            }
            ids
        };

        kill_all();
        let once = db.write_with_retry("session id", &RetryPolicy::default(), id_of);
        assert!(
            once.as_ref().is_err_and(triglot::Error::is_connection_failure),
            "{}: the default policy makes a lost connection final: {once:?}",
            D::NAME
        );
        assert!(db.health().connections_lost >= 1, "{}: the loss is counted", D::NAME);

        let killed = kill_all();
        let policy =
            RetryPolicy { reconnect_for: Duration::from_secs(30), ..RetryPolicy::default() };
        let done = db.write_with_retry("session id", &policy, id_of).unwrap();
        assert!(!killed.contains(&done.value), "{}: a dead connection was used", D::NAME);
        assert_eq!(
            done.attempts,
            2,
            "{}: one attempt on a dead connection, then a new one: the other connections \
             opened before the loss are dropped, not handed out",
            D::NAME
        );
    }

    /// A statement the server leaves unanswered for 30 s, as a stuck server
    /// does, fails as a lost connection once the pool's limit has passed;
    /// the pool goes on with a fresh connection.
    fn a_statement_without_an_answer_past_its_limit_fails_as_a_lost_connection<
        D: triglot::Dialect,
    >(
        sessions: &Sessions,
    ) {
        use std::time::Instant;
        let test = TestDb::<D>::new(
            &format!("pool::server_gone::stuck::{}", D::NAME),
            &crate::library::MIGRATIONS,
        );
        let config =
            PoolConfig { stuck_statement: Some(Duration::from_secs(2)), ..PoolConfig::default() };
        let db = Database::<D>::open_with(test.url(), config).unwrap();
        let started = Instant::now();
        let err = db.run("waiting for an answer", |conn| conn.batch_execute(sessions.sleep));
        let waited = started.elapsed();
        let err = err.unwrap_err();
        assert_eq!(err.kind(), Some(triglot::ErrorKind::ConnectionLost), "{}: {err}", D::NAME);
        assert!(
            waited >= Duration::from_secs(2) && waited < Duration::from_secs(10),
            "{}: {waited:?}",
            D::NAME
        );
        db.run("answering at once", |conn| conn.batch_execute("SELECT 1")).unwrap();
    }

    /// A connection cut while its statement waits for a lock leaves its
    /// session on the server, still waiting, and holding the locks its
    /// transaction took, as a connection lost on a silent network does:
    /// the server learns nothing of it (PostgreSQL until the wait ends,
    /// MariaDB until the 50 s lock wait does). The next connection the pool
    /// opens ends that session, and its locks are free at once.
    fn a_session_left_by_a_cut_connection_is_ended_by_the_next_one<D: triglot::Dialect>(
        sessions: &Sessions,
    ) where
        D::Connection: diesel::connection::LoadConnection,
        diesel::query_builder::SqlQuery:
            for<'q> diesel::query_dsl::LoadQuery<'q, D::Connection, Id>,
    {
        use std::time::Instant;
        let test = TestDb::<D>::new(
            &format!("pool::server_gone::left::{}", D::NAME),
            &crate::library::MIGRATIONS,
        );
        let mut holder = test.get().unwrap();
        holder.batch_execute("CREATE TABLE held (id INTEGER PRIMARY KEY)").unwrap();
        holder.batch_execute("INSERT INTO held (id) VALUES (1), (2)").unwrap();
        holder.batch_execute("BEGIN").unwrap();
        holder.batch_execute("SELECT id FROM held WHERE id = 1 FOR UPDATE").unwrap();
        // No idle connection kept: the pool opens the next one when asked.
        let config = PoolConfig {
            max_size: 1,
            min_idle: Some(0),
            stuck_statement: Some(Duration::from_secs(2)),
            ..PoolConfig::default()
        };
        let db = Database::<D>::open_with(test.url(), config).unwrap();
        let mut cut = None;
        let err = db
            .run("waiting for a lock", |conn| {
                diesel::Connection::transaction(conn, |conn| {
                    cut = Some(diesel::sql_query(sessions.id).get_result::<Id>(conn)?.id);
                    conn.batch_execute("SELECT id FROM held WHERE id = 2 FOR UPDATE")?;
                    conn.batch_execute("SELECT id FROM held WHERE id = 1 FOR UPDATE")
                })
            })
            .unwrap_err();
        assert_eq!(err.kind(), Some(triglot::ErrorKind::ConnectionLost), "{}: {err}", D::NAME);
        let cut = cut.expect("the session's id");
        let mut other = test.get().unwrap();
        let mut there = || {
            diesel::sql_query((sessions.alive)(cut)).get_result::<Id>(&mut other).unwrap().id == 1
        };
        assert!(there(), "{}: the cut session is still on the server", D::NAME);

        let asked = Instant::now();
        db.run("answering at once", |conn| conn.batch_execute("SELECT 1")).unwrap();
        while there() {
            assert!(
                asked.elapsed() < Duration::from_secs(5),
                "{}: session {cut} is still on the server 5 s after the pool's next connection",
                D::NAME
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        db.run("locking what it held", |conn| {
            diesel::Connection::transaction(conn, |conn| {
                conn.batch_execute("SELECT id FROM held WHERE id = 2 FOR UPDATE NOWAIT")
            })
        })
        .unwrap();
        holder.batch_execute("ROLLBACK").unwrap();
    }

    /// A session is ended only while the server still has the one recorded:
    /// a restarted server gives its numbers out again, and the same number
    /// with another mark (client address, start time) is another session.
    fn only_the_recorded_session_is_ended<D: triglot::Dialect>(sessions: &Sessions)
    where
        D::Connection: diesel::connection::LoadConnection,
        diesel::query_builder::SqlQuery:
            for<'q> diesel::query_dsl::LoadQuery<'q, D::Connection, Id>,
    {
        let test = TestDb::<D>::new(
            &format!("pool::server_gone::recorded::{}", D::NAME),
            &crate::library::MIGRATIONS,
        );
        let mut target = test.get().unwrap();
        let mut other = test.get().unwrap();
        let who = D::server_session(&mut target).unwrap().identity.expect("a TCP session");
        let id = diesel::sql_query(sessions.id).get_result::<Id>(&mut target).unwrap().id;
        assert_eq!(who.id, id, "{}", D::NAME);
        let later = triglot::SessionIdentity { mark: format!("{}0", who.mark), ..who.clone() };
        assert!(!D::end_session(&mut other, &later).unwrap(), "{}: another mark", D::NAME);
        target.batch_execute("SELECT 1").unwrap();
        assert!(D::end_session(&mut other, &who).unwrap(), "{}: the recorded one", D::NAME);
        let alive = (sessions.alive)(id);
        let mut left = 100;
        while diesel::sql_query(&alive).get_result::<Id>(&mut other).unwrap().id == 1 {
            left -= 1;
            assert!(left > 0, "{}: session {id} still there 5 s after it was ended", D::NAME);
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(!D::end_session(&mut other, &who).unwrap(), "{}: ended already", D::NAME);
    }

    /// Every pooled TCP connection's socket has keepalive and the TCP user
    /// timeout: set by libpq from its options, by the pool on MySQL.
    fn a_pooled_connection_has_keepalive_and_the_user_timeout<D: triglot::Dialect>() {
        use std::os::fd::BorrowedFd;
        use triglot::socket::{KEEPALIVE, USER_TIMEOUT, socket_of};
        let test = TestDb::<D>::new(
            &format!("pool::server_gone::socket::{}", D::NAME),
            &crate::library::MIGRATIONS,
        );
        let config = PoolConfig { max_size: 2, min_idle: Some(2), ..PoolConfig::default() };
        let db = Database::<D>::open_with(test.url(), config).unwrap();
        let mut held: Vec<_> = (0..2).map(|_| db.get().unwrap()).collect();
        for conn in &mut held {
            let ports = D::server_session(conn).unwrap().ports.expect("a TCP session");
            let fd = socket_of(ports).expect("the connection's socket");
            #[allow(unsafe_code)]
            // SAFETY: the socket of `conn`, held open for this whole loop.
            let fd = unsafe { BorrowedFd::borrow_raw(fd) };
            let socket = socket2::SockRef::from(&fd);
            assert_eq!(socket.tcp_user_timeout().unwrap(), Some(USER_TIMEOUT), "{}", D::NAME);
            assert!(socket.keepalive().unwrap(), "{}", D::NAME);
            assert_eq!(socket.tcp_keepalive_time().unwrap(), KEEPALIVE.0, "{}", D::NAME);
            assert_eq!(socket.tcp_keepalive_interval().unwrap(), KEEPALIVE.1, "{}", D::NAME);
            assert_eq!(socket.tcp_keepalive_retries().unwrap(), KEEPALIVE.2, "{}", D::NAME);
        }
    }

    /// How a server names a session, how another session kills it, a
    /// statement it answers only after 30 s, and how many sessions it has
    /// with a number (as `id`).
    #[derive(Clone, Copy)]
    struct Sessions {
        id: &'static str,
        kill: fn(i64) -> String,
        sleep: &'static str,
        alive: fn(i64) -> String,
    }

    #[cfg(feature = "postgres")]
    const POSTGRES: Sessions = Sessions {
        id: "SELECT CAST(pg_backend_pid() AS BIGINT) AS id",
        kill: |pid| format!("SELECT pg_terminate_backend({pid})"),
        sleep: "SELECT pg_sleep(30)",
        alive: |pid| {
            format!("SELECT CAST(COUNT(*) AS BIGINT) AS id FROM pg_stat_activity WHERE pid = {pid}")
        },
    };

    #[cfg(feature = "mysql")]
    const MYSQL: Sessions = Sessions {
        id: "SELECT CAST(CONNECTION_ID() AS SIGNED) AS id",
        kill: |id| format!("KILL {id}"),
        sleep: "DO SLEEP(30)",
        alive: |id| {
            format!(
                "SELECT CAST(COUNT(*) AS SIGNED) AS id FROM information_schema.PROCESSLIST \
                 WHERE ID = {id}"
            )
        },
    };

    #[cfg(feature = "postgres")]
    #[test]
    fn lost_connection_is_retried_and_its_peers_dropped_postgres() {
        use triglot::postgres::PostgresDialect as D;
        lost_connection_is_retried_and_its_peers_dropped::<D>(&POSTGRES);
    }

    #[cfg(feature = "mysql")]
    #[test]
    fn lost_connection_is_retried_and_its_peers_dropped_mysql() {
        use triglot::mysql::MysqlDialect as D;
        lost_connection_is_retried_and_its_peers_dropped::<D>(&MYSQL);
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn postgres_connection_killed_while_idle_is_replaced() {
        use triglot::postgres::PostgresDialect as D;
        killed_session_is_replaced::<D>(&POSTGRES);
    }

    #[cfg(feature = "mysql")]
    #[test]
    fn mysql_connection_killed_while_idle_is_replaced() {
        use triglot::mysql::MysqlDialect as D;
        killed_session_is_replaced::<D>(&MYSQL);
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn a_statement_without_an_answer_past_its_limit_fails_as_a_lost_connection_postgres() {
        use triglot::postgres::PostgresDialect as D;
        a_statement_without_an_answer_past_its_limit_fails_as_a_lost_connection::<D>(&POSTGRES);
    }

    #[cfg(feature = "mysql")]
    #[test]
    fn a_statement_without_an_answer_past_its_limit_fails_as_a_lost_connection_mysql() {
        use triglot::mysql::MysqlDialect as D;
        a_statement_without_an_answer_past_its_limit_fails_as_a_lost_connection::<D>(&MYSQL);
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn a_session_left_by_a_cut_connection_is_ended_by_the_next_one_postgres() {
        use triglot::postgres::PostgresDialect as D;
        a_session_left_by_a_cut_connection_is_ended_by_the_next_one::<D>(&POSTGRES);
    }

    #[cfg(feature = "mysql")]
    #[test]
    fn a_session_left_by_a_cut_connection_is_ended_by_the_next_one_mysql() {
        use triglot::mysql::MysqlDialect as D;
        a_session_left_by_a_cut_connection_is_ended_by_the_next_one::<D>(&MYSQL);
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn only_the_recorded_session_is_ended_postgres() {
        only_the_recorded_session_is_ended::<triglot::postgres::PostgresDialect>(&POSTGRES);
    }

    #[cfg(feature = "mysql")]
    #[test]
    fn only_the_recorded_session_is_ended_mysql() {
        only_the_recorded_session_is_ended::<triglot::mysql::MysqlDialect>(&MYSQL);
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn a_pooled_connection_has_keepalive_and_the_user_timeout_postgres() {
        a_pooled_connection_has_keepalive_and_the_user_timeout::<triglot::postgres::PostgresDialect>(
        );
    }

    /// The server's end of a pooled PostgreSQL session has keepalive and the
    /// TCP user timeout too, so a session whose client vanished on a silent
    /// network ends and frees its locks; what the URL's `options` set is kept.
    #[cfg(feature = "postgres")]
    #[test]
    fn the_servers_end_of_a_session_has_keepalive_unless_the_url_sets_it_postgres() {
        use diesel::sql_types::Text;
        use triglot::postgres::PostgresDialect as D;
        #[derive(QueryableByName)]
        struct Setting {
            #[diesel(sql_type = Text)]
            name: String,
            #[diesel(sql_type = Text)]
            setting: String,
        }
        let test = TestDb::<D>::new("pool::server_keepalive", &crate::library::MIGRATIONS);
        let settings = |url: &str| {
            let db = Database::<D>::open(url).unwrap();
            let rows: Vec<Setting> = db
                .run("reading the session's settings", |conn| {
                    diesel::sql_query(
                        "SELECT name, setting FROM pg_settings WHERE name IN \
                         ('tcp_keepalives_idle', 'tcp_keepalives_interval', \
                         'tcp_keepalives_count', 'tcp_user_timeout') ORDER BY name",
                    )
                    .load(conn)
                })
                .unwrap();
            rows.into_iter().map(|s| (s.name, s.setting)).collect::<Vec<_>>()
        };
        let pairs = |list: &[(&str, &str)]| {
            list.iter().map(|(n, s)| (n.to_string(), s.to_string())).collect::<Vec<_>>()
        };
        assert_eq!(
            settings(test.url()),
            pairs(&[
                ("tcp_keepalives_count", "3"),
                ("tcp_keepalives_idle", "30"),
                ("tcp_keepalives_interval", "10"),
                ("tcp_user_timeout", "30000"),
            ])
        );
        let sep = if test.url().contains('?') { '&' } else { '?' };
        let own = format!("{}{sep}options=-c%20tcp_keepalives_idle%3D45", test.url());
        assert_eq!(
            settings(&own),
            pairs(&[
                ("tcp_keepalives_count", "3"),
                ("tcp_keepalives_idle", "45"),
                ("tcp_keepalives_interval", "10"),
                ("tcp_user_timeout", "30000"),
            ])
        );
    }

    #[cfg(feature = "mysql")]
    #[test]
    fn a_pooled_connection_has_keepalive_and_the_user_timeout_mysql() {
        a_pooled_connection_has_keepalive_and_the_user_timeout::<triglot::mysql::MysqlDialect>();
    }
}
