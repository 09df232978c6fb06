//! Integration tests of triglot on real databases; every `backend_test!` runs
//! once per compiled-in backend, each on a fresh migrated database.

mod harness;

// Cross-backend criterion benches: one body per backend.
mod bench;
// The `triglot` program end to end.
#[cfg(feature = "cli")]
mod cli;
// The harness: unreachable servers fail loudly, capabilities gate bodies.
mod harness_rules;
// Databases of killed runs are dropped by the next run.
mod harness_sweep;
// Each constraint violation and transient failure maps to its Error variant.
mod errors;
// Ingest through contracts: rejects with reasons, reconciled counts, reruns.
mod ingest;
// Migrations up, down and up again.
mod migrate;
// Round trips of every column of every model.
mod model;
// The live schema against the model layer; `triglot check`.
mod parity;
// The data-quality report: recounts and identical JSON on every backend.
mod report;
// Pools: in-memory databases, checkout timeouts, busy databases.
mod pool;
// The session setup of every backend, read back from pooled connections.
mod session;
// Choosing a backend by URL; passwords never shown.
mod url;
// The order writer: batches, idempotence, atomicity.
mod writer;
