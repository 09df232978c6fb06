//! A flow contract bound to a live schema: every table, column, key and
//! rule checked against the catalog before any row is read.
//!
//! The catalog gives each column its baseline ([`ColumnRule::baseline`]):
//! type, NULL, length, precision and scale. The contract adds its rules,
//! and may only add rules that fit the column's type. A contract that names
//! an unknown table, column or field, leaves a NOT NULL column without a
//! default unfilled, keys a table by columns that are not one of its keys,
//! or computes in a circle, is refused with its line.

use std::collections::{BTreeMap, BTreeSet};

use triglot::introspect::{ColumnSnapshot, SchemaSnapshot, TableSnapshot, TypeClass};

use super::known_ids::LookupId;
use super::rules::TextRules;
use super::spec::{self, RawFlow, RawTable, RawValue};
use crate::contract::{Case, ContractError, Format, Reason};
use crate::ingest::source::FileFormat;
use crate::transform::{ColumnKind, ColumnRule, Exact, Expr, Round, Value};

/// A contract bound to a database's schema, ready to run.
#[derive(Debug, Clone)]
pub struct Flow {
    /// Its name, recorded with every run.
    pub name: String,
    /// Where it was loaded from, for messages.
    pub origin: String,
    pub(crate) sources: BTreeMap<String, SourcePlan>,
    /// Top-level tables with their children, in the order they are written
    /// (a table before those whose foreign keys reference it).
    pub(crate) families: Vec<Family>,
    /// The contract's code for an engine's reason code, where it renames one.
    pub(crate) reasons: BTreeMap<String, String>,
}

/// How one source's files are read.
#[derive(Debug, Clone)]
pub(crate) struct SourcePlan {
    pub(crate) name: String,
    pub(crate) format: FileFormat,
    /// The names of a headerless CSV file's columns, in order.
    pub(crate) fields: Option<Vec<String>>,
    /// The rows of one key are together: read as they come, not sorted.
    pub(crate) grouped: bool,
    pub(crate) line: usize,
}

/// A top-level table and the child tables written with it.
#[derive(Debug, Clone)]
pub(crate) struct Family {
    pub(crate) parent: TablePlan,
    pub(crate) children: Vec<TablePlan>,
    /// `distinct` tables of the parent's file, written with it: each
    /// family upserts the row its records give them (a customer of an
    /// order) before the parent, in the same transaction.
    pub(crate) attached: Vec<TablePlan>,
}

impl Family {
    /// Every table of the family: the parent, its children, the attached.
    pub(crate) fn tables(&self) -> impl Iterator<Item = &TablePlan> {
        std::iter::once(&self.parent).chain(&self.children).chain(&self.attached)
    }
}

/// How one table is filled.
#[derive(Debug, Clone)]
pub(crate) struct TablePlan {
    pub(crate) name: String,
    pub(crate) source: String,
    /// Columns first (in `columns` order), then inputs.
    pub(crate) slots: Vec<Slot>,
    /// The stored columns, as the slots `0..columns.len()`.
    pub(crate) columns: Vec<String>,
    /// The natural key's columns and their slots.
    pub(crate) key: Vec<String>,
    pub(crate) key_slots: Vec<usize>,
    /// Stored columns outside the key: what an upsert updates.
    pub(crate) update: Vec<String>,
    /// Computed slots in the order they are evaluated.
    pub(crate) computed: Vec<usize>,
    pub(crate) checks: Vec<CheckPlan>,
    /// A child's slots that hold its parent's key, in the parent's key order,
    /// and their columns.
    pub(crate) link_slots: Vec<usize>,
    pub(crate) link_columns: Vec<String>,
    /// How a child's records are found.
    pub(crate) join: Join,
    /// A child from a file of its own: its slots holding the parent's
    /// natural key, which it is sorted and joined by.
    pub(crate) join_slots: Vec<usize>,
    /// A child whose link column holds its parent's generated id (this
    /// column of the parent), read back after the parent is written.
    pub(crate) generated_link: Option<String>,
    /// Rows with one key are one record repeated; the last is kept.
    pub(crate) distinct: bool,
    /// A column of the table that stores the family's fingerprint (`meta =
    /// "fingerprint"`), read to find unchanged families when the key is one
    /// column read as it is stored; otherwise `triglot_fingerprints` is.
    pub(crate) fingerprint_column: Option<String>,
    /// The rounding of `round(x, n)` in expressions.
    pub(crate) round: Round,
}

impl TablePlan {
    /// What a reject names for slot `i`: the source field it reads, else
    /// the column (or input) it fills.
    pub(crate) fn shown(&self, i: usize) -> &str {
        match &self.slots[i].fill {
            Fill::Field(field) => field,
            _ => &self.slots[i].name,
        }
    }
}

/// How a child table's records are found beside its parent's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Join {
    /// A top-level table: no parent.
    None,
    /// A file of its own, joined by the link to the parent's key.
    Source,
    /// The parent's own file: a row per child, the parent's fields repeated.
    SameRows,
    /// The array at this JSON key path of the parent's record.
    Nested(Vec<String>),
}

/// One named value of a record: a column, or an input that is only read.
#[derive(Debug, Clone)]
pub(crate) struct Slot {
    pub(crate) name: String,
    pub(crate) line: usize,
    pub(crate) rule: ColumnRule,
    pub(crate) text: TextRules,
    pub(crate) fill: Fill,
    /// The column stores the id of the row this natural key names.
    pub(crate) lookup: Option<Lookup>,
}

/// A natural key looked up in another table for the id a foreign key holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Lookup {
    /// The referenced table.
    pub(crate) table: String,
    /// Its natural-key column (one column, primary or unique, text or integer).
    pub(crate) key: String,
    /// Its column the foreign key references (an integer id).
    pub(crate) target: String,
}

