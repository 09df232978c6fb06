//! Turning records into orders: the rows of an order, an order joined with
//! its lines, or a nested order; each order either whole and valid, or
//! refused with every record it was made of.

use std::collections::HashSet;

use chrono::NaiveDateTime;

use super::sort::{Sorted, Sorter};
use super::source::{RecordData, Resolved, Source, SourceRecord, json_at};
use crate::contract::{Contract, FieldError, FieldSpec, RawValue, Reason, Reject, Target, Value};
use crate::error::{Error, Result};
use crate::model::{NewCustomer, OrderStatus, order_total_cents};
use crate::writer::{LineRecord, OrderRecord};

/// What assembling produces: an order ready to write, or a refused record.
#[derive(Debug)]
pub(crate) enum Assembled {
    /// A valid order and the number of input records it was made of.
    Order { record: OrderRecord, records: u64 },
    /// A refused record.
    Rejected(Reject),
}

impl Assembled {
    /// How many input records this decides.
    pub(crate) fn records(&self) -> u64 {
        match self {
            Assembled::Order { records, .. } => *records,
            Assembled::Rejected(_) => 1,
        }
    }
}

/// The order-level values of an order.
#[derive(Debug, Clone, PartialEq, Eq)]
struct OrderPart {
    key: String,
    customer_id: String,
    customer_name: String,
    email: Option<String>,
    country: Option<String>,
    status: OrderStatus,
    currency: String,
    placed_at: NaiveDateTime,
    updated_at: Option<NaiveDateTime>,
    total: Option<i64>,
}

/// The line-level values of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LinePart {
    line_no: i32,
    sku: String,
    quantity: i32,
    unit_price_cents: i64,
    discount_bp: Option<i32>,
    note: Option<String>,
}

/// A field error with the field it belongs to.
#[derive(Debug, Clone)]
struct Failure {
    field: Option<String>,
    error: FieldError,
}

impl Failure {
    fn of(target: Target, error: FieldError) -> Self {
        Self { field: Some(target.name().to_owned()), error }
    }

    fn record(error: FieldError) -> Self {
        Self { field: None, error }
    }
}

/// Resolved fields of one section for one file.
struct Fields<'c> {
    specs: Vec<(&'c FieldSpec, Resolved)>,
}

impl<'c> Fields<'c> {
    fn resolve(specs: &'c [FieldSpec], source: &Source, contract: &Contract) -> Result<Self> {
        let specs = specs
            .iter()
            .map(|spec| Ok((spec, source.resolve(spec, contract)?)))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { specs })
    }

    fn only(&self, target: Target) -> Option<&(&'c FieldSpec, Resolved)> {
        self.specs.iter().find(|(spec, _)| spec.target == target)
    }

    /// Applies every spec; the first failure wins.
    fn values(
        &self,
        data: &RecordData,
        base: Option<&serde_json::Value>,
        skip: Option<Target>,
    ) -> std::result::Result<Vec<(Target, Option<Value>)>, Failure> {
        let mut out = Vec::with_capacity(self.specs.len());
        for (spec, at) in &self.specs {
            if Some(spec.target) == skip {
                continue;
            }
            let value = spec.apply(data.get(at, base)).map_err(|e| Failure::of(spec.target, e))?;
            out.push((spec.target, value));
        }
        Ok(out)
    }

    /// The key value of `target`, if it reads as valid.
    fn key(
        &self,
        target: Target,
        data: &RecordData,
        base: Option<&serde_json::Value>,
    ) -> std::result::Result<String, Failure> {
        let Some((spec, at)) = self.only(target) else {
            return Err(Failure::of(
                target,
                FieldError::new(Reason::MissingRequired, "not mapped"),
            ));
        };
        match spec.apply(data.get(at, base)) {
            Ok(Some(Value::Text(key))) => Ok(key),
            Ok(_) => {
                Err(Failure::of(target, FieldError::new(Reason::MissingRequired, "no order id")))
            }
            Err(e) => Err(Failure::of(target, e)),
        }
    }

    /// Whether the record carries any of these fields other than `except`:
    /// a value that is neither absent nor blank. (Rows after the first of an
    /// order may leave the order's fields empty, whatever their NULL values.)
    fn any_present(&self, data: &RecordData, except: Target) -> bool {
        self.specs.iter().any(|(spec, at)| {
            spec.target != except
                && match data.get(at, None) {
                    RawValue::Absent | RawValue::Null => false,
                    RawValue::Text(t) => !t.trim().is_empty(),
                    RawValue::NotUtf8 | RawValue::NotScalar => true,
                }
        })
    }
}

