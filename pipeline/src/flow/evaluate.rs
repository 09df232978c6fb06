//! One top-level record and its children through the contract's rules:
//! fields read and checked, expressions computed, checks run, and either
//! rows ready to write or a reject for every record of the family.

use std::borrow::Cow;
use std::collections::HashSet;

use triglot::values::SqlValue;

use super::plan::{Fill, GENERATED, Join, Meta, TablePlan};
use crate::contract::{FieldError, RawValue, Reason, Reject};
use crate::ingest::source::{RecordData, Resolved, SourceRecord};
use crate::transform::{EvalError, Failure, Record, Value};

/// A table's plan with its fields found in one source file.
#[derive(Debug)]
pub(crate) struct Bound<'p> {
    pub(crate) plan: &'p TablePlan,
    /// Where each slot's field is (`None` for slots that are not fields).
    pub(crate) at: Vec<Option<Resolved>>,
    /// The file, as reported in rejects (shared by the members it gives).
    pub(crate) file: std::sync::Arc<str>,
    /// The run's start, UTC (`meta = "now"`).
    pub(crate) now: chrono::NaiveDateTime,
}

/// A record that read fine so far, with its file.
#[derive(Debug)]
pub(crate) struct Member {
    pub(crate) file: std::sync::Arc<str>,
    pub(crate) line: u64,
    pub(crate) raw: String,
}

/// What became of a family.
#[derive(Debug)]
pub(crate) enum Decided {
    /// Rows ready to write.
    Ready(Ready),
    /// Every record of the family refused.
    Rejected(Vec<Reject>),
}

/// A family's rows.
#[derive(Debug)]
pub(crate) struct Ready {
    /// The key as text, for the fingerprint table.
    pub(crate) key_text: String,
    /// The parent's key values, in key order.
    pub(crate) key: Vec<SqlValue>,
    /// The parent's row, in the plan's column order.
    pub(crate) row: Vec<SqlValue>,
    /// Each child table's rows.
    pub(crate) children: Vec<Vec<Vec<SqlValue>>>,
    /// A hash of every row above.
    pub(crate) fingerprint: i64,
    /// The family's records, the parent first: for rejects if the database
    /// refuses the rows.
    pub(crate) members: Vec<Member>,
    /// The row of each attached (`distinct`) table, if the records give one.
    pub(crate) attached: Vec<Option<Ready>>,
    /// Lookups of rows an attached table writes in this batch, resolved
    /// once they are written: (table of the family, row, slot, natural key).
    pub(crate) pending: Vec<(usize, usize, usize, String)>,
    /// The natural keys that resolving replaced by ids: (table of the
    /// family, row, slot, the key's value), to put back if the batch is
    /// resolved again.
    pub(crate) resolved: Vec<(usize, usize, usize, SqlValue)>,
}

impl Ready {
    /// Every record of the family refused because of `fault`, a reject of
    /// one of its records (the others `rejected_with_parent`).
    pub(crate) fn reject_because(&self, fault: &Reject) -> Vec<Reject> {
        self.members
            .iter()
            .map(|m| {
                if *m.file == fault.source && m.line == fault.line {
                    Reject { raw: m.raw.clone(), ..fault.clone() }
                } else {
                    Reject {
                        source: m.file.to_string(),
                        line: m.line,
                        field: None,
                        reason: Reason::RejectedWithParent.as_str().to_owned(),
                        detail: format!(
                            "another record of its family, {}:{}, was refused",
                            fault.source, fault.line
                        ),
                        raw: m.raw.clone(),
                    }
                }
            })
            .collect()
    }

    /// Every record of the family refused with `reason` (the parent) and
    /// `rejected_with_parent` (the children).
    pub(crate) fn reject_all(&self, reason: &str, detail: &str) -> Vec<Reject> {
        self.members
            .iter()
            .enumerate()
            .map(|(i, m)| Reject {
                source: m.file.to_string(),
                line: m.line,
                field: None,
                reason: if i == 0 {
                    reason.to_owned()
                } else {
                    Reason::RejectedWithParent.as_str().to_owned()
                },
                detail: if i == 0 {
                    detail.to_owned()
                } else {
                    format!(
                        "its parent at {}:{} was refused",
                        self.members[0].file, self.members[0].line
                    )
                },
                raw: m.raw.clone(),
            })
            .collect()
    }
}

/// A failure of one record: the slot at fault, if one is, and why.
pub(crate) type Fault = (Option<String>, FieldError);