impl Lookup {
    /// The lookup as a key, by which the ids it finds are kept
    /// ([`KnownIds`](super::known_ids::KnownIds), the writer's own).
    pub(crate) fn id(&self) -> LookupId {
        (self.table.clone(), self.key.clone(), self.target.clone())
    }
}

/// Where a slot's value comes from.
#[derive(Debug, Clone)]
pub(crate) enum Fill {
    /// A field of the source record (a CSV column name, a JSON key path).
    Field(String),
    /// The same value for every record.
    Constant(Value),
    /// Computed from the record's other values and its children's.
    Expr(Expr),
    /// A child's value taken from its parent record's slot (a field or
    /// constant), or the parent's generated id ([`GENERATED`]).
    Parent {
        /// The parent's column.
        column: String,
        /// Its slot in the parent's plan (set when the child is linked).
        slot: usize,
    },
    /// A value of the run.
    Meta(Meta),
}

/// The slot of a parent's generated id: known only once the parent is written.
pub(crate) const GENERATED: usize = usize::MAX;

/// A value the run provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Meta {
    /// The path of the source file.
    File,
    /// The run's start, UTC.
    Now,
    /// The fingerprint of the family's rows.
    Fingerprint,
}

/// A check between a record's values.
#[derive(Debug, Clone)]
pub(crate) struct CheckPlan {
    pub(crate) name: String,
    pub(crate) expr: Expr,
    pub(crate) reason: String,
}

impl TablePlan {
    /// The slot named `name`.
    pub(crate) fn slot(&self, name: &str) -> Option<usize> {
        self.slots.iter().position(|s| s.name == name)
    }
}

impl Flow {
    /// Reads and binds a contract file to `schema`.
    ///
    /// # Errors
    ///
    /// A [`ContractError`] naming the file and the line of the first problem.
    pub fn load(path: &std::path::Path, schema: &SchemaSnapshot) -> Result<Self, ContractError> {
        let (text, origin) = ContractError::read(path)?;
        Self::bind(&text, &origin, schema)
    }

    /// Checks contract text for what needs no database: TOML syntax, keys,
    /// sources and the shape of each table's entries. A program checks a
    /// contract with it before it opens, or creates, a database; binding
    /// then checks the rest against the schema.
    ///
    /// # Errors
    ///
    /// A [`ContractError`] with the line of the first problem.
    ///
    /// # Example
    ///
    /// ```
    /// use triglot_pipeline::flow::Flow;
    ///
    /// assert!(Flow::check(triglot_pipeline::contract::ORDERS_FLOW, "orders-flow.toml").is_ok());
    /// let err = Flow::check("name = \"x\"\n[tables.t]\nsorce = \"s\"\n", "x.toml").unwrap_err();
    /// assert_eq!(err.line, 3);
    /// ```
    pub fn check(text: &str, origin: &str) -> Result<(), ContractError> {
        spec::read(text, origin).map(|_| ())
    }

    /// Binds contract text to `schema`; `origin` names it in errors.
    ///
    /// # Errors
    ///
    /// A [`ContractError`] with the line of the first problem: TOML syntax,
    /// an unknown key, table, column, source or field, a rule that does not
    /// fit its column, a NOT NULL column left unfilled, a key that is not
    /// one of the table's keys, an expression that does not parse or reads
    /// what is not there, computations in a circle.
    pub fn bind(text: &str, origin: &str, schema: &SchemaSnapshot) -> Result<Self, ContractError> {
        let raw = spec::read(text, origin)?;
        Binder { text, origin, schema }.flow(raw)
    }

    /// The names of the sources, each needing one input file, in the order
    /// the contract declares them.
    pub fn source_names(&self) -> Vec<&str> {
        let mut sources: Vec<&SourcePlan> = self.sources.values().collect();
        sources.sort_by_key(|s| s.line);
        sources.into_iter().map(|s| s.name.as_str()).collect()
    }

    /// Pairs `files`, given in the order the contract declares its
    /// sources, with those sources, for [`run_flow`](super::run_flow).
    ///
    /// # Errors
    ///
    /// A message naming the sources when there are more or fewer files.
    ///
    /// # Example
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::path::PathBuf;
    /// use triglot::sqlite::SqliteDialect;
    /// use triglot::testing::TestDb;
    /// use triglot_pipeline::contract::ORDERS_FLOW;
    /// use triglot_pipeline::flow::Flow;
    ///
    /// let db = TestDb::<SqliteDialect>::new("files_in_order", &triglot_pipeline::MIGRATIONS);
    /// let flow = Flow::bind(ORDERS_FLOW, "orders-flow.toml", &db.introspect()?)?;
    /// let files = flow.files_in_order(&[PathBuf::from("orders.csv")])?;
    /// assert_eq!(files["rows"], PathBuf::from("orders.csv"));
    /// assert!(flow.files_in_order(&[]).is_err());
    /// # Ok(())
    /// # }
    /// ```
    pub fn files_in_order(
        &self,
        files: &[std::path::PathBuf],
    ) -> Result<BTreeMap<String, std::path::PathBuf>, String> {
        let names = self.source_names();
        if names.len() != files.len() {
            let count = |n: usize| if n == 1 { "1 file".to_owned() } else { format!("{n} files") };
            return Err(format!(
                "contract {} reads {} ({}, in that order), not {}",
                self.origin,
                count(names.len()),
                names.join(", "),
                files.len()
            ));
        }
        Ok(names.into_iter().map(str::to_owned).zip(files.iter().cloned()).collect())
    }

    /// The tables it fills, in the order they are written.
    pub fn tables(&self) -> Vec<&str> {
        self.families.iter().flat_map(Family::tables).map(|t| t.name.as_str()).collect()
    }
}

