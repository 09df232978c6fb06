//! What the two COPY paths share: the message size, and a COPY target
//! known only at run time.

use std::cell::RefCell;

use diesel::pg::{CopyTarget, Pg};
use diesel::prelude::*;
use diesel::query_builder::AstPass;
use diesel::result::QueryResult;

/// Bytes gathered before they are handed to libpq as one `CopyData` message.
pub(crate) const MESSAGE: usize = 64 * 1024;

thread_local! {
    /// The target of the COPY this thread is about to run: diesel asks a
    /// [`CopyTarget`] for its SQL through a function without `self`.
    pub(crate) static TARGET: RefCell<String> = const { RefCell::new(String::new()) };
}

/// A COPY whose table and columns are known only at run time ([`TARGET`]).
pub(crate) struct Target<T>(pub(crate) std::marker::PhantomData<T>);

impl<T: Table> CopyTarget for Target<T> {
    type Table = T;
    type SqlType = diesel::sql_types::Bool;

    fn walk_target(mut pass: AstPass<'_, '_, Pg>) -> QueryResult<()> {
        pass.unsafe_to_cache_prepared();
        TARGET.with(|t| pass.push_sql(&t.borrow()));
        Ok(())
    }
}
