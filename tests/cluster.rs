//! Clusters: reads routed to replicas (or Galera nodes) see the writes
//! committed before them, a replica too far behind is passed over, and a
//! topology a backend cannot serve is refused.
//!
//! The tests marked `ignore` need the clusters of `scripts/scale-out.sh`
//! (a PostgreSQL primary with a streaming replica, three Galera nodes),
//! which runs them with their URLs in `TRIGLOT_SCALE_*`; each prints a
//! `scale-out-row:` line that the script puts in its table.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use triglot::{Database, PoolConfig, ReadPolicy, ReadRoute, Replication, Topology};

use crate::library::MIGRATIONS;

diesel::table! {
    checks (n) {
        n -> BigInt,
        v -> BigInt,
    }
}

/// The value stored under `n` in `checks`, or -1 when the row is not there
/// (pasted per backend: its connection type is concrete).
macro_rules! value_of {
    ($conn:expr, $n:expr) => {
        checks::table
            .find($n)
            .select(checks::v)
            .first::<i64>($conn)
            .optional()
            .map(|v| v.unwrap_or(-1))
    };
}

/// Writes `$n` times through `$db`, each followed at once by a read
/// through `$db.read`; evaluates to how many reads missed their write.
macro_rules! write_then_read {
    ($db:expr, $n:expr) => {{
        let db = &$db;
        db.run("creating the check table", |conn| {
            conn.batch_execute(
                "DROP TABLE IF EXISTS checks; \
                 CREATE TABLE checks (n BIGINT PRIMARY KEY, v BIGINT NOT NULL)",
            )
        })
        .unwrap();
        let mut stale = 0;
        for i in 0..$n {
            db.write("writing a check", |conn| {
                diesel::insert_into(checks::table)
                    .values((checks::n.eq(i), checks::v.eq(i * 7)))
                    .execute(conn)
            })
            .unwrap();
            let seen = db.read("reading the check back", |conn| value_of!(conn, i)).unwrap();
            if seen != i * 7 {
                stale += 1;
            }
        }
        stale
    }};
}

triglot::backend_test!(reads_on_a_cluster_see_the_writes_before_them, |db| {
    // The same server twice: a second node (Galera) or a "replica" that is
    // not in recovery, so it has replayed all of its own log.
    let url = db.url().expose().to_owned();
    let topology = match D::CAPABILITIES.replication {
        Replication::LogPosition => Topology::primary(&url).with_replica(&url),
        Replication::CausalReads => Topology::primary(&url).with_node(&url),
        _ => {
            let refused = Database::<D>::open_cluster(
                &Topology::primary(&url).with_replica(&url),
                PoolConfig::default(),
                ReadPolicy::default(),
            )
            .unwrap_err();
            assert!(refused.to_string().contains("no replicas"), "{refused}");
            return;
        }
    };
    let cluster =
        Database::<D>::open_cluster(&topology, PoolConfig::default(), ReadPolicy::default())
            .unwrap();
    assert_eq!(write_then_read!(cluster, 50), 0);
    let health = cluster.health();
    assert_eq!(health.replica_reads, 50, "{health:?}");
    assert_eq!(health.primary_reads, 0, "{health:?}");
    // Reads sent to the primary are not counted as routed.
    let on_primary = cluster.reads(ReadRoute::Primary);
    on_primary.read("reading on the primary", |conn| value_of!(conn, 1)).unwrap();
    assert_eq!(cluster.health().replica_reads, 50);
});

triglot::backend_test!(a_topology_the_backend_cannot_serve_is_refused, |db| {
    let url = db.url().expose().to_owned();
    let two_writers = Topology::primary(&url).with_node(&url);
    let with_replica = Topology::primary(&url).with_replica(&url);
    let open = |t: &Topology| {
        Database::<D>::open_cluster(t, PoolConfig::default(), ReadPolicy::default()).map(|_| ())
    };
    match D::CAPABILITIES.replication {
        Replication::LogPosition => {
            let err = open(&two_writers).unwrap_err();
            assert!(err.to_string().contains("one primary"), "{err}");
        }
        Replication::CausalReads => {
            let err = open(&with_replica).unwrap_err();
            assert!(err.to_string().contains("Galera nodes"), "{err}");
        }
        _ => {
            assert!(open(&two_writers).is_err() && open(&with_replica).is_err());
        }
    }
    assert!(open(&Topology::default()).is_err(), "a database without a writer opened");
});

/// A URL the scale-out script put in the environment.
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn scale_url(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run this test through `bash scripts/scale-out.sh`")
    })
}

#[cfg(feature = "postgres")]
mod streaming_replica {
    use std::time::{Duration, Instant};

    use super::*;
    use triglot::postgres::PostgresDialect;

    fn cluster(policy: ReadPolicy) -> Database<PostgresDialect> {
        let topology = Topology::primary(&scale_url("TRIGLOT_SCALE_PG_PRIMARY"))
            .with_replica(&scale_url("TRIGLOT_SCALE_PG_REPLICA"));
        Database::open_cluster(&topology, PoolConfig::default(), policy).unwrap()
    }