struct Binder<'a> {
    text: &'a str,
    origin: &'a str,
    schema: &'a SchemaSnapshot,
}

type Spanned<T> = toml::Spanned<T>;

impl Binder<'_> {
    fn at<T>(&self, s: &Spanned<T>) -> usize {
        spec::line_of(self.text, s.span().start)
    }

    fn error(&self, line: usize, message: impl Into<String>) -> ContractError {
        ContractError { origin: self.origin.to_owned(), line, message: message.into() }
    }

    fn flow(&self, raw: RawFlow) -> Result<Flow, ContractError> {
        let round = match &raw.rounding {
            None => Round::HalfEven,
            Some(r) => self.round(r)?,
        };
        let mut sources = BTreeMap::new();
        for (name, source) in &raw.sources {
            let plan = self.source(name.get_ref(), source)?;
            sources.insert(name.get_ref().clone(), plan);
        }
        if raw.tables.is_empty() {
            return Err(self.error(0, "the contract fills no table ([tables.<name>])"));
        }
        let mut plans: BTreeMap<String, (Option<String>, TablePlan)> = BTreeMap::new();
        for (name, table) in &raw.tables {
            let parent = table.get_ref().parent.as_ref().map(|p| p.get_ref().clone());
            if let Some(p) = &table.get_ref().parent {
                let parent_table = raw.tables.iter().find(|(n, _)| n.get_ref() == p.get_ref());
                match parent_table {
                    None => {
                        return Err(self.error(
                            self.at(p),
                            format!("parent {:?} is not a table of this contract", p.get_ref()),
                        ));
                    }
                    Some((_, t)) if t.get_ref().parent.is_some() => {
                        return Err(self.error(
                            self.at(p),
                            format!(
                                "parent {:?} has a parent itself; one level of children is supported",
                                p.get_ref()
                            ),
                        ));
                    }
                    Some(_) => {}
                }
            }
            let plan = self.table(name, table, &sources, round)?;
            plans.insert(name.get_ref().clone(), (parent, plan));
        }
        // Children link to their parent by its key; then the parent's
        // expressions may aggregate them.
        let mut families: BTreeMap<String, Family> = BTreeMap::new();
        for (name, (parent, plan)) in &plans {
            if parent.is_none() {
                families.insert(
                    name.clone(),
                    Family { parent: plan.clone(), children: Vec::new(), attached: Vec::new() },
                );
            }
        }
        for (name, table) in &raw.tables {
            let (Some(parent), plan) = &plans[name.get_ref()] else { continue };
            let mut plan = plan.clone();
            let family = families.get_mut(parent).expect("parents are top-level");
            self.link(&mut plan, &family.parent, table, &sources)?;
            family.children.push(plan);
        }
        for (name, table) in &raw.tables {
            if let Some(family) = families.get_mut(name.get_ref()) {
                self.aggregates(family, table)?;
            }
        }
        for family in families.values() {
            let parent = &family.parent;
            if !parent.distinct {
                continue;
            }
            let line =
                raw.tables.keys().find(|k| k.get_ref() == &parent.name).map_or(0, |k| self.at(k));
            if !family.children.is_empty() {
                return Err(self
                    .error(line, format!("{}: a `distinct` table has no children", parent.name)));
            }
            let owned =
                families.values().any(|f| !f.parent.distinct && f.parent.source == parent.source);
            if !owned {
                return Err(self.error(
                    line,
                    format!(
                        "{}: a `distinct` table takes its rows from the file of another top-level table; {} is read by no other",
                        parent.name, parent.source
                    ),
                ));
            }
        }
        // Each distinct table goes with a family of its file.
        let distinct: Vec<String> =
            families.iter().filter(|(_, f)| f.parent.distinct).map(|(n, _)| n.clone()).collect();
        for name in distinct {
            let table = families.remove(&name).expect("listed").parent;
            let owner = families
                .values_mut()
                .find(|f| !f.parent.distinct && f.parent.source == table.source)
                .expect("checked above");
            owner.attached.push(table);
        }
        let families = self.write_order(families, &raw)?;
        for source in sources.keys() {
            let used = families.iter().flat_map(Family::tables).any(|t| &t.source == source);
            if !used {
                return Err(
                    self.error(sources[source].line, format!("source {source:?} fills no table"))
                );
            }
        }
        let mut reasons = BTreeMap::new();
        for (from, to) in &raw.reasons {
            if Reason::from_code(from.get_ref()).is_none() {
                return Err(self.error(
                    self.at(from),
                    format!("{:?} is not a reason code of triglot's", from.get_ref()),
                ));
            }
            reasons.insert(from.get_ref().clone(), self.code(to)?);
        }
        Ok(Flow {
            name: raw.name.get_ref().clone(),
            origin: self.origin.to_owned(),
            sources,
            families,
            reasons,
        })
    }

    /// A reason code of the contract's: lower-case letters, digits and `_`.
    fn code(&self, code: &Spanned<String>) -> Result<String, ContractError> {
        let text = code.get_ref();
        if text.is_empty()
            || text.len() > 64
            || !text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(self.error(
                self.at(code),
                format!(
                    "reason {text:?} is not a code of at most 64 lower-case letters, digits and _"
                ),
            ));
        }
        Ok(text.clone())
    }

    fn round(&self, r: &Spanned<String>) -> Result<Round, ContractError> {
        Ok(match r.get_ref().as_str() {
            "half_even" => Round::HalfEven,
            "half_up" => Round::HalfUp,
            "truncate" => Round::Truncate,
            "reject" => Round::Refuse,
            other => {
                return Err(self.error(
                    self.at(r),
                    format!("unknown rounding {other:?} (half_even, half_up, truncate or reject)"),
                ));
            }
        })
    }

    fn source(
        &self,
        name: &str,
        raw: &Spanned<spec::RawSource>,
    ) -> Result<SourcePlan, ContractError> {
        let line = self.at(raw);
        let raw = raw.get_ref();
        let format = match raw.format.get_ref().as_str() {
            "csv" => Format::Csv,
            "jsonl" => Format::Jsonl,
            other => {
                return Err(self.error(
                    self.at(&raw.format),
                    format!("unknown format {other:?} (csv or jsonl)"),
                ));
            }
        };
        let delimiter = match &raw.delimiter {
            None => b',',
            Some(d) => match d.get_ref().as_bytes() {
                [b] if format == Format::Csv => *b,
                _ => {
                    return Err(self.error(
                        self.at(d),
                        "the delimiter is one single-byte character, of a CSV source",
                    ));
                }
            },
        };
        let header = raw.header.unwrap_or(format == Format::Csv);
        let fields = raw.fields.as_ref().map(|f| f.get_ref().clone());
        if format == Format::Csv && !header && fields.is_none() {
            return Err(self.error(
                line,
                format!("source {name:?} has no header: name its columns with `fields = [...]`"),
            ));
        }
        if let Some(f) = &raw.fields
            && (header || format == Format::Jsonl)
        {
            return Err(
                self.error(self.at(f), "`fields` names the columns of a CSV file without a header")
            );
        }
        Ok(SourcePlan {
            name: name.to_owned(),
            format: FileFormat {
                format,
                delimiter,
                header: header && format == Format::Csv,
                trailing_delimiter: raw.trailing_delimiter.unwrap_or(false),
            },
            fields,
            grouped: raw.grouped,
            line,
        })
    }

    fn table(
        &self,
        name: &Spanned<String>,
        raw: &Spanned<RawTable>,
        sources: &BTreeMap<String, SourcePlan>,
        default_round: Round,
    ) -> Result<TablePlan, ContractError> {
        let line = self.at(name);
        let table_name = name.get_ref();
        let Some(live) = self.schema.tables.get(table_name) else {
            let known: Vec<&str> = self.schema.tables.keys().map(String::as_str).collect();
            return Err(self.error(
                line,
                format!("the database has no table {table_name:?} (it has: {})", known.join(", ")),
            ));
        };
        let raw = raw.get_ref();
        let source = match (&raw.source, &raw.nested) {
            (Some(s), None) => {
                let Some(plan) = sources.get(s.get_ref()) else {
                    return Err(self.error(
                        self.at(s),
                        format!("no source {:?} ([sources.<name>])", s.get_ref()),
                    ));
                };
                Some(plan)
            }
            (None, Some(n)) => {
                if raw.parent.is_none() {
                    return Err(self.error(self.at(n), "`nested` records need a `parent`"));
                }
                None
            }
            _ => {
                return Err(self.error(line, format!("table {table_name:?} needs a `source`")));
            }
        };
        let round = match &raw.rounding {
            None => default_round,
            Some(r) => self.round(r)?,
        };
        let mut slots = Vec::new();
        let mut columns = Vec::new();
        for (column, value) in &raw.columns {
            let Some(snapshot) = live.column(column.get_ref()) else {
                return Err(self.error(
                    self.at(column),
                    format!(
                        "table {table_name} has no column {:?} (it has: {})",
                        column.get_ref(),
                        live.columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                ));
            };
            let baseline =
                ColumnRule::baseline(snapshot).map_err(|m| self.error(self.at(column), m))?;
            if let Some(kind) = &value.get_ref().kind {
                return Err(self.error(
                    self.at(kind),
                    "a column's type is the database's; `type` is for inputs",
                ));
            }
            let mut slot = self.slot(column, value, baseline, round, source)?;
            if let Some(l) = &value.get_ref().lookup {
                self.lookup(&mut slot, live, l)?;
            }
            slots.push(slot);
            columns.push(column.get_ref().clone());
        }
        for (input, value) in &raw.inputs {
            if live.column(input.get_ref()).is_some() || raw.columns.keys().any(|c| c == input) {
                return Err(self.error(
                    self.at(input),
                    format!("input {:?} has the name of a column", input.get_ref()),
                ));
            }
            let baseline = self.input_rule(input, value)?;
            slots.push(self.slot(input, value, baseline, round, source)?);
        }
        for column in &live.columns {
            let filled = columns.contains(&column.name);
            if !filled && !column.nullable && column.default.is_none() {
                return Err(self.error(
                    line,
                    format!(
                        "column {table_name}.{} is NOT NULL without a default, and the contract does not fill it",
                        column.name
                    ),
                ));
            }
        }
        let key = raw.key.get_ref().clone();
        let mut key_slots = Vec::new();
        for k in &key {
            let slot = columns.iter().position(|c| c == k).ok_or_else(|| {
                self.error(
                    self.at(&raw.key),
                    format!("key column {k:?} is not filled by the contract"),
                )
            })?;
            if !matches!(slots[slot].fill, Fill::Field(_) | Fill::Parent { .. }) {
                return Err(self.error(
                    self.at(&raw.key),
                    format!("key column {k:?} must be read from a field"),
                ));
            }
            if raw.parent.is_none() && !matches!(slots[slot].fill, Fill::Field(_)) {
                return Err(self.error(
                    self.at(&raw.key),
                    format!("key column {k:?} must be read from a field"),
                ));
            }
            key_slots.push(slot);
        }
        if !is_key(live, &key) {
            return Err(self.error(
                self.at(&raw.key),
                format!(
                    "({}) is not the primary key or a unique key of {table_name}",
                    key.join(", ")
                ),
            ));
        }
        for k in &key {
            if let Some(column) = live.column(k) {
                self.exact_key(self.at(&raw.key), table_name, column)?;
            }
        }
        let kept: Vec<&String> = raw
            .columns
            .iter()
            .filter(|(_, v)| v.get_ref().update == Some(false))
            .map(|(c, _)| c.get_ref())
            .collect();
        let update =
            columns.iter().filter(|c| !key.contains(c) && !kept.contains(c)).cloned().collect();
        let mut plan = TablePlan {
            name: table_name.clone(),
            source: source.map(|s| s.name.clone()).unwrap_or_default(),
            slots,
            columns,
            key,
            key_slots,
            update,
            computed: Vec::new(),
            checks: Vec::new(),
            link_slots: Vec::new(),
            link_columns: Vec::new(),
            join_slots: Vec::new(),
            generated_link: None,
            distinct: raw.distinct,
            fingerprint_column: None,
            join: match &raw.nested {
                Some(n) => Join::Nested(n.get_ref().split('.').map(str::to_owned).collect()),
                None => Join::None,
            },
            round,
        };
        for check in &raw.checks {
            let c = check.get_ref();
            let expr = Expr::parse(c.expr.get_ref()).map_err(|e| {
                self.error(self.at(&c.expr), format!("check {:?}: {e}", c.name.get_ref()))
            })?;
            let reason = self.code(c.reason.as_ref().unwrap_or(&c.name))?;
            plan.checks.push(CheckPlan { name: c.name.get_ref().clone(), expr, reason });
        }
        plan.computed = self.evaluation_order(&plan)?;
        if let [key] = &plan.key_slots[..]
            && plan.slots[*key].lookup.is_none()
        {
            plan.fingerprint_column = plan.slots[..plan.columns.len()]
                .iter()
                .find(|s| matches!(s.fill, Fill::Meta(Meta::Fingerprint)))
                .map(|s| s.name.clone());
        }
        let fields_of_record = |expr: &Expr| -> Option<String> {
            expr.fields().into_iter().find(|f| plan.slot(f).is_none()).map(str::to_owned)
        };
        for check in &plan.checks {
            if let Some(unknown) = fields_of_record(&check.expr) {
                return Err(self.error(
                    self.at(&raw.checks
                        [plan.checks.iter().position(|c| c.name == check.name).unwrap_or(0)]),
                    format!(
                        "check {:?} reads {unknown:?}, which is no column or input of {table_name}",
                        check.name
                    ),
                ));
            }
        }
        Ok(plan)
    }

    /// The rule of an input: a type of its own, unbounded.
    fn input_rule(
        &self,
        name: &Spanned<String>,
        value: &Spanned<RawValue>,
    ) -> Result<ColumnRule, ContractError> {
        let Some(kind) = &value.get_ref().kind else {
            return Err(self.error(
                self.at(name),
                format!(
                    "input {:?} needs a `type` (integer, decimal, text, boolean, date or timestamp)",
                    name.get_ref()
                ),
            ));
        };
        let kind = match kind.get_ref().as_str() {
            "integer" => ColumnKind::Integer { min: i64::MIN.into(), max: i64::MAX.into() },
            "decimal" => ColumnKind::Decimal { precision: None, scale: 0, cast: String::new() },
            "text" => ColumnKind::Text { max_chars: None },
            "boolean" => ColumnKind::Boolean,
            "date" => ColumnKind::Date,
            "timestamp" => ColumnKind::Timestamp,
            other => {
                return Err(self.error(
                    self.at(kind),
                    format!("unknown type {other:?} (integer, decimal, text, boolean, date or timestamp)"),
                ));
            }
        };
        Ok(ColumnRule {
            name: name.get_ref().clone(),
            kind,
            nullable: true,
            round: Round::HalfEven,
            formats: Vec::new(),
            assume_offset: None,
        })
    }

    fn slot(
        &self,
        name: &Spanned<String>,
        value: &Spanned<RawValue>,
        mut rule: ColumnRule,
        round: Round,
        source: Option<&SourcePlan>,
    ) -> Result<Slot, ContractError> {
        let line = self.at(name);
        let raw = value.get_ref();
        let named = name.get_ref();
        let is_number = |rule: &ColumnRule| {
            matches!(
                rule.kind,
                ColumnKind::Integer { .. }
                    | ColumnKind::Decimal { .. }
                    | ColumnKind::MinorUnits { .. }
            )
        };
        let is_time =
            |rule: &ColumnRule| matches!(rule.kind, ColumnKind::Date | ColumnKind::Timestamp);
        rule.round = match &raw.rounding {
            None => round,
            Some(r) => self.round(r)?,
        };
        if let Some(m) = &raw.minor_units {
            rule = rule.minor_units(*m.get_ref()).map_err(|e| self.error(self.at(m), e))?;
        }
        if let Some(f) = &raw.formats {
            if !is_time(&rule) {
                return Err(
                    self.error(line, format!("{named}: `formats` is for dates and timestamps"))
                );
            }
            rule.formats = f.clone();
        }
        if let Some(o) = &raw.assume_offset {
            if rule.kind != ColumnKind::Timestamp {
                return Err(
                    self.error(self.at(o), format!("{named}: `assume_offset` is for timestamps"))
                );
            }
            rule.assume_offset =
                Some(crate::contract::parse_offset(o.get_ref()).ok_or_else(|| {
                    self.error(
                        self.at(o),
                        format!("{:?} is not a UTC offset like +02:00", o.get_ref()),
                    )
                })?);
        }
        let bound = |b: &Option<Spanned<toml::Value>>,
                     what: &str|
         -> Result<Option<Exact>, ContractError> {
            let Some(b) = b else { return Ok(None) };
            if !is_number(&rule) {
                return Err(self.error(self.at(b), format!("{named}: `{what}` is for numbers")));
            }
            let parsed = match b.get_ref() {
                toml::Value::Integer(i) => Some(Exact::int((*i).into())),
                toml::Value::String(s) => Exact::parse(s).ok(),
                _ => None,
            };
            parsed.map(Some).ok_or_else(|| {
                self.error(
                    self.at(b),
                    format!("{named}: `{what}` is an integer or a decimal in quotes (\"0.5\")"),
                )
            })
        };
        let case = match &raw.case {
            None => None,
            Some(c) => Some(match c.get_ref().as_str() {
                "upper" => Case::Upper,
                "lower" => Case::Lower,
                other => {
                    return Err(
                        self.error(self.at(c), format!("unknown case {other:?} (upper or lower)"))
                    );
                }
            }),
        };
        let pattern = match &raw.pattern {
            None => None,
            Some(p) => Some(
                regex::Regex::new(&format!("^(?:{})$", p.get_ref()))
                    .map_err(|e| self.error(self.at(p), format!("bad pattern: {e}")))?,
            ),
        };
        let text = TextRules {
            null: raw.null.clone().unwrap_or_else(|| vec![String::new()]),
            default: raw.default.clone(),
            trim: raw.trim.unwrap_or(true),
            case,
            map: raw.map.clone().unwrap_or_default(),
            pattern,
            allowed: raw.allowed.clone(),
            max_length: raw.max_length,
            min: bound(&raw.min, "min")?,
            max: bound(&raw.max, "max")?,
        };
        let fill = match (&raw.field, &raw.value, &raw.expr, &raw.parent) {
            (None, None, None, None) if raw.meta.is_some() => {
                let m = raw.meta.as_ref().expect("checked");
                let meta = match m.get_ref().as_str() {
                    "file" => Meta::File,
                    "now" => Meta::Now,
                    "fingerprint" => Meta::Fingerprint,
                    other => {
                        return Err(self.error(
                            self.at(m),
                            format!("unknown meta {other:?} (file, now or fingerprint)"),
                        ));
                    }
                };
                let fits = match meta {
                    Meta::File => matches!(rule.kind, ColumnKind::Text { .. }),
                    Meta::Now => matches!(rule.kind, ColumnKind::Timestamp),
                    Meta::Fingerprint => {
                        matches!(rule.kind, ColumnKind::Integer { min, max } if min <= i64::MIN.into() && max >= i64::MAX.into())
                    }
                };
                if !fits {
                    return Err(self.error(
                        self.at(m),
                        format!("{named}: meta {:?} does not fit its column", m.get_ref()),
                    ));
                }
                Fill::Meta(meta)
            }
            (None, None, None, Some(p)) if raw.meta.is_none() => {
                Fill::Parent { column: p.get_ref().clone(), slot: usize::MAX }
            }
            (Some(f), None, None, None) if raw.meta.is_none() => {
                let field = f.get_ref().clone();
                if let Some(source) = source
                    && let Some(fields) = &source.fields
                    && !fields.contains(&field)
                {
                    return Err(self.error(
                        self.at(f),
                        format!(
                            "source {} has no field {field:?} (it has: {})",
                            source.name,
                            fields.join(", ")
                        ),
                    ));
                }
                Fill::Field(field)
            }
            (None, Some(v), None, None) if raw.meta.is_none() => {
                let constant = match v.get_ref() {
                    toml::Value::String(s) => s.clone(),
                    toml::Value::Integer(i) => i.to_string(),
                    toml::Value::Boolean(b) => b.to_string(),
                    _ => {
                        return Err(self.error(
                            self.at(v),
                            format!("{named}: a constant is text, an integer or a boolean (decimals in quotes)"),
                        ));
                    }
                };
                let value = text
                    .check_text(&constant)
                    .and_then(|()| rule.parse(&constant))
                    .and_then(|value| {
                        text.check_value(&value)?;
                        rule.store(&value).map(|_| value)
                    })
                    .map_err(|e| self.error(self.at(v), format!("{named}: {}", e.detail)))?;
                Fill::Constant(value)
            }
            (None, None, Some(e), None) if raw.meta.is_none() => Fill::Expr(
                Expr::parse(e.get_ref())
                    .map_err(|err| self.error(self.at(e), format!("{named}: {err}")))?,
            ),
            _ => {
                return Err(self.error(
                    line,
                    format!(
                        "{named} needs exactly one of `field`, `value`, `expr`, `parent` or `meta`"
                    ),
                ));
            }
        };
        if let Some(l) = &raw.lookup
            && !matches!(fill, Fill::Field(_))
        {
            return Err(
                self.error(self.at(l), format!("{named}: a lookup reads its key from a `field`"))
            );
        }
        Ok(Slot { name: named.clone(), line, rule, text, fill, lookup: None })
    }

    /// Refuses a key column whose collation can make two different keys
    /// equal: the database would keep one row for `A-1` and `a-1`, and the
    /// flow, which tells records apart by their exact text, could not find
    /// the second again.
    fn exact_key(
        &self,
        line: usize,
        table: &str,
        column: &ColumnSnapshot,
    ) -> Result<(), ContractError> {
        let Some(collation) = &column.folding_collation else { return Ok(()) };
        Err(self.error(
            line,
            format!(
                "key column {table}.{} compares by the collation {collation}, under which two \
                 different keys can be equal; give it one that compares exactly \
                 (MySQL: utf8mb4_bin, SQLite: BINARY, PostgreSQL: a deterministic collation)",
                column.name
            ),
        ))
    }

    /// Makes `slot` hold the id of the row of `spec` (`table.column`) whose
    /// natural key its field gives.
    fn lookup(
        &self,
        slot: &mut Slot,
        live: &TableSnapshot,
        spec: &Spanned<String>,
    ) -> Result<(), ContractError> {
        let line = self.at(spec);
        let Some((table, key)) = spec.get_ref().split_once('.') else {
            return Err(
                self.error(line, format!("lookup {:?} is not table.column", spec.get_ref()))
            );
        };
        let Some(other) = self.schema.tables.get(table) else {
            return Err(self.error(line, format!("the database has no table {table:?}")));
        };
        let Some(key_column) = other.column(key) else {
            return Err(self.error(line, format!("table {table} has no column {key:?}")));
        };
        if !is_key(other, &[key.to_owned()]) {
            return Err(self.error(
                line,
                format!("{table}.{key} is not a primary or unique key of one column"),
            ));
        }
        if !matches!(key_column.class, TypeClass::Integer | TypeClass::Text) {
            return Err(self.error(
                line,
                format!(
                    "{table}.{key} is {}: a lookup key is text or an integer",
                    key_column.class.name()
                ),
            ));
        }
        self.exact_key(line, table, key_column)?;
        let target = live
            .foreign_keys
            .iter()
            .find(|fk| fk.references == table && fk.columns == [slot.name.clone()])
            .map(|fk| fk.referenced_columns[0].clone())
            .or_else(|| (other.primary_key.len() == 1).then(|| other.primary_key[0].clone()))
            .ok_or_else(|| {
                self.error(
                    line,
                    format!("{table} has no one-column primary key for {} to hold", slot.name),
                )
            })?;
        if other.column(&target).is_none_or(|c| c.class != TypeClass::Integer) {
            return Err(self.error(line, format!("{table}.{target} is not an integer id")));
        }
        // The field is read as the natural key; the column then stores the id.
        let mut rule = ColumnRule::baseline(key_column).map_err(|m| self.error(line, m))?;
        rule.name = slot.name.clone();
        rule.nullable = slot.rule.nullable;
        slot.rule = rule;
        slot.lookup = Some(Lookup { table: table.to_owned(), key: key.to_owned(), target });
        Ok(())
    }

    /// Computed slots ordered so each comes after the computed slots it reads.
    fn evaluation_order(&self, plan: &TablePlan) -> Result<Vec<usize>, ContractError> {
        let mut order = Vec::new();
        let mut state = vec![0u8; plan.slots.len()]; // 0 new, 1 visiting, 2 done
        fn visit(
            binder: &Binder<'_>,
            plan: &TablePlan,
            i: usize,
            state: &mut [u8],
            order: &mut Vec<usize>,
        ) -> Result<(), ContractError> {
            let Fill::Expr(expr) = &plan.slots[i].fill else { return Ok(()) };
            match state[i] {
                2 => return Ok(()),
                1 => {
                    return Err(binder.error(
                        plan.slots[i].line,
                        format!(
                            "{} is computed from itself (through its expressions)",
                            plan.slots[i].name
                        ),
                    ));
                }
                _ => {}
            }
            state[i] = 1;
            for field in expr.fields() {
                let Some(j) = plan.slot(field) else {
                    return Err(binder.error(
                        plan.slots[i].line,
                        format!(
                            "{} reads {field:?}, which is no column or input of {}",
                            plan.slots[i].name, plan.name
                        ),
                    ));
                };
                visit(binder, plan, j, state, order)?;
            }
            state[i] = 2;
            order.push(i);
            Ok(())
        }
        for i in 0..plan.slots.len() {
            visit(self, plan, i, &mut state, &mut order)?;
        }
        Ok(order)
    }

    /// Finds the columns of `child` that hold its parent's key: its foreign
    /// key to the parent's key columns.
    fn link(
        &self,
        child: &mut TablePlan,
        parent: &TablePlan,
        raw: &Spanned<RawTable>,
        sources: &BTreeMap<String, SourcePlan>,
    ) -> Result<(), ContractError> {
        child.join = match std::mem::replace(&mut child.join, Join::None) {
            Join::Nested(path) => {
                if sources[&parent.source].format.format != Format::Jsonl {
                    return Err(self.error(
                        self.at(raw),
                        format!("`nested` records are in JSON: source {} is CSV", parent.source),
                    ));
                }
                child.source = parent.source.clone();
                Join::Nested(path)
            }
            _ if child.source == parent.source => Join::SameRows,
            _ => Join::Source,
        };
        let parent_live = &self.schema.tables[&parent.name];
        let generated = |column: &str| {
            parent_live.primary_key == [column]
                && !parent.columns.iter().any(|c| c == column)
                && parent_live.column(column).is_some_and(|c| c.class == TypeClass::Integer)
        };
        let mut generated_link = None;
        for slot in &mut child.slots {
            if let Fill::Parent { column, slot: at } = &mut slot.fill {
                let found = parent.columns.iter().position(|c| c == column);
                match found.map(|i| &parent.slots[i].fill) {
                    Some(Fill::Field(_) | Fill::Constant(_)) => *at = found.expect("found"),
                    None if generated(column) => {
                        if parent.key.len() != 1 {
                            return Err(self.error(
                                slot.line,
                                format!(
                                    "{}: a parent's generated id is read back by its natural key, which must be one column",
                                    slot.name
                                ),
                            ));
                        }
                        *at = GENERATED;
                        generated_link = Some(column.clone());
                    }
                    Some(_) => {
                        return Err(self.error(
                            slot.line,
                            format!(
                                "{}: parent column {column} is computed; take a field or constant",
                                slot.name
                            ),
                        ));
                    }
                    None => {
                        return Err(self.error(
                            slot.line,
                            format!(
                                "{}: the contract fills no column {column:?} of {}",
                                slot.name, parent.name
                            ),
                        ));
                    }
                }
            }
        }
        child.generated_link = generated_link;
        let live = &self.schema.tables[&child.name];
        let wanted: BTreeSet<&String> = if child.generated_link.is_some() {
            parent_live.primary_key.iter().collect()
        } else {
            parent.key.iter().collect()
        };
        let fk = live.foreign_keys.iter().find(|fk| {
            fk.references == parent.name
                && fk.referenced_columns.iter().collect::<BTreeSet<_>>() == wanted
        });
        let link_key: Vec<String> = if child.generated_link.is_some() {
            parent_live.primary_key.clone()
        } else {
            parent.key.clone()
        };
        let Some(fk) = fk else {
            return Err(self.error(
                self.at(raw),
                format!(
                    "table {} has no foreign key to {} ({}), which links a child to its parent",
                    child.name,
                    parent.name,
                    parent.key.join(", ")
                ),
            ));
        };
        for parent_column in &link_key {
            let at =
                fk.referenced_columns.iter().position(|c| c == parent_column).expect("same set");
            let column = &fk.columns[at];
            let Some(slot) = child.columns.iter().position(|c| c == column) else {
                return Err(self.error(
                    self.at(raw),
                    format!(
                        "{}.{column} links to the parent; the contract must fill it",
                        child.name
                    ),
                ));
            };
            let joined_by_field = child.join == Join::Source && child.generated_link.is_none();
            match &child.slots[slot].fill {
                Fill::Field(_) => {}
                Fill::Parent { .. } if !joined_by_field => {}
                _ => {
                    return Err(self.error(
                        child.slots[slot].line,
                        format!(
                            "{}.{column} links to the parent: read it from a field{}",
                            child.name,
                            if joined_by_field { "" } else { " or take it from the parent" }
                        ),
                    ));
                }
            }
            child.link_slots.push(slot);
            child.link_columns.push(column.clone());
        }
        // A child of its own file is sorted and joined by the parent's
        // natural key: its link fields, or the fields `join` names.
        child.join_slots = match &raw.get_ref().join {
            Some(names) => {
                let mut slots = Vec::new();
                for name in names.get_ref() {
                    match child.slot(name) {
                        Some(i) if matches!(child.slots[i].fill, Fill::Field(_)) => slots.push(i),
                        _ => {
                            return Err(self.error(
                                self.at(names),
                                format!(
                                    "join: {name:?} is no field column or input of {}",
                                    child.name
                                ),
                            ));
                        }
                    }
                }
                if slots.len() != parent.key.len() {
                    return Err(self.error(
                        self.at(names),
                        format!(
                            "join names {} fields for a key of {}",
                            slots.len(),
                            parent.key.len()
                        ),
                    ));
                }
                slots
            }
            None => child.link_slots.clone(),
        };
        if child.join == Join::Source
            && child.join_slots.iter().any(|&i| !matches!(child.slots[i].fill, Fill::Field(_)))
        {
            return Err(self.error(
                self.at(raw),
                format!(
                    "{} takes its parent's id: name the fields holding the parent's key with `join = [...]`",
                    child.name
                ),
            ));
        }
        Ok(())
    }

    /// Checks that a parent's aggregates name its children and their values.
    fn aggregates(&self, family: &Family, raw: &Spanned<RawTable>) -> Result<(), ContractError> {
        let parent = &family.parent;
        let exprs = parent
            .slots
            .iter()
            .filter_map(|s| match &s.fill {
                Fill::Expr(e) => Some((s.line, e)),
                _ => None,
            })
            .chain(parent.checks.iter().map(|c| (self.at(raw), &c.expr)));
        for (line, expr) in exprs {
            for (relation, field) in expr.aggregated() {
                let Some(child) = family.children.iter().find(|c| c.name == relation) else {
                    return Err(self.error(
                        line,
                        format!("{relation:?} is not a child table of {}", parent.name),
                    ));
                };
                if let Some(field) = field
                    && child.slot(field).is_none()
                {
                    return Err(
                        self.error(line, format!("{relation} has no column or input {field:?}"))
                    );
                }
            }
        }
        for child in &family.children {
            for slot in &child.slots {
                if let Fill::Expr(e) = &slot.fill
                    && let Some((relation, _)) = e.aggregated().first()
                {
                    return Err(self.error(
                        slot.line,
                        format!(
                            "{} aggregates {relation:?}, but {} has no children",
                            slot.name, child.name
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// Families ordered so a table comes before those referencing it.
    fn write_order(
        &self,
        mut families: BTreeMap<String, Family>,
        raw: &RawFlow,
    ) -> Result<Vec<Family>, ContractError> {
        let member: BTreeMap<String, String> = families
            .values()
            .flat_map(|f| f.tables().map(|t| (t.name.clone(), f.parent.name.clone())))
            .collect();
        let mut after: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (table, family) in &member {
            for fk in &self.schema.tables[table].foreign_keys {
                if let Some(other) = member.get(&fk.references)
                    && other != family
                {
                    after.entry(family.clone()).or_default().insert(other.clone());
                }
            }
        }
        let mut order = Vec::new();
        let mut done = BTreeSet::new();
        while done.len() < families.len() {
            let next = families
                .keys()
                .find(|f| !done.contains(*f) && after.get(*f).is_none_or(|a| a.is_subset(&done)))
                .cloned();
            let Some(next) = next else {
                let line = raw.tables.keys().next().map_or(0, |k| self.at(k));
                return Err(
                    self.error(line, "the tables' foreign keys reference each other in a circle")
                );
            };
            done.insert(next.clone());
            order.push(next);
        }
        Ok(order.into_iter().map(|name| families.remove(&name).expect("listed")).collect())
    }
}

/// Whether `columns` are the primary key or a unique key of `table`.
fn is_key(table: &TableSnapshot, columns: &[String]) -> bool {
    let wanted: BTreeSet<&String> = columns.iter().collect();
    let same = |key: &Vec<String>| key.iter().collect::<BTreeSet<_>>() == wanted;
    same(&table.primary_key) || table.unique.iter().any(same)
}
