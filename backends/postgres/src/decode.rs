//! The decode hot path: order lines read by position from the row
//! (`triglot_core::positional_line_decoder!`), instead of through one
//! nested partial row per field.

triglot_core::positional_line_decoder!(diesel::pg::Pg, diesel::pg::PgConnection);
