//! Per-test overhead of the test harness: milliseconds to create, migrate and
//! drop an isolated database, per backend (median and 90th percentile).
//!
//! `cargo run --release -p triglot-benches --features mysql,postgres --bin harness_overhead -- [--runs N]`
//!
//! On PostgreSQL both ways are measured in the same run, interleaved: an
//! empty database migrated by diesel_migrations, and a copy of the migrated
//! template (what the harness uses).

use std::time::{Duration, Instant};

use triglot::testing::{database_name, server_url};
use triglot::{Database, PoolConfig};

fn once<D: triglot_pipeline::OrderBackend>(template: bool) -> Duration {
    let server = server_url::<D>();
    let name = database_name("overhead");
    let started = Instant::now();
    let copied = if template {
        D::create_migrated(&server, &name, &triglot_pipeline::MIGRATIONS).expect("create")
    } else {
        None
    };
    let (url, migrated) = match copied {
        Some(url) => (url, true),
        None => (D::create_database(&server, &name).expect("create"), false),
    };
    {
        let config = PoolConfig { max_size: 4, min_idle: Some(0), ..PoolConfig::default() };
        let db = Database::<D>::open_with(&url, config).expect("open");
        if !migrated {
            db.migrate(&triglot_pipeline::MIGRATIONS).expect("migrate");
        }
        // A test uses at least one connection.
        db.get().expect("checkout");
    }
    D::drop_database(&server, &name).expect("drop");
    started.elapsed()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1_000.0
}

fn report(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let median = samples[samples.len() / 2];
    let p90 = samples[(samples.len() * 9 / 10).min(samples.len() - 1)];
    println!(
        "{label:<38} median {:>7.1} ms   p90 {:>7.1} ms   ({} runs)",
        ms(median),
        ms(p90),
        samples.len()
    );
}

fn measure<D: triglot_pipeline::OrderBackend>(runs: usize, ways: &[(&str, bool)]) {
    // One untimed round builds caches (and the PostgreSQL template).
    for (_, template) in ways {
        once::<D>(*template);
    }
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); ways.len()];
    for _ in 0..runs {
        for (i, (_, template)) in ways.iter().enumerate() {
            samples[i].push(once::<D>(*template));
        }
    }
    for ((label, _), s) in ways.iter().zip(samples) {
        report(&format!("{} {label}", D::NAME), s);
    }
}

fn main() {
    let runs = std::env::args()
        .skip_while(|a| a != "--runs")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(30);
    println!("create + migrate + drop of one isolated test database");
    #[cfg(feature = "sqlite")]
    measure::<triglot::sqlite::SqliteDialect>(runs, &[("temp file, migrated", false)]);
    #[cfg(feature = "mysql")]
    measure::<triglot::mysql::MysqlDialect>(runs, &[("CREATE DATABASE, migrated", false)]);
    #[cfg(feature = "postgres")]
    measure::<triglot::postgres::PostgresDialect>(
        runs,
        &[("CREATE DATABASE, migrated", false), ("copy of migrated template", true)],
    );
}
