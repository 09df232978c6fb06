//! Galera clusters: reads that see every write the cluster committed before them.

use crate::connection::MysqlConnection;
use diesel::connection::SimpleConnection;
use diesel::result::QueryResult;

/// Makes the session causal: each statement first waits until the node
/// has applied every write set the cluster certified before it
/// (`wsrep_sync_wait` 15: reads, updates and deletes, inserts and
/// replaces, SHOW). A write committed on another node before the statement
/// began is then seen, by a read and by an upsert that would otherwise
/// insert the row again beside it. It costs each statement a round of the
/// cluster's messages, and stays with the pooled connection.
pub(crate) fn causal_reads(conn: &mut MysqlConnection) -> QueryResult<()> {
    conn.batch_execute("SET SESSION wsrep_sync_wait = 15")
}