fn text(values: &mut [(Target, Option<Value>)], target: Target) -> Option<String> {
    values.iter_mut().find(|(t, _)| *t == target).and_then(|(_, v)| match v.take() {
        Some(Value::Text(s)) => Some(s),
        _ => None,
    })
}

fn int(values: &[(Target, Option<Value>)], target: Target) -> Option<i64> {
    values.iter().find(|(t, _)| *t == target).and_then(|(_, v)| match v {
        Some(Value::Int(n)) => Some(*n),
        _ => None,
    })
}

fn time(values: &[(Target, Option<Value>)], target: Target) -> Option<NaiveDateTime> {
    values.iter().find(|(t, _)| *t == target).and_then(|(_, v)| match v {
        Some(Value::Time(t)) => Some(*t),
        _ => None,
    })
}

fn order_part(key: String, mut values: Vec<(Target, Option<Value>)>) -> OrderPart {
    // Required fields are non-NULL here: the contract requires them or gives a default.
    let status = text(&mut values, Target::Status)
        .and_then(|s| s.parse().ok())
        .unwrap_or(OrderStatus::Pending);
    OrderPart {
        key,
        customer_id: text(&mut values, Target::CustomerId).unwrap_or_default(),
        customer_name: text(&mut values, Target::CustomerName).unwrap_or_default(),
        email: text(&mut values, Target::CustomerEmail),
        country: text(&mut values, Target::CustomerCountry),
        status,
        currency: text(&mut values, Target::Currency).unwrap_or_default(),
        placed_at: time(&values, Target::PlacedAt).unwrap_or_default(),
        updated_at: time(&values, Target::UpdatedAt),
        total: int(&values, Target::Total),
    }
}

fn line_part(mut values: Vec<(Target, Option<Value>)>) -> LinePart {
    // Integer fields are within i32 here: the model's range rules checked them.
    let small = |n: Option<i64>| n.and_then(|n| i32::try_from(n).ok());
    LinePart {
        line_no: small(int(&values, Target::LineNo)).unwrap_or_default(),
        quantity: small(int(&values, Target::Quantity)).unwrap_or_default(),
        unit_price_cents: int(&values, Target::UnitPrice).unwrap_or_default(),
        discount_bp: small(int(&values, Target::Discount)),
        sku: text(&mut values, Target::Sku).unwrap_or_default(),
        note: text(&mut values, Target::Note),
    }
}

/// A record that belongs to an order being assembled.
#[derive(Debug)]
struct Member {
    source: String,
    line: u64,
    raw: String,
    line_part: Option<LinePart>,
    failure: Option<Failure>,
}

impl Member {
    fn new(source: &str, record: &SourceRecord) -> Self {
        Self {
            source: source.to_owned(),
            line: record.line,
            raw: record.raw.clone(),
            line_part: None,
            failure: None,
        }
    }

    fn reject(self, failure: Failure) -> Assembled {
        Assembled::Rejected(Reject {
            source: self.source,
            line: self.line,
            field: failure.field,
            reason: failure.error.reason.as_str().to_owned(),
            detail: failure.error.detail,
            raw: self.raw,
        })
    }

    fn fail(&mut self, failure: Failure) {
        if self.failure.is_none() {
            self.failure = Some(failure);
        }
    }
}

/// The records of one order, finished into an order or into rejects.
#[derive(Debug, Default)]
struct Group {
    key: String,
    order: Option<OrderPart>,
    members: Vec<Member>,
    /// A problem that refuses every member (split or unsorted order).
    problem: Option<FieldError>,
}

impl Group {
    fn new(key: String) -> Self {
        Self { key, ..Self::default() }
    }

