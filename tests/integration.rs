//! Integration tests of the toolkit on real databases, on a schema of their
//! own (`library`); every `backend_test!` runs once per compiled-in backend,
//! each on a fresh database built from the library's migrations.

mod library;

// Cross-backend criterion benches: one body per backend.
mod bench;
// Clusters: reads routed to replicas see earlier writes; lag bounds; refusals.
mod cluster;
// One body on the backend a URL names; a crate's own traits per backend.
mod dispatch;
// The harness: unreachable servers fail loudly, capabilities gate bodies,
// migrations, fixtures and setup build a test's database.
mod harness_rules;
// Databases of killed runs are dropped by the next run.
mod harness_sweep;
// Statements counted and timed, slow ones logged without binds; retries.
mod health;
// Each column's limits as the catalog says.
mod introspect;
// Migrations up, down and up again; a failing one names its database.
mod migrate;
// The library's migrations compared across backends and with its tables.
mod parity;
// Pools: in-memory databases, checkout timeouts, busy databases, dead connections.
mod pool;
// The session setup of every backend, read back from pooled connections.
mod session;
// PostgreSQL's migrated templates keyed by the set's content.
mod templates;
// Choosing a backend by URL; passwords never shown.
mod url;
// Generic writes: bulk load, upsert, insert returning the new id.
mod writes;
