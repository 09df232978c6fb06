//! Reading input files, whatever the schema they fill: CSV with any
//! delimiter, with or without a header, and JSONL with nested arrays, as
//! records with their file and line ([`source`]); sorting records by key
//! with bounded memory, spilling sorted runs to temporary files ([`sort`]);
//! the CSV file of rejects ([`rejects_file`]); and triglot's own sample
//! order files with known defects ([`generate`]). The flows
//! ([`crate::flow`]) read their files through these.

pub mod generate;
pub(crate) mod rejects_file;
pub(crate) mod sort;
pub(crate) mod source;