    fn finish(mut self, emit: &mut dyn FnMut(Assembled) -> Result<()>) -> Result<()> {
        if let Some(problem) = self.problem.take() {
            for member in self.members {
                emit(member.reject(Failure::of(Target::OrderId, problem.clone())))?;
            }
            return Ok(());
        }
        let Some(order) = self.order.take() else {
            let detail = format!("no record carries the fields of order {:?}", self.key);
            for member in self.members {
                emit(member.reject(Failure::of(
                    Target::OrderId,
                    FieldError::new(Reason::MissingOrder, detail.clone()),
                )))?;
            }
            return Ok(());
        };

        let mut seen = HashSet::new();
        for member in &mut self.members {
            if let Some(line) = &member.line_part
                && !seen.insert(line.line_no)
            {
                let detail =
                    format!("line number {} appears twice in order {:?}", line.line_no, self.key);
                member.fail(Failure::of(
                    Target::LineNo,
                    FieldError::new(Reason::DuplicateLineNo, detail),
                ));
            }
        }
        let lines: Vec<&LinePart> =
            self.members.iter().filter_map(|m| m.line_part.as_ref()).collect();
        let total = order_total(lines.iter().copied());
        if self.members.iter().all(|m| m.failure.is_none()) {
            if lines.is_empty() {
                let error = FieldError::new(
                    Reason::OrderWithoutLines,
                    format!("order {:?} has no lines", self.key),
                );
                self.members[0].fail(Failure::record(error));
            } else {
                match &total {
                    Err(failure) => self.members[0].fail(failure.clone()),
                    &Ok(total) => {
                        if let Some(declared) = order.total.filter(|t| *t != total) {
                            let detail = format!(
                                "declared total {declared} cents, the lines sum to {total}"
                            );
                            self.members[0].fail(Failure::of(
                                Target::Total,
                                FieldError::new(Reason::TotalMismatch, detail),
                            ));
                        }
                    }
                }
            }
        }

        if let Some(first) = self
            .members
            .iter()
            .find_map(|m| m.failure.clone().map(|f| (m.source.clone(), m.line, f)))
        {
            let (source, line, failure) = first;
            let detail = format!(
                "order {:?} is refused whole: {source}:{line} was rejected ({})",
                self.key, failure.error.reason
            );
            for mut member in self.members {
                let failure = member.failure.take().unwrap_or_else(|| {
                    Failure::record(FieldError::new(Reason::RejectedWithOrder, detail.clone()))
                });
                emit(member.reject(failure))?;
            }
            return Ok(());
        }

        let records = self.members.len() as u64;
        let source = self.members.first().map(|m| m.source.clone()).unwrap_or_default();
        let lines = self.members.into_iter().filter_map(|m| m.line_part).collect();
        // An order whose total does not fit was refused above.
        let total_cents = total.unwrap_or_default();
        emit(Assembled::Order { record: build_record(order, lines, total_cents, &source), records })
    }
}

/// The sum of `lines`' amounts; one that no BIGINT holds refuses the order.
fn order_total<'l>(lines: impl Iterator<Item = &'l LinePart>) -> Result<i64, Failure> {
    order_total_cents(lines.map(|l| (l.quantity, l.unit_price_cents, l.discount_bp))).ok_or_else(
        || {
            Failure::of(
                Target::Total,
                FieldError::new(
                    Reason::OutOfRange,
                    "the lines' amounts sum to more than a BIGINT holds",
                ),
            )
        },
    )
}

/// The order to write from its parts and its total, the sum of its lines.
fn build_record(
    order: OrderPart,
    lines: Vec<LinePart>,
    total_cents: i64,
    source: &str,
) -> OrderRecord {
    OrderRecord {
        customer: NewCustomer {
            external_id: order.customer_id,
            name: order.customer_name,
            email: order.email,
            country: order.country,
            created_at: order.placed_at,
        },
        external_id: order.key,
        status: order.status,
        currency: order.currency,
        total_cents,
        placed_at: order.placed_at,
        updated_at: order.updated_at.unwrap_or(order.placed_at),
        source: stored_source(source),
        lines: lines
            .into_iter()
            .map(|l| LineRecord {
                line_no: l.line_no,
                sku: l.sku,
                quantity: l.quantity,
                unit_price_cents: l.unit_price_cents,
                discount_bp: l.discount_bp,
                note: l.note,
            })
            .collect(),
    }
}

/// A source name as stored: at most 255 characters, keeping the end of a long path.
pub(crate) fn stored_source(name: &str) -> String {
    let chars = name.chars().count();
    if chars <= crate::model::limits::SOURCE {
        name.to_owned()
    } else {
        let tail: String = name.chars().skip(chars - (crate::model::limits::SOURCE - 1)).collect();
        format!("…{tail}")
    }
}

