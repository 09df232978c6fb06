//! The ids a run has already found for lookup keys.
//!
//! A lookup column names a row of another table by its natural key (an
//! order's customer by `customers.external_id`), and each batch needs the
//! ids of the keys it names. Most keys come back batch after batch: at a
//! million lines, a customer was looked up four or five times. Kept here
//! once found, a key is read from the database once per run.
//!
//! An id kept here may name a row that another writer deleted since; the
//! run then meets a foreign-key refusal, forgets every kept id and reads
//! the batch's keys again before it refuses anything
//! (`Run::flush`).

use std::collections::HashMap;

/// Keys kept at most, over every lookup: about 100 bytes each with its
/// map entry, so a run holds no more than some 20 MiB of them.
pub(crate) const MAX_KNOWN_IDS: usize = 200_000;

/// A lookup: the referenced table, its natural-key column, and the column
/// the foreign key references.
pub(crate) type LookupId = (String, String, String);

/// Ids by lookup and natural key, at most [`MAX_KNOWN_IDS`] of them.
#[derive(Debug, Default)]
pub(crate) struct KnownIds {
    by_lookup: HashMap<LookupId, HashMap<String, i64>>,
}

impl KnownIds {
    /// The ids kept for `lookup`, by key: found once for a batch's keys
    /// (the lookup's three names are hashed once, not once per key).
    pub(crate) fn of(&self, lookup: &LookupId) -> Option<&HashMap<String, i64>> {
        self.by_lookup.get(lookup)
    }

    /// Keeps the ids of `found`; when that would pass [`MAX_KNOWN_IDS`],
    /// forgets every id kept before, so that memory stays flat.
    pub(crate) fn extend<'k>(
        &mut self,
        lookup: &LookupId,
        found: impl IntoIterator<Item = (&'k String, &'k i64)>,
    ) {
        let found: Vec<_> = found.into_iter().collect();
        let kept = self.by_lookup.get(lookup);
        let new =
            found.iter().filter(|(k, _)| kept.is_none_or(|ids| !ids.contains_key(*k))).count();
        if self.len() + new > MAX_KNOWN_IDS {
            self.clear();
        }
        let ids = self.by_lookup.entry(lookup.clone()).or_default();
        ids.extend(found.into_iter().map(|(key, id)| (key.clone(), *id)));
    }

    /// How many keys are kept, over every lookup (a run has one or two).
    fn len(&self) -> usize {
        self.by_lookup.values().map(HashMap::len).sum()
    }

    /// Forgets every id.
    pub(crate) fn clear(&mut self) {
        self.by_lookup.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(known: &KnownIds, lookup: &LookupId, key: &str) -> Option<i64> {
        known.of(lookup)?.get(key).copied()
    }

    fn lookup(table: &str) -> LookupId {
        (table.to_owned(), "external_id".to_owned(), "id".to_owned())
    }

    #[test]
    fn an_id_is_kept_per_lookup_and_key() {
        let mut known = KnownIds::default();
        let (c1, one) = ("C-1".to_owned(), 1);
        known.extend(&lookup("customers"), [(&c1, &one)]);
        assert_eq!(get(&known, &lookup("customers"), "C-1"), Some(1));
        assert_eq!(get(&known, &lookup("suppliers"), "C-1"), None);
        assert_eq!(get(&known, &lookup("customers"), "C-2"), None);
        known.clear();
        assert_eq!(known.len(), 0);
        assert_eq!(get(&known, &lookup("customers"), "C-1"), None);
    }

    #[test]
    fn keys_past_the_limit_replace_every_key_kept_before() {
        let mut known = KnownIds::default();
        let keys: Vec<(String, i64)> =
            (0..MAX_KNOWN_IDS as i64).map(|i| (format!("C-{i}"), i)).collect();
        known.extend(&lookup("customers"), keys.iter().map(|(k, i)| (k, i)));
        assert_eq!(known.len(), MAX_KNOWN_IDS);
        // The same keys again are not counted twice.
        known.extend(&lookup("customers"), keys[..10].iter().map(|(k, i)| (k, i)));
        assert_eq!(known.len(), MAX_KNOWN_IDS);
        let (next, id) = ("C-next".to_owned(), -1);
        known.extend(&lookup("customers"), [(&next, &id)]);
        assert_eq!(known.len(), 1);
        assert_eq!(get(&known, &lookup("customers"), "C-0"), None);
        assert_eq!(get(&known, &lookup("customers"), "C-next"), Some(-1));
    }
}
