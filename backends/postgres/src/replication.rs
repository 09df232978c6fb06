//! Streaming replication: where the primary's write-ahead log ends, and how
//! far a replica has replayed it.

use std::time::Duration;

use crate::connection::PgConnection;
use diesel::prelude::*;
use diesel::result::QueryResult;
use diesel::sql_types::BigInt;
use triglot_core::ReplicaState;

#[derive(QueryableByName)]
struct Position {
    #[diesel(sql_type = BigInt)]
    position: i64,
}

#[derive(QueryableByName)]
struct Standing {
    #[diesel(sql_type = BigInt)]
    replayed: i64,
    #[diesel(sql_type = BigInt)]
    lag_us: i64,
}

/// The primary's current WAL position, as bytes from the log's start.
pub(crate) fn log_position(conn: &mut PgConnection) -> QueryResult<u64> {
    // pg_current_wal_lsn() errors during recovery: a replica has no log of its own.
    let row: Position =
        diesel::sql_query("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint AS position")
            .get_result(conn)?;
    Ok(row.position.max(0) as u64)
}

/// What a replica has replayed, and its lag: zero while it has replayed all
/// it received (an idle primary sends nothing, so the age of the last
/// replayed transaction alone would call an idle replica late). A server
/// that is not in recovery (a promoted replica) has replayed all of its own
/// log.
pub(crate) fn replica_state(conn: &mut PgConnection) -> QueryResult<ReplicaState> {
    let row: Standing = diesel::sql_query(
        "SELECT CASE WHEN pg_is_in_recovery() \
                THEN COALESCE((pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint, 0) \
                ELSE (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint END AS replayed, \
             CASE WHEN NOT pg_is_in_recovery() \
                    OR pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0 \
                ELSE COALESCE((EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp()) \
                    * 1000000)::bigint, 0) END AS lag_us",
    )
    .get_result(conn)?;
    Ok(ReplicaState {
        replayed: row.replayed.max(0) as u64,
        lag: Duration::from_micros(row.lag_us.max(0) as u64),
    })
}
