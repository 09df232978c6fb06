//! The writes whose SQL differs between backends: SQLite spells them like
//! PostgreSQL (`ON CONFLICT … DO UPDATE`, `RETURNING`).

triglot_core::on_conflict_writes!(diesel::sqlite::SqliteConnection);