/// A 64-bit fingerprint of an order key (FNV-1a), to remember finished orders compactly.
fn key_hash(key: &str) -> u64 {
    key.bytes()
        .fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// A reject for a record that belongs to no order.
fn lone_reject(source: &str, record: SourceRecord, failure: Failure) -> Assembled {
    Member::new(source, &record).reject(failure)
}

/// Reads `source` with the rows layout: consecutive rows with the same key are one order.
///
/// Remembers a 64-bit fingerprint of every finished order key, so rows of an
/// order that reappear later in the file are refused as `split_order`
/// instead of silently replacing the rows written before.
pub(crate) fn rows(
    contract: &Contract,
    mut source: Source,
    emit: &mut dyn FnMut(Assembled) -> Result<()>,
    progress: &mut dyn FnMut(u64),
) -> Result<()> {
    let name = source.path().display().to_string();
    let order_fields = Fields::resolve(&contract.order, &source, contract)?;
    let line_fields = Fields::resolve(&contract.line, &source, contract)?;
    let mut finished: HashSet<u64> = HashSet::new();
    let mut current: Option<Group> = None;
    while let Some(record) = source.next_record()? {
        progress(record.offset);
        let width_error = match &record.data {
            RecordData::Broken(error) => {
                let failure = Failure::record(error.clone());
                emit(lone_reject(&name, record, failure))?;
                continue;
            }
            RecordData::Csv { width_error, .. } => width_error.clone(),
            RecordData::Json(_) => None,
        };
        let key = match order_fields.key(Target::OrderId, &record.data, None) {
            Ok(key) => key,
            Err(failure) => {
                let failure = width_error.map(Failure::record).unwrap_or(failure);
                emit(lone_reject(&name, record, failure))?;
                continue;
            }
        };
        if current.as_ref().is_none_or(|g| g.key != key) {
            if let Some(done) = current.take() {
                finished.insert(key_hash(&done.key));
                done.finish(emit)?;
            }
            let mut group = Group::new(key.clone());
            if finished.contains(&key_hash(&key)) {
                group.problem = Some(FieldError::new(
                    Reason::SplitOrder,
                    format!("rows of order {key:?} appeared earlier in the file, apart from these"),
                ));
            }
            current = Some(group);
        }
        let Some(group) = current.as_mut() else { continue };
        let mut member = Member::new(&name, &record);
        if let Some(error) = width_error {
            member.fail(Failure::record(error));
        }
        if order_fields.any_present(&record.data, Target::OrderId) {
            match order_fields.values(&record.data, None, Some(Target::OrderId)) {
                Ok(values) => {
                    let part = order_part(key.clone(), values);
                    match &group.order {
                        None => group.order = Some(part),
                        Some(existing) if *existing == part => {}
                        Some(_) => member.fail(Failure::record(FieldError::new(
                            Reason::ConflictingOrderFields,
                            format!("the fields of order {key:?} differ from its first row"),
                        ))),
                    }
                }
                Err(failure) => {
                    member.fail(failure);
                    // The order exists; its fields are refused with this row.
                    group.order.get_or_insert_with(|| placeholder(&key));
                }
            }
        }
        match line_fields.values(&record.data, None, Some(Target::LineOrderId)) {
            Ok(values) => member.line_part = Some(line_part(values)),
            Err(failure) => member.fail(failure),
        }
        group.members.push(member);
    }
    if let Some(done) = current.take() {
        done.finish(emit)?;
    }
    Ok(())
}

/// Stands in for order fields that failed to parse, so the group is refused
/// for that failure rather than as a missing order.
fn placeholder(key: &str) -> OrderPart {
    OrderPart {
        key: key.to_owned(),
        customer_id: String::new(),
        customer_name: String::new(),
        email: None,
        country: None,
        status: OrderStatus::Pending,
        currency: String::new(),
        placed_at: NaiveDateTime::default(),
        updated_at: None,
        total: None,
    }
}

/// Reads `source` whole, refuses its records that have no key, and returns
/// the others by key (spilling to disk past `memory` bytes).
#[allow(clippy::too_many_arguments)]
fn by_key(
    source: &mut Source,
    fields: &Fields<'_>,
    target: Target,
    name: &str,
    memory: usize,
    emit: &mut dyn FnMut(Assembled) -> Result<()>,
    progress: &mut dyn FnMut(u64),
    read_before: u64,
) -> Result<(Sorted, u64)> {
    let io = |source: std::io::Error| Error::Io { path: source_path(name), source };
    let mut sorter = Sorter::new(memory);
    let mut read = 0;
    while let Some(record) = source.next_record()? {
        read = record.offset;
        progress(read_before + read);
        if let RecordData::Broken(error) = &record.data {
            let failure = Failure::record(error.clone());
            emit(lone_reject(name, record, failure))?;
            continue;
        }
        match fields.key(target, &record.data, None) {
            Ok(key) => sorter.push(key, record).map_err(io)?,
            Err(failure) => emit(lone_reject(name, record, failure))?,
        }
    }
    Ok((sorter.finish().map_err(io)?, read))
}

fn source_path(name: &str) -> std::path::PathBuf {
    std::path::PathBuf::from(name)
}

/// Reads an orders file and its lines file and joins them by order key,
/// whatever order either file is in: each is sorted by key first (in
/// bounded memory, see [`Sorter`]), then the two are merged in one pass.
pub(crate) fn orders_and_lines(
    contract: &Contract,
    mut orders: Source,
    mut lines: Source,
    memory: usize,
    emit: &mut dyn FnMut(Assembled) -> Result<()>,
    progress: &mut dyn FnMut(u64),
) -> Result<()> {
    let orders_name = orders.path().display().to_string();
    let lines_name = lines.path().display().to_string();
    let order_fields = Fields::resolve(&contract.order, &orders, contract)?;
    let line_fields = Fields::resolve(&contract.line, &lines, contract)?;
    let (sorted_orders, orders_bytes) = by_key(
        &mut orders,
        &order_fields,
        Target::OrderId,
        &orders_name,
        memory / 2,
        emit,
        progress,
        0,
    )?;
    let (mut sorted_lines, _) = by_key(
        &mut lines,
        &line_fields,
        Target::LineOrderId,
        &lines_name,
        memory / 2,
        emit,
        progress,
        orders_bytes,
    )?;
    let io = |name: &str| {
        let path = source_path(name);
        move |source: std::io::Error| Error::Io { path: path.clone(), source }
    };
    let next_line = |sorted: &mut Sorted| -> Result<Option<(SourceRecord, String)>> {
        match sorted.next() {
            None => Ok(None),
            Some(entry) => {
                let (key, record) = entry.map_err(io(&lines_name))?;
                Ok(Some((record, key)))
            }
        }
    };
    let mut pending_line = next_line(&mut sorted_lines)?;

    let mut last_order: Option<(String, u64)> = None;
    for entry in sorted_orders {
        let (key, record) = entry.map_err(io(&orders_name))?;
        if let Some((last, first_line)) = &last_order
            && *last == key
        {
            let detail = format!("order id {key:?} is also on line {first_line} of {orders_name}");
            emit(lone_reject(
                &orders_name,
                record,
                Failure::of(Target::OrderId, FieldError::new(Reason::DuplicateKey, detail)),
            ))?;
            continue;
        }
        last_order = Some((key.clone(), record.line));

        // Lines before this order's key have no order.
        while let Some((line, line_key)) = pending_line.take() {
            if line_key < key {
                let detail = format!("no order {line_key:?} in {orders_name}");
                emit(lone_reject(
                    &lines_name,
                    line,
                    Failure::of(Target::LineOrderId, FieldError::new(Reason::MissingOrder, detail)),
                ))?;
                pending_line = next_line(&mut sorted_lines)?;
            } else {
                pending_line = Some((line, line_key));
                break;
            }
        }

        let mut group = Group::new(key.clone());
        let mut order_member = Member::new(&orders_name, &record);
        if let RecordData::Csv { width_error: Some(error), .. } = &record.data {
            order_member.fail(Failure::record(error.clone()));
        }
        match order_fields.values(&record.data, None, Some(Target::OrderId)) {
            Ok(values) => group.order = Some(order_part(key.clone(), values)),
            Err(failure) => {
                order_member.fail(failure);
                group.order = Some(placeholder(&key));
            }
        }
        group.members.push(order_member);
        while let Some((line, line_key)) = pending_line.take() {
            if line_key != key {
                pending_line = Some((line, line_key));
                break;
            }
            let mut member = Member::new(&lines_name, &line);
            if let RecordData::Csv { width_error: Some(error), .. } = &line.data {
                member.fail(Failure::record(error.clone()));
            }
            match line_fields.values(&line.data, None, Some(Target::LineOrderId)) {
                Ok(values) => member.line_part = Some(line_part(values)),
                Err(failure) => member.fail(failure),
            }
            group.members.push(member);
            pending_line = next_line(&mut sorted_lines)?;
        }
        group.finish(emit)?;
    }
    while let Some((line, line_key)) = pending_line.take() {
        let detail = format!("no order {line_key:?} in {orders_name}");
        emit(lone_reject(
            &lines_name,
            line,
            Failure::of(Target::LineOrderId, FieldError::new(Reason::MissingOrder, detail)),
        ))?;
        pending_line = next_line(&mut sorted_lines)?;
    }
    Ok(())
}

/// Reads `source` with the nested layout: each record is one order with its lines.
pub(crate) fn nested(
    contract: &Contract,
    mut source: Source,
    emit: &mut dyn FnMut(Assembled) -> Result<()>,
    progress: &mut dyn FnMut(u64),
) -> Result<()> {
    let name = source.path().display().to_string();
    let order_fields = Fields::resolve(&contract.order, &source, contract)?;
    let line_fields = Fields::resolve(&contract.line, &source, contract)?;
    while let Some(record) = source.next_record()? {
        progress(record.offset);
        let outcome = match &record.data {
            RecordData::Json(root) => {
                nested_order(contract, &order_fields, &line_fields, &record.data, root)
            }
            RecordData::Broken(error) => Err(Failure::record(error.clone())),
            RecordData::Csv { .. } => continue,
        };
        match outcome {
            Ok(record_out) => emit(Assembled::Order {
                record: build_record(record_out.0, record_out.1, record_out.2, &name),
                records: 1,
            })?,
            Err(failure) => emit(lone_reject(&name, record, failure))?,
        }
    }
    Ok(())
}

/// The order and lines of one nested record, or the first reason to refuse it.
fn nested_order(
    contract: &Contract,
    order_fields: &Fields<'_>,
    line_fields: &Fields<'_>,
    data: &RecordData,
    root: &serde_json::Value,
) -> std::result::Result<(OrderPart, Vec<LinePart>, i64), Failure> {
    let key = order_fields.key(Target::OrderId, data, None)?;
    let order = order_part(key.clone(), order_fields.values(data, None, Some(Target::OrderId))?);
    let path = contract.lines_path.join(".");
    let items: &[serde_json::Value] = match json_at(root, &contract.lines_path) {
        RawValue::Absent | RawValue::Null => &[],
        _ => match root.pointer(&format!("/{}", contract.lines_path.join("/"))) {
            Some(serde_json::Value::Array(items)) => items,
            _ => {
                return Err(Failure::record(FieldError::new(
                    Reason::InvalidJson,
                    format!("{path:?} is not an array"),
                )));
            }
        },
    };
    let mut lines = Vec::with_capacity(items.len());
    let mut seen = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        let line = line_part(
            line_fields.values(data, Some(item), Some(Target::LineOrderId)).map_err(|mut f| {
                f.error.detail = format!("in {path}[{i}]: {}", f.error.detail);
                f
            })?,
        );
        if !seen.insert(line.line_no) {
            let detail = format!("line number {} appears twice in order {key:?}", line.line_no);
            return Err(Failure::of(
                Target::LineNo,
                FieldError::new(Reason::DuplicateLineNo, detail),
            ));
        }
        lines.push(line);
    }
    if lines.is_empty() {
        return Err(Failure::record(FieldError::new(
            Reason::OrderWithoutLines,
            format!("order {key:?} has no lines"),
        )));
    }
    let total = order_total(lines.iter())?;
    if let Some(declared) = order.total.filter(|t| *t != total) {
        let detail = format!("declared total {declared} cents, the lines sum to {total}");
        return Err(Failure::of(Target::Total, FieldError::new(Reason::TotalMismatch, detail)));
    }
    Ok((order, lines, total))
}
