//! The decode hot path: order lines read by position from the row
//! (`triglot_core::positional_line_decoder!`).
//!
//! On MySQL diesel's `Selectable` decoding re-reads the column count with
//! two libmysqlclient calls for every field; this decoder was 12 % faster on
//! 100,000 lines. The rest of the gap to the `mysql` crate is diesel's row
//! API and libmysqlclient's buffered result (see the README's Benchmarks).

triglot_core::positional_line_decoder!(diesel::mysql::Mysql, diesel::mysql::MysqlConnection);
