//! Galera clusters: reads that see every write the cluster committed before them.

use diesel::connection::SimpleConnection;
use diesel::mysql::MysqlConnection;
use diesel::result::QueryResult;

/// Turns on causal reads for the session: each read first waits until the
/// node has applied every write set the cluster certified before it
/// (`wsrep_sync_wait` bit 1, reads). A write on another node, committed
/// before the read began, is then seen. The setting stays with the pooled
/// connection; it slows the reads inside later writes a little and changes
/// no result.
pub(crate) fn causal_reads(conn: &mut MysqlConnection) -> QueryResult<()> {
    conn.batch_execute("SET SESSION wsrep_sync_wait = 1")
}