    #[test]
    #[ignore = "needs the clusters of scripts/scale-out.sh"]
    fn read_your_writes_holds_a_thousand_times_on_a_replica_postgres() {
        let db = cluster(ReadPolicy::default());
        let started = Instant::now();
        let stale = write_then_read!(db, 1000);
        let health = db.health();
        // Reads without the wait, right after a write: how often the
        // replica has not replayed it yet, which the wait above hides.
        let bounded = db.reads(ReadRoute::BoundedStaleness);
        let mut missed = 0;
        for i in 1000..1200 {
            db.write("writing a check", |conn| {
                diesel::insert_into(checks::table)
                    .values((checks::n.eq(i), checks::v.eq(i * 7)))
                    .execute(conn)
            })
            .unwrap();
            if bounded.read("reading without waiting", |conn| value_of!(conn, i)).unwrap() != i * 7
            {
                missed += 1;
            }
        }
        println!(
            "scale-out-row: PostgreSQL read-your-writes on the replica (write, then read at once) | 1000 | 1000 | {stale} stale | - | {:.2} s for all | {} ms (reads on the replica {}, on the primary {}; without the wait {missed} of 200 reads missed their write)",
            started.elapsed().as_secs_f64(),
            health.replica_lag_max_ms,
            health.replica_reads,
            health.primary_reads,
        );
        assert_eq!(stale, 0, "a read missed the write before it");
        // Most reads must have gone to the replica for the check to mean anything.
        assert!(health.replica_reads >= 900, "{health:?}");
    }

    #[test]
    #[ignore = "needs the clusters of scripts/scale-out.sh"]
    fn a_replica_further_behind_than_the_bound_is_passed_over_postgres() {
        let policy = ReadPolicy {
            max_lag: Duration::from_millis(300),
            lag_check_every: Duration::ZERO,
            ..ReadPolicy::default()
        };
        let db = cluster(policy);
        write_then_read!(db, 1);
        let replica =
            Database::<PostgresDialect>::open(&scale_url("TRIGLOT_SCALE_PG_REPLICA")).unwrap();
        replica.run("pausing replay", |c| c.batch_execute("SELECT pg_wal_replay_pause()")).unwrap();
        let resume = || {
            replica
                .run("resuming replay", |c| c.batch_execute("SELECT pg_wal_replay_resume()"))
                .unwrap();
        };
        db.write("writing while the replica is paused", |conn| {
            conn.batch_execute("INSERT INTO checks (n, v) VALUES (5, 35)")
        })
        .unwrap();
        std::thread::sleep(Duration::from_millis(600));
        let before = db.health();
        let bounded = db.reads(ReadRoute::BoundedStaleness);
        let seen = bounded.read("reading past a paused replica", |conn| value_of!(conn, 5));
        let read_your_writes = db.read("reading past a paused replica", |conn| value_of!(conn, 5));
        let after = db.health();
        resume();
        assert_eq!(seen.unwrap(), 35, "a replica beyond the bound served the read");
        assert_eq!(read_your_writes.unwrap(), 35);
        assert_eq!(after.primary_reads - before.primary_reads, 2, "{after:?}");
        assert!(after.replica_lag_max_ms >= 300, "{after:?}");
        // Caught up again, the replica serves reads.
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(
            bounded.read("reading after replay resumed", |conn| value_of!(conn, 5)).unwrap(),
            35
        );
        assert_eq!(db.health().replica_reads, after.replica_reads + 1);
        println!(
            "scale-out-row: PostgreSQL replica paused beyond a 300 ms bound | 2 | 2 | 0 | 0 | - | {} ms (both reads went to the primary)",
            after.replica_lag_max_ms
        );
    }
}

#[cfg(feature = "mysql")]
mod galera {
    use std::time::Instant;

    use super::*;
    use triglot::mysql::MysqlDialect;

    #[test]
    #[ignore = "needs the clusters of scripts/scale-out.sh"]
    fn reads_on_other_galera_nodes_see_the_writes_before_them_mysql() {
        let nodes = scale_url("TRIGLOT_SCALE_GALERA");
        let topology = Topology {
            writers: nodes.split_whitespace().map(str::to_owned).collect(),
            ..Topology::default()
        };
        assert_eq!(topology.writers.len(), 3, "{topology:?}");
        let db = Database::<MysqlDialect>::open_cluster(
            &topology,
            PoolConfig::default(),
            ReadPolicy::default(),
        )
        .unwrap();
        let started = Instant::now();
        let stale = write_then_read!(db, 1000);
        let health = db.health();
        println!(
            "scale-out-row: Galera causal reads on the next node (write on node 0, read on nodes 1, 2, 0 in turn) | 1000 | 1000 | {stale} stale | - | {:.2} s for all | -",
            started.elapsed().as_secs_f64(),
        );
        assert_eq!(stale, 0, "a read missed the write before it");
        assert_eq!(health.replica_reads, 1000, "{health:?}");
    }
}

triglot::backend_test!(
    a_server_that_does_not_answer_is_passed_over_and_its_password_never_shown,
    |db| {
        let url = db.url().expose().to_owned();
        let scheme = url.split("://").next().unwrap_or_default().to_owned();
        let dead = format!("{scheme}://app:c4n%2Fary@127.0.0.1:1/nothing");
        let topology = match D::CAPABILITIES.replication {
            Replication::LogPosition => Topology::primary(&url).with_replica(&dead),
            Replication::CausalReads => Topology::primary(&url).with_node(&dead),
            _ => return,
        };
        let cluster =
            Database::<D>::open_cluster(&topology, PoolConfig::default(), ReadPolicy::default())
                .unwrap();
        assert_eq!(write_then_read!(cluster, 5), 0);
        let shown = format!("{cluster:?} {:?} {topology:?}", cluster.servers());
        assert!(!shown.contains("c4n"), "{shown}");
        assert!(shown.contains("127.0.0.1:1"), "the dead server is listed: {shown}");
        // Passed over, not tried: no statement failed.
        let health = cluster.health();
        assert_eq!((health.failures, health.connections_lost), (0, 0), "{health:?}");
    }
);
