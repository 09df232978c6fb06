//! The pipeline's one error type: a database failure (triglot's own
//! [`Error`](triglot::Error)), or what goes wrong with contracts and input.

use std::path::PathBuf;

use crate::contract::ContractError;

/// A `Result` whose error is the pipeline's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything the pipeline can fail with, as one enum a caller can match.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A database failure, classified by triglot.
    #[error(transparent)]
    Database(#[from] triglot::Error),
    /// A contract was refused, or does not fit an input file; names the line.
    #[error(transparent)]
    Contract(#[from] ContractError),
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A flow stopped on an error it could not retry away; the batches
    /// committed before it stay, and running it again completes the job
    /// (what was written is found unchanged).
    #[error(
        "flow run {run_id} stopped: {cause}\n{batches} batch(es) committed before it stay ({records} records decided); running the same command again completes the job"
    )]
    FlowStopped {
        /// The run's id in `triglot_runs` (marked failed).
        run_id: i64,
        /// Batches committed before the failure.
        batches: u64,
        /// Records decided in those batches.
        records: u64,
        /// The failure.
        cause: Box<Error>,
    },
    /// An input file cannot be read at all (a record-level problem is a reject instead).
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(" line {l}")).unwrap_or_default())]
    Input {
        /// The file.
        path: PathBuf,
        /// The line, when one is at fault.
        line: Option<u64>,
        /// What is wrong.
        message: String,
    },
}

impl Error {
    /// The database failure inside, if this is (or stopped on) one.
    pub fn database(&self) -> Option<&triglot::Error> {
        match self {
            Error::Database(e) => Some(e),
            Error::FlowStopped { cause, .. } => cause.database(),
            _ => None,
        }
    }
}
