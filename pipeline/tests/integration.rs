//! Integration tests of the order pipeline on real databases; every
//! `backend_test!` runs once per compiled-in backend, each on a fresh
//! database built from the order migrations.

mod harness;

// The `triglot` program end to end.
#[cfg(feature = "cli")]
mod cli;
// Each constraint violation and transient failure on the order tables maps to its Error variant.
mod errors;
// Flows on a schema of surrogate ids: natural keys looked up.
mod flow;
// Ingest through contracts: rejects with reasons, reconciled counts, reruns.
mod ingest;
// Round trips of every column of every model, the bulk path and the decode hot path.
mod model;
// The order schema on every backend and against its `table!`s; `triglot check`.
mod parity;
// The data-quality report: recounts and identical JSON on every backend.
mod report;
// The order writer: batches, idempotence, atomicity.
mod writer;
