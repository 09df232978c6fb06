//! The writes whose SQL differs between backends: PostgreSQL spells them like
//! SQLite (`ON CONFLICT … DO UPDATE`, `RETURNING`).

triglot_core::on_conflict_writes!(diesel::pg::PgConnection);
