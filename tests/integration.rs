//! Integration tests of triglot on real databases; every `backend_test!` runs
//! once per compiled-in backend, each on a fresh migrated database.

mod harness;

// The `triglot` program end to end.
#[cfg(feature = "cli")]
mod cli;
// Each constraint violation and transient failure maps to its Error variant.
mod errors;
// Migrations up, down and up again.
mod migrate;
// Round trips of every column of every model.
mod model;
// Pools: session setup read back, in-memory databases, checkout timeouts.
mod pool;
// Choosing a backend by URL; passwords never shown.
mod url;
// The order writer: batches, idempotence, atomicity.
mod writer;
