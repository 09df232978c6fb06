//! `backend_bench!`: one body per compiled-in backend, each on a database of
//! its own, registered as `<bench>/<backend>`.

use std::time::Duration;

use diesel::prelude::*;

use crate::library::{MIGRATIONS, books};

#[test]
fn backend_bench_times_one_body_on_every_compiled_in_backend() {
    let mut c = criterion::Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_millis(20))
        .without_plots();
    let mut ran = Vec::new();
    triglot::backend_bench!(&mut c, "harness_check", |db, b| {
        // Setup runs once per backend, on its own migrated database.
        db.write("seeding", |conn| {
            diesel::sql_query("INSERT INTO authors (name) VALUES ('Lem')").execute(conn)?;
            diesel::sql_query("INSERT INTO books (isbn, title, author_id, pages) SELECT '1', 'Solaris', id, 204 FROM authors")
                .execute(conn)
        })
        .expect("seeding");
        let mut timed = 0_u64;
        b.iter(|| {
            timed += 1;
            db.run("counting", |conn| books::table.count().get_result::<i64>(conn)).expect("count")
        });
        assert!(timed > 0, "criterion ran the routine");
        ran.push((b.backend(), db.backend_name()));
    });

    let mut expected = Vec::new();
    if cfg!(feature = "sqlite") {
        expected.push(("sqlite", "SQLite"));
    }
    if cfg!(feature = "mysql") {
        expected.push(("mysql", "MySQL"));
    }
    if cfg!(feature = "postgres") {
        expected.push(("postgres", "PostgreSQL"));
    }
    assert_eq!(ran, expected);
}