/// The keys of a family's children so far: a list while it is short (most
/// families have a few children), hashed past that.
#[derive(Default)]
struct SeenKeys {
    few: Vec<Vec<Value>>,
    many: HashSet<String>,
}

impl SeenKeys {
    const FEW: usize = 32;

    /// Whether `key` is new.
    fn insert(&mut self, key: Vec<Value>) -> bool {
        if self.few.len() < Self::FEW {
            if self.few.contains(&key) {
                return false;
            }
            self.few.push(key);
            return true;
        }
        if self.many.is_empty() {
            self.many = self.few.iter().map(|k| key_text(k)).collect();
        }
        self.many.insert(key_text(&key))
    }
}

/// The canonical text of a key value: equal values, equal text.
pub(crate) fn key_text(values: &[Value]) -> String {
    let mut out = String::new();
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            out.push('\u{1f}');
        }
        match v {
            Value::Text(t) => out.push_str(t),
            other => out.push_str(&other.to_string()),
        }
    }
    out
}

impl Bound<'_> {
    /// The value of field slot `i` of `record`.
    pub(crate) fn field(&self, i: usize, record: &SourceRecord) -> Result<Value, Fault> {
        let slot = &self.plan.slots[i];
        let fault = |e: FieldError| (Some(self.plan.shown(i).to_owned()), e);
        let at = self.at[i].as_ref().expect("field slots are resolved");
        let raw = record.data.get(at, None);
        let text = match raw {
            crate::contract::RawValue::Absent | crate::contract::RawValue::Null => None,
            crate::contract::RawValue::Text(text) => Some(text),
            crate::contract::RawValue::NotUtf8 => {
                return Err(fault(FieldError::new(Reason::InvalidUtf8, "the bytes are not UTF-8")));
            }
            crate::contract::RawValue::NotScalar => {
                return Err(fault(FieldError::new(
                    Reason::InvalidValue,
                    "an object or array where a single value belongs",
                )));
            }
        };
        let Some(text) = slot.text.normalize(text.as_deref()) else {
            return Ok(Value::Null);
        };
        slot.text.check_text(&text).map_err(fault)?;
        let value = slot.rule.parse(&text).map_err(fault)?;
        slot.text.check_value(&value).map_err(fault)?;
        Ok(value)
    }

    /// The values of `slots` (fields) of `record`, for a join key.
    ///
    /// A CSV row of the wrong width still has its key, so it joins its
    /// family and refuses it whole; a record with no key to read is
    /// refused alone.
    pub(crate) fn key_of(&self, slots: &[usize], record: &SourceRecord) -> Result<String, Fault> {
        if let RecordData::Broken(e) = &record.data {
            return Err((None, e.clone()));
        }
        let mut values = Vec::with_capacity(slots.len());
        for &i in slots {
            let value = self.field(i, record)?;
            if value == Value::Null {
                let slot = &self.plan.slots[i];
                return Err((
                    Some(self.plan.shown(i).to_owned()),
                    FieldError::new(
                        Reason::MissingRequired,
                        format!("no value for key column {}", slot.name),
                    ),
                ));
            }
            values.push(value);
        }
        Ok(key_text(&values))
    }

    /// Whether `record` has a value for each of `slots` (fields) that reads
    /// without a fault: what [`Bound::key_of`] accepts, without building
    /// the key's text or the error of a record that has none.
    fn has_key(&self, slots: &[usize], record: &SourceRecord) -> bool {
        !matches!(record.data, RecordData::Broken(_))
            && slots.iter().all(|&i| matches!(self.field(i, record), Ok(v) if v != Value::Null))
    }

    /// The values of every field, constant and parent slot of `record`
    /// (`parent`: the parent record's values); computed slots are NULL
    /// until [`compute`].
    fn read(&self, record: &SourceRecord, parent: &[Value]) -> Result<Vec<Value>, Fault> {
        record_fault(record)?;
        let mut values = Vec::with_capacity(self.plan.slots.len());
        for (i, slot) in self.plan.slots.iter().enumerate() {
            values.push(match &slot.fill {
                Fill::Field(_) => self.field(i, record)?,
                Fill::Constant(v) => v.clone(),
                Fill::Expr(_) | Fill::Meta(Meta::Fingerprint) => Value::Null,
                Fill::Meta(Meta::File) => Value::Text(self.file.to_string()),
                Fill::Meta(Meta::Now) => Value::Timestamp(self.now),
                // A parent's generated id is known once the parent is written.
                Fill::Parent { slot, .. } => parent.get(*slot).cloned().unwrap_or(Value::Null),
            });
        }
        Ok(values)
    }

    /// Whether `record` carries a value (not absent, not blank) for any of
    /// the fields the table reads outside its key.
    fn carries(&self, record: &SourceRecord) -> bool {
        self.plan.slots.iter().enumerate().any(|(i, slot)| {
            matches!(slot.fill, Fill::Field(_))
                && !self.plan.key_slots.contains(&i)
                && self.at[i].as_ref().is_some_and(|at| match record.data.get(at, None) {
                    RawValue::Absent | RawValue::Null => false,
                    RawValue::Text(t) => !t.trim().is_empty(),
                    RawValue::NotUtf8 | RawValue::NotScalar => true,
                })
        })
    }

    /// Refuses a row that repeats `first`'s fields with other values (a
    /// field left empty repeats nothing).
    fn agrees(&self, first: &[Value], row: &SourceRecord) -> Result<(), Fault> {
        record_fault(row)?;
        for (i, slot) in self.plan.slots.iter().enumerate() {
            if !matches!(slot.fill, Fill::Field(_)) {
                continue;
            }
            let value = self.field(i, row)?;
            if value != Value::Null && value != first[i] {
                return Err((
                    Some(self.plan.shown(i).to_owned()),
                    FieldError::new(
                        Reason::ConflictingParentFields,
                        format!("{value} here, {} on the family's first row", first[i]),
                    ),
                ));
            }
        }
        Ok(())
    }

    /// A reject of `record` for `fault`.
    pub(crate) fn reject(&self, record: &SourceRecord, fault: Fault) -> Reject {
        Reject {
            source: self.file.to_string(),
            line: record.line,
            field: fault.0,
            reason: fault.1.reason.as_str().to_owned(),
            detail: fault.1.detail,
            raw: record.raw.clone(),
        }
    }

    fn member(&self, record: &SourceRecord) -> Member {
        Member { file: self.file.clone(), line: record.line, raw: record.raw.clone() }
    }
}

