//! The foreign keys a run checks once after loading an empty table, not
//! row by row ([`Dialect::foreign_key_checked_after_load`]).
//!
//! Only a child's link to its parent's generated id: the run writes a
//! child only in the transaction that wrote its parent and read that id
//! back, so every such row references a row the transaction holds locked,
//! and nothing the database would refuse is let through. A key the run
//! fills from anything else (a field, a lookup) is checked row by row as
//! ever, so that its refusals still become rejects.
//!
//! A run stopped between a batch and the final check leaves the key in
//! place, holding for every later write, but marked unchecked; the next
//! run of the flow checks it before it loads.

use std::collections::BTreeMap;

use triglot::introspect::ForeignKey;
use triglot::values::Statement;
use triglot::{Database, DeferredKeyCheck, ErrorKind};

use super::books::{FlowBackend, FlowQueries};
use super::plan::Flow;

/// The keys a run suspends in its batches, by child table.
pub(crate) type KeyChecks = BTreeMap<String, DeferredKeyCheck>;

/// Finds the link keys of `flow`'s children that this run checks after
/// its load: those whose table is empty. A key an earlier run left
/// unchecked is checked first.
///
/// # Errors
///
/// A statement that reads the catalog or a table, or a check that fails
/// other than on a row that references nothing.
pub(crate) fn find<D: FlowBackend>(db: &Database<D>, flow: &Flow) -> triglot::Result<KeyChecks> {
    let policy = triglot::RetryPolicy::through_restarts();
    let mut found = KeyChecks::new();
    for family in &flow.families {
        for child in &family.children {
            let Some(generated) = &child.generated_link else { continue };
            let link = ForeignKey {
                columns: child.link_columns.clone(),
                references: family.parent.name.clone(),
                referenced_columns: vec![generated.clone()],
            };
            let key = db.retry(&policy, |_| {
                db.run("finding a foreign key to check after the load", |conn| {
                    D::foreign_key_checked_after_load(conn, &child.name, &link)
                })
            })?;
            let Some(key) = key.value else { continue };
            if !key.valid {
                validate(db, &child.name, &key)?;
            }
            let mut stored = Statement::new("SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM ");
            stored.ident(&child.name).sql(" LIMIT 1) t");
            let rows = db.retry(&policy, |_| {
                db.run("reading whether a table is empty", |conn| conn.count(&stored))
            })?;
            if rows.value.unwrap_or(0) == 0 {
                found.insert(child.name.clone(), key);
            }
        }
    }
    Ok(found)
}

/// Checks every row of `table` against `key` and marks it checked. A row
/// that references nothing (written while a run held the key unchecked,
/// which its batches cannot do) leaves the key unchecked, still holding
/// for every new row, and is logged; the data-quality report counts such
/// rows.
///
/// # Errors
///
/// The check fails other than on such a row.
pub(crate) fn validate<D: FlowBackend>(
    db: &Database<D>,
    table: &str,
    key: &DeferredKeyCheck,
) -> triglot::Result<()> {
    let policy = triglot::RetryPolicy::through_restarts();
    let checked = db.write_with_retry("checking a foreign key after a load", &policy, |conn| {
        diesel::connection::SimpleConnection::batch_execute(conn, &key.validate)
    });
    match checked {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == Some(ErrorKind::ForeignKeyViolation) => {
            tracing::warn!(table, key = key.name, error = %e, "foreign key left unchecked");
            Ok(())
        }
        Err(e) => Err(e),
    }
}
