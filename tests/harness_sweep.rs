//! Databases left by a killed test run are dropped by the next run.

#[allow(unused_imports)]
use crate::library::MIGRATIONS;
use triglot::testing::{database_name, server_url, sweep_stale};

/// A process id that no running process has.
fn dead_pid() -> u32 {
    (100_000..4_000_000)
        .rev()
        .find(|pid| !std::path::Path::new("/proc").join(pid.to_string()).exists())
        .expect("a free pid")
}

/// `database_name` for `test`, as a process with `pid` would have made it.
fn name_of_process(test: &str, pid: u32) -> String {
    let mine = database_name(test);
    let mut parts: Vec<&str> = mine.rsplitn(3, '_').collect();
    let pid = pid.to_string();
    parts[1] = &pid;
    parts.reverse();
    parts.join("_")
}

triglot::backend_test!(a_killed_runs_databases_are_dropped_by_the_next_run, |db| {
    let server = server_url::<D>();
    let stale = name_of_process("killed_run", dead_pid());
    let live = name_of_process("live_run", std::process::id());
    D::create_database(&server, &stale).unwrap();
    D::create_database(&server, &live).unwrap();

    let dropped = sweep_stale::<D>(&server).unwrap();
    let left = D::list_databases(&server, "tg_").unwrap();
    D::drop_database(&server, &live).unwrap();

    assert!(dropped.contains(&stale), "{stale} not swept: {dropped:?}");
    assert!(!left.contains(&stale), "{stale} still there");
    assert!(left.contains(&live), "a live process's database must stay");
    assert!(!dropped.contains(&live));
});

/// Holds a database open on every backend until killed; `scripts/killed-run.sh`
/// runs it, kills it with SIGKILL and checks the next run cleans up.
#[test]
#[ignore = "run by scripts/killed-run.sh, which kills it"]
fn hold_databases_until_killed() {
    #[cfg(feature = "sqlite")]
    let _sqlite = triglot::testing::TestDb::<triglot::sqlite::SqliteDialect>::new(
        "held",
        &crate::library::MIGRATIONS,
    );
    #[cfg(feature = "mysql")]
    let _mysql = triglot::testing::TestDb::<triglot::mysql::MysqlDialect>::new(
        "held",
        &crate::library::MIGRATIONS,
    );
    #[cfg(feature = "postgres")]
    let _postgres = triglot::testing::TestDb::<triglot::postgres::PostgresDialect>::new(
        "held",
        &crate::library::MIGRATIONS,
    );
    println!("HOLDING {}", std::process::id());
    std::thread::sleep(std::time::Duration::from_secs(300));
}

triglot::backend_test!(a_panicking_test_still_drops_its_database, |_db| {
    use triglot::testing::{PREFIX, TestDb};
    let server = server_url::<D>();
    let outcome = std::panic::catch_unwind(|| {
        let test = TestDb::<D>::new("panicking_test", &crate::library::MIGRATIONS);
        let listed = D::list_databases(&server, PREFIX).unwrap();
        assert!(listed.iter().any(|n| n == test.name()), "{} was created", test.name());
        std::panic::panic_any(test.name().to_owned());
    });
    let payload = outcome.expect_err("the body panicked");
    let name = payload.downcast::<String>().expect("the panic carries the database name");
    let left = D::list_databases(&server, PREFIX).unwrap();
    assert!(!left.contains(&name), "{name} was left behind by a panicking test");
});