/// The error a record carries from reading (wrong width, broken JSON).
fn record_fault(record: &SourceRecord) -> Result<(), Fault> {
    match &record.data {
        RecordData::Csv { width_error: Some(e), .. } | RecordData::Broken(e) => {
            Err((None, e.clone()))
        }
        _ => Ok(()),
    }
}

/// A record's values as expressions read them.
struct Values<'a> {
    plan: &'a TablePlan,
    values: &'a [Value],
    children: &'a [(&'a str, Vec<Values<'a>>)],
}

impl Record for Values<'_> {
    fn field(&self, name: &str) -> Option<Value> {
        self.plan.slot(name).map(|i| self.values[i].clone())
    }

    fn children(&self, name: &str) -> Option<Vec<&dyn Record>> {
        self.children
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, records)| records.iter().map(|r| r as &dyn Record).collect())
    }
}

fn eval_fault(slot: &str, e: EvalError) -> Fault {
    let reason = match e.failure {
        Failure::Overflow => Reason::OutOfRange,
        Failure::DivisionByZero => Reason::DivisionByZero,
        Failure::Type => Reason::InvalidValue,
    };
    (Some(slot.to_owned()), FieldError::new(reason, e.detail))
}

/// Computes the computed slots of one record, each rounded as its column
/// stores it (so a parent sums what its children store), then runs the checks.
fn compute(
    plan: &TablePlan,
    values: &mut [Value],
    children: &[(&str, Vec<Values<'_>>)],
) -> Result<(), Failed> {
    for &i in &plan.computed {
        let slot = &plan.slots[i];
        let Fill::Expr(expr) = &slot.fill else { continue };
        let record = Values { plan, values, children };
        let value =
            expr.eval(&record, plan.round).map_err(|e| as_failure(eval_fault(&slot.name, e)))?;
        let value = if i < plan.columns.len() {
            slot.rule.settle(&value).map_err(|e| as_failure((Some(slot.name.clone()), e)))?
        } else {
            value
        };
        slot.text.check_value(&value).map_err(|e| as_failure((Some(slot.name.clone()), e)))?;
        values[i] = value;
    }
    let record = Values { plan, values, children };
    for check in &plan.checks {
        match check.expr.eval(&record, plan.round) {
            Ok(Value::Bool(true) | Value::Null) => {}
            Ok(other) => {
                let shown: Vec<String> = check
                    .expr
                    .fields()
                    .iter()
                    .map(|f| format!("{f} = {}", record.field(f).unwrap_or(Value::Null)))
                    .collect();
                let what =
                    if other == Value::Bool(false) { "fails" } else { "is not true or false" };
                return Err((
                    None,
                    check.reason.clone(),
                    format!("check {} {what}: {} ({})", check.name, check.name, shown.join(", ")),
                ));
            }
            Err(e) => return Err(as_failure(eval_fault(&check.name, e))),
        }
    }
    Ok(())
}

/// Why a family is refused: the slot at fault (if one is), the reason
/// code, the detail.
type Failed = (Option<String>, String, String);

fn as_failure(fault: Fault) -> Failed {
    (fault.0, fault.1.reason.as_str().to_owned(), fault.1.detail)
}

/// The stored columns of a record as the values that write them; a value
/// known only later (a parent's generated id, the fingerprint) is NULL here.
fn store(plan: &TablePlan, values: Vec<Value>) -> Result<Vec<SqlValue>, Fault> {
    let columns = plan.columns.len();
    // Pushed into a vector of its own size: `collect` would reuse the
    // values' larger allocation and shrink it, a `realloc` per row that
    // costs more as the heap grows.
    let mut row = Vec::with_capacity(columns);
    for (i, value) in values.into_iter().take(columns).enumerate() {
        row.push(match plan.slots[i].fill {
            Fill::Parent { slot: GENERATED, .. } | Fill::Meta(Meta::Fingerprint) => SqlValue::Null,
            _ => plan.slots[i]
                .rule
                .store_owned(value)
                .map_err(|e| (Some(plan.slots[i].name.clone()), e))?,
        });
    }
    Ok(row)
}

/// Decides one family: the parent's rows (one, or more when its children
/// are rows of the same file, the parent's fields on the first) and each
/// child table's records (in the family's child order), already joined.
pub(crate) fn decide(
    parent: &Bound<'_>,
    parent_rows: &[SourceRecord],
    children: &[(&Bound<'_>, Cow<'_, [SourceRecord]>)],
    salt: u64,
) -> Decided {
    // Rows of one file that hold a parent and its children carry the
    // parent's fields on one of them (the first that does); the others
    // repeat them or leave them empty.
    let same_rows = children.iter().any(|(bound, _)| bound.plan.join == Join::SameRows);
    let carrier =
        if same_rows { parent_rows.iter().position(|r| parent.carries(r)) } else { Some(0) };
    let Some(carrier) = carrier else {
        return missing_parent(parent, parent_rows, children);
    };
    let parent_record = &parent_rows[carrier];
    // Each record of the family once: a row may be the parent's and a child's,
    // and nested children are part of their parent's record.
    let mut members: Vec<Member> = parent_rows.iter().map(|r| parent.member(r)).collect();
    for (bound, records) in children {
        // Rows of the parent's file, or arrays in its records: members already.
        if matches!(bound.plan.join, Join::SameRows | Join::Nested(_)) {
            continue;
        }
        members.extend(records.iter().map(|r| bound.member(r)));
    }
    // The record at fault gets the reason; all others of the family go with it.
    let refuse = |file: &str, line: u64, (field, reason, detail): Failed| {
        let mut rejects = Vec::with_capacity(members.len());
        for m in &members {
            if *m.file == *file && m.line == line {
                rejects.push(Reject {
                    source: m.file.to_string(),
                    line: m.line,
                    field: field.clone(),
                    reason: reason.clone(),
                    detail: detail.clone(),
                    raw: m.raw.clone(),
                });
            } else {
                rejects.push(Reject {
                    source: m.file.to_string(),
                    line: m.line,
                    field: None,
                    reason: Reason::RejectedWithParent.as_str().to_owned(),
                    detail: format!("another record of its family, {file}:{line}, was refused"),
                    raw: m.raw.clone(),
                });
            }
        }
        Decided::Rejected(rejects)
    };

    // The parent's fields first: children may take them.
    let mut values = match parent.read(parent_record, &[]) {
        Ok(v) => v,
        Err((field, e)) => {
            return refuse(&parent.file, parent_record.line, as_failure((field, e)));
        }
    };
    for (_, row) in parent_rows.iter().enumerate().filter(|(j, _)| *j != carrier) {
        if let Err((field, e)) = parent.agrees(&values, row) {
            return refuse(&parent.file, row.line, as_failure((field, e)));
        }
    }

    // Then the children: the parent may aggregate them.
    let mut child_values: Vec<Vec<Vec<Value>>> = Vec::with_capacity(children.len());
    for (bound, records) in children {
        let mut seen = SeenKeys::default();
        let mut rows = Vec::with_capacity(records.len());
        for record in records.iter() {
            let mut row = match bound.read(record, &values) {
                Ok(v) => v,
                Err((field, e)) => {
                    return refuse(&bound.file, record.line, as_failure((field, e)));
                }
            };
            let key: Vec<Value> = bound.plan.key_slots.iter().map(|&i| row[i].clone()).collect();
            if !seen.insert(key.clone()) {
                return refuse(
                    &bound.file,
                    record.line,
                    (
                        // The key's own field: the rest is the parent's.
                        bound
                            .plan
                            .key_slots
                            .iter()
                            .rev()
                            .find(|&&i| matches!(bound.plan.slots[i].fill, Fill::Field(_)))
                            .map(|&i| bound.plan.shown(i).to_owned()),
                        Reason::DuplicateKey.as_str().into(),
                        format!(
                            "({}) = ({}) appears twice in one family",
                            bound.plan.key.join(", "),
                            key.iter().map(Value::to_string).collect::<Vec<_>>().join(", ")
                        ),
                    ),
                );
            }
            if let Err(failed) = compute(bound.plan, &mut row, &[]) {
                return refuse(&bound.file, record.line, failed);
            }
            rows.push(row);
        }
        child_values.push(rows);
    }
    let related: Vec<(&str, Vec<Values<'_>>)> = children
        .iter()
        .zip(&child_values)
        .map(|((bound, _), rows)| {
            let records = rows
                .iter()
                .map(|v| Values { plan: bound.plan, values: v, children: &[] })
                .collect();
            (bound.plan.name.as_str(), records)
        })
        .collect();
    if let Err(failed) = compute(parent.plan, &mut values, &related) {
        return refuse(&parent.file, parent_record.line, failed);
    }
    drop(related);
    let key_values: Vec<Value> = parent.plan.key_slots.iter().map(|&i| values[i].clone()).collect();
    let row = match store(parent.plan, values) {
        Ok(row) => row,
        Err((field, e)) => {
            return refuse(&parent.file, parent_record.line, as_failure((field, e)));
        }
    };
    let mut child_rows = Vec::with_capacity(children.len());
    for ((bound, records), rows) in children.iter().zip(child_values) {
        let mut stored = Vec::with_capacity(rows.len());
        for (record, values) in records.iter().zip(rows) {
            match store(bound.plan, values) {
                Ok(row) => stored.push(row),
                Err((field, e)) => {
                    return refuse(&bound.file, record.line, as_failure((field, e)));
                }
            }
        }
        child_rows.push(stored);
    }
    let key = parent.plan.key_slots.iter().map(|&i| row[i].clone()).collect();
    // The run's clock is no part of the content: a row unchanged but for
    // a `meta = "now"` column is unchanged.
    let mut hash = Fnv::default();
    hash.row(&row, &clock_slots(parent.plan));
    for ((bound, _), rows) in children.iter().zip(&child_rows) {
        hash.0 ^= 0xff;
        let clock = clock_slots(bound.plan);
        for row in rows {
            hash.row(row, &clock);
        }
    }
    hash.0 ^= salt;
    let fingerprint = hash.0 as i64;
    let mut row = row;
    set_fingerprint(parent.plan, std::slice::from_mut(&mut row), fingerprint);
    for ((bound, _), rows) in children.iter().zip(&mut child_rows) {
        set_fingerprint(bound.plan, rows, fingerprint);
    }
    Decided::Ready(Ready {
        key_text: key_text(&key_values),
        key,
        row,
        children: child_rows,
        fingerprint,
        members,
        attached: Vec::new(),
        pending: Vec::new(),
        resolved: Vec::new(),
    })
}

/// Every record of a family none of whose rows carries its parent's
/// fields, refused as `missing_parent` (the parent's key field at fault).
fn missing_parent(
    parent: &Bound<'_>,
    parent_rows: &[SourceRecord],
    children: &[(&Bound<'_>, Cow<'_, [SourceRecord]>)],
) -> Decided {
    let plan = parent.plan;
    let key = parent.key_of(&plan.key_slots, &parent_rows[0]).unwrap_or_default();
    let detail = format!(
        "no record carries the fields of {} ({}) = ({})",
        plan.name,
        plan.key.join(", "),
        key.replace('\u{1f}', ", ")
    );
    let field = plan.key_slots.first().map(|&i| plan.shown(i).to_owned());
    let mut seen = HashSet::new();
    let mut rejects = Vec::new();
    let all = std::iter::once((parent, parent_rows))
        .chain(children.iter().map(|(bound, records)| (*bound, &records[..])));
    for (bound, records) in all {
        for record in records {
            if seen.insert((&*bound.file, record.line)) {
                rejects.push(Reject {
                    source: bound.file.to_string(),
                    line: record.line,
                    field: field.clone(),
                    reason: Reason::MissingParent.as_str().to_owned(),
                    detail: detail.clone(),
                    raw: record.raw.clone(),
                });
            }
        }
    }
    Decided::Rejected(rejects)
}

/// The row a `distinct` table takes from a family's records: that of the
/// last record with its key that passes its rules. `Ok(None)` when no
/// record has the key; the reject of the last record with the key when
/// none passes.
pub(crate) fn decide_attached(
    bound: &Bound<'_>,
    rows: &[SourceRecord],
) -> Result<Option<Ready>, Box<Reject>> {
    let mut fault = None;
    for row in rows.iter().rev() {
        if !bound.has_key(&bound.plan.key_slots, row) {
            continue;
        }
        match decide(bound, std::slice::from_ref(row), &[], 0) {
            Decided::Ready(mut ready) => {
                ready.members.clear();
                return Ok(Some(ready));
            }
            Decided::Rejected(rejects) => {
                if fault.is_none() {
                    fault = rejects.into_iter().next();
                }
            }
        }
    }
    fault.map_or(Ok(None), |reject| Err(Box::new(reject)))
}

/// The columns that hold the run's clock.
fn clock_slots(plan: &TablePlan) -> Vec<usize> {
    (0..plan.columns.len())
        .filter(|&i| matches!(plan.slots[i].fill, Fill::Meta(Meta::Now)))
        .collect()
}

/// Puts the family's fingerprint into the columns that store it.
fn set_fingerprint(plan: &TablePlan, rows: &mut [Vec<SqlValue>], fingerprint: i64) {
    for (i, slot) in plan.slots[..plan.columns.len()].iter().enumerate() {
        if matches!(slot.fill, Fill::Meta(Meta::Fingerprint)) {
            for row in rows.iter_mut() {
                row[i] = SqlValue::Int(fingerprint);
            }
        }
    }
}

/// FNV-1a, 64 bits: stable across builds and platforms, unlike std's hasher.
#[derive(Debug)]
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn bytes(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    /// Hashes `row`, each column in `skip` as if NULL.
    fn row(&mut self, row: &[SqlValue], skip: &[usize]) {
        for (i, value) in row.iter().enumerate() {
            let value = if skip.contains(&i) { &SqlValue::Null } else { value };
            match value {
                SqlValue::Null => self.bytes(&[0]),
                SqlValue::Bool(b) => self.bytes(&[1, u8::from(*b)]),
                SqlValue::Int(i) => {
                    self.bytes(&[2]);
                    self.bytes(&i.to_le_bytes());
                }
                SqlValue::Text(t) => {
                    self.bytes(&[3]);
                    self.bytes(&(t.len() as u64).to_le_bytes());
                    self.bytes(t.as_bytes());
                }
                SqlValue::Decimal { text, .. } => {
                    self.bytes(&[4]);
                    self.bytes(&(text.len() as u64).to_le_bytes());
                    self.bytes(text.as_bytes());
                }
                SqlValue::Date(d) => {
                    self.bytes(&[5]);
                    self.bytes(d.to_string().as_bytes());
                }
                SqlValue::Timestamp(t) => {
                    self.bytes(&[6]);
                    self.bytes(t.and_utc().timestamp_micros().to_le_bytes().as_slice());
                }
            }
        }
        self.bytes(&[0xfe]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::Exact;

    #[test]
    fn a_key_seen_before_is_found_in_a_short_list_and_past_it() {
        let key = |n: i128| vec![Value::Number(Exact::int(n)), Value::Text("a".into())];
        let mut seen = SeenKeys::default();
        for n in 0..100 {
            assert!(seen.insert(key(n)), "{n} is new");
        }
        for n in [0, 5, 31, 32, 33, 99] {
            assert!(!seen.insert(key(n)), "{n} was seen");
        }
        assert!(seen.insert(vec![Value::Number(Exact::int(5)), Value::Text("b".into())]));
    }
}
