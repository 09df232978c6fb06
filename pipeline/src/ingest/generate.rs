//! Sample input in triglot's own CSV and JSONL formats, with a known number
//! of defects of each kind, and what ingesting it must give.
//!
//! The orders are [`DemoData`]'s; a fraction of them (the dirty rate) carry
//! exactly one defect each, the kinds taken in turn, so every count in
//! [`Expected`] is exact.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{FixedOffset, NaiveDateTime};

use crate::contract::Reason;
use crate::demo::DemoData;
use crate::error::{Error, Result};
use crate::writer::{LineRecord, OrderRecord};

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerateOptions {
    /// Seed of the orders and of the defects.
    pub seed: u64,
    /// How many orders; ignored when `lines` is set.
    pub orders: u64,
    /// Exactly this many order lines (CSV rows) instead, the last order cut to fit.
    pub lines: Option<u64>,
    /// Fraction of orders with one defect, 0 to 1.
    pub dirty_rate: f64,
    /// Orders are placed over the 30 days before this instant (UTC).
    pub anchor: NaiveDateTime,
}

/// What ingesting one generated file must give.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Expected {
    /// The file.
    pub file: String,
    /// Records in the file.
    pub records: u64,
    /// Records that must be accepted.
    pub accepted: u64,
    /// Records that must be rejected.
    pub rejected: u64,
    /// Orders that must be written.
    pub orders: u64,
    /// Lines of those orders.
    pub lines: u64,
    /// Rejected records by reason code.
    pub by_reason: BTreeMap<String, u64>,
    /// Each rejected record: `(line, reason)`, in file order.
    pub rejects: Vec<(u64, String)>,
}

/// The generated files and their expectations.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Generated {
    /// `orders.csv` (triglot's own CSV).
    pub csv: Expected,
    /// `orders.jsonl` (triglot's own JSONL).
    pub jsonl: Expected,
}

/// One defect, put into one record of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Defect {
    MissingSku,
    QuantityNotANumber,
    PlacedAtNotADate,
    NegativeQuantity,
    UnknownStatus,
    SkuTooLong,
    NoteNotUtf8,
    MissingColumn,
    DuplicateLineNo,
    UnknownCurrency,
    OrderRowMissing,
    TruncatedJson,
}

const CSV_DEFECTS: [Defect; 11] = [
    Defect::MissingSku,
    Defect::QuantityNotANumber,
    Defect::PlacedAtNotADate,
    Defect::NegativeQuantity,
    Defect::UnknownStatus,
    Defect::SkuTooLong,
    Defect::NoteNotUtf8,
    Defect::MissingColumn,
    Defect::DuplicateLineNo,
    Defect::UnknownCurrency,
    Defect::OrderRowMissing,
];

const JSONL_DEFECTS: [Defect; 10] = [
    Defect::MissingSku,
    Defect::QuantityNotANumber,
    Defect::PlacedAtNotADate,
    Defect::NegativeQuantity,
    Defect::UnknownStatus,
    Defect::SkuTooLong,
    Defect::NoteNotUtf8,
    Defect::DuplicateLineNo,
    Defect::UnknownCurrency,
    Defect::TruncatedJson,
];

impl Defect {
    fn reason(self) -> Reason {
        match self {
            Defect::MissingSku => Reason::MissingRequired,
            Defect::QuantityNotANumber => Reason::InvalidNumber,
            Defect::PlacedAtNotADate => Reason::InvalidTimestamp,
            Defect::NegativeQuantity => Reason::OutOfRange,
            Defect::UnknownStatus | Defect::UnknownCurrency => Reason::UnknownValue,
            Defect::SkuTooLong => Reason::TooLong,
            Defect::NoteNotUtf8 => Reason::InvalidUtf8,
            Defect::MissingColumn => Reason::WrongColumnCount,
            Defect::DuplicateLineNo => Reason::DuplicateLineNo,
            Defect::OrderRowMissing => Reason::MissingOrder,
            Defect::TruncatedJson => Reason::InvalidJson,
        }
    }
}

/// The CSV header of triglot's own format.
pub const CSV_HEADER: &str = "order_id,customer_id,customer_name,customer_email,customer_country,status,currency,placed_at,updated_at,line_no,sku,quantity,unit_price,discount_pct,note";

/// Writes `orders.csv`, `orders.jsonl` and `expected.json` into `dir`.
///
/// # Errors
///
/// [`Error::Io`] when a file cannot be written.
pub fn generate(dir: &Path, options: &GenerateOptions) -> Result<Generated> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io { path: dir.to_owned(), source })?;
    let csv_path = dir.join("orders.csv");
    let jsonl_path = dir.join("orders.jsonl");
    let mut csv = Out::create(&csv_path)?;
    let mut jsonl = Out::create(&jsonl_path)?;
    let mut expect_csv = Expected { file: csv_path.display().to_string(), ..Expected::default() };
    let mut expect_jsonl =
        Expected { file: jsonl_path.display().to_string(), ..Expected::default() };
    csv.line(CSV_HEADER.as_bytes())?;
    let mut csv_line = 1_u64;
    let mut json_line = 0_u64;

    let count = options.lines.map_or(options.orders, |lines| lines);
    let data = DemoData::new(options.seed, count, options.anchor);
    let mut lines_left = options.lines;
    let (mut next_csv_defect, mut next_jsonl_defect) = (0, 0);
    for (n, mut record) in data.records().enumerate() {
        if lines_left == Some(0) {
            break;
        }
        let dirty = is_dirty(options.seed, n as u64, options.dirty_rate);
        let mut csv_defect = dirty.then(|| {
            next_csv_defect += 1;
            CSV_DEFECTS[(next_csv_defect - 1) % CSV_DEFECTS.len()]
        });
        let mut jsonl_defect = dirty.then(|| {
            next_jsonl_defect += 1;
            JSONL_DEFECTS[(next_jsonl_defect - 1) % JSONL_DEFECTS.len()]
        });
        let duplicate = Some(Defect::DuplicateLineNo);
        if (csv_defect == duplicate || jsonl_defect == duplicate) && record.lines.len() < 2 {
            // A duplicate needs a second line: the order gets one in both files.
            let mut extra = record.lines[0].clone();
            extra.line_no = 2;
            record.lines.push(extra);
        }
        if let Some(left) = lines_left.as_mut() {
            record.lines.truncate(*left as usize);
            *left -= record.lines.len() as u64;
        }
        if record.lines.len() < 2 {
            // Cut to fit the line count: no room for a duplicate.
            csv_defect = csv_defect.filter(|d| *d != Defect::DuplicateLineNo);
            jsonl_defect = jsonl_defect.filter(|d| *d != Defect::DuplicateLineNo);
        }
        write_csv_order(&mut csv, &record, n, csv_defect, &mut csv_line, &mut expect_csv)?;
        json_line += 1;
        write_jsonl_order(&mut jsonl, &record, n, jsonl_defect, json_line, &mut expect_jsonl)?;
    }
    csv.finish()?;
    jsonl.finish()?;
    let generated = Generated { csv: expect_csv, jsonl: expect_jsonl };
    let manifest = dir.join("expected.json");
    let text = serde_json::to_string_pretty(&generated)
        .map_err(|e| Error::Io { path: manifest.clone(), source: std::io::Error::other(e) })?;
    std::fs::write(&manifest, text).map_err(|source| Error::Io { path: manifest, source })?;
    Ok(generated)
}

/// Whether order `n` carries a defect (deterministic in seed and n).
fn is_dirty(seed: u64, n: u64, rate: f64) -> bool {
    let mut z = seed ^ n.wrapping_mul(0xa076_1d64_78bd_642f) ^ 0xe703_7ed1_a0b4_28db;
    z = (z ^ (z >> 32)).wrapping_mul(0xd6e8_feb8_6659_fd93);
    z ^= z >> 32;
    (z % 1_000_000) < (rate.clamp(0.0, 1.0) * 1_000_000.0) as u64
}

fn money(cents: i64) -> String {
    format!("{}{}.{:02}", if cents < 0 { "-" } else { "" }, cents.abs() / 100, cents.abs() % 100)
}

fn percent(bp: i32) -> String {
    if bp % 100 == 0 { (bp / 100).to_string() } else { format!("{}.{:02}", bp / 100, bp % 100) }
}

/// RFC 3339 in one of five offsets, so ingest has to convert to UTC.
fn timestamp(t: NaiveDateTime, n: usize) -> String {
    let offset = FixedOffset::east_opt(((n % 5) as i32 - 2) * 3_600)
        .expect("offsets within two hours are valid");
    t.and_utc().with_timezone(&offset).format("%Y-%m-%dT%H:%M:%S%.6f%:z").to_string()
}

fn expect_order(
    expected: &mut Expected,
    first_line: u64,
    lines: &[u64],
    defect: Option<Defect>,
    order_lines: u64,
) {
    expected.records += lines.len() as u64;
    let Some(defect) = defect else {
        expected.accepted += lines.len() as u64;
        expected.orders += 1;
        expected.lines += order_lines;
        return;
    };
    expected.rejected += lines.len() as u64;
    let (hit, others) = match defect {
        Defect::OrderRowMissing => (None, Reason::MissingOrder),
        Defect::DuplicateLineNo => (lines.get(1).copied(), Reason::RejectedWithOrder),
        Defect::UnknownStatus | Defect::UnknownCurrency | Defect::PlacedAtNotADate => {
            (Some(first_line), Reason::RejectedWithOrder)
        }
        _ => (lines.last().copied(), Reason::RejectedWithOrder),
    };
    for line in lines {
        let reason = if Some(*line) == hit { defect.reason() } else { others };
        *expected.by_reason.entry(reason.as_str().to_owned()).or_default() += 1;
        expected.rejects.push((*line, reason.as_str().to_owned()));
    }
}

fn write_csv_order(
    out: &mut Out,
    record: &OrderRecord,
    n: usize,
    defect: Option<Defect>,
    line: &mut u64,
    expected: &mut Expected,
) -> Result<()> {
    let first_line = *line + 1;
    let mut lines = Vec::new();
    let last = record.lines.len() - 1;
    for (i, l) in record.lines.iter().enumerate() {
        *line += 1;
        lines.push(*line);
        let first = i == 0;
        let hit_last = i == last;
        let mut fields: Vec<Vec<u8>> = Vec::with_capacity(15);
        let text = |s: &str| s.as_bytes().to_vec();
        fields.push(text(&record.external_id));
        if first && defect != Some(Defect::OrderRowMissing) {
            let c = &record.customer;
            fields.push(text(&c.external_id));
            fields.push(text(&c.name));
            fields.push(text(c.email.as_deref().unwrap_or("")));
            fields.push(text(c.country.as_deref().unwrap_or("")));
            fields.push(text(if defect == Some(Defect::UnknownStatus) {
                "lost"
            } else {
                record.status.as_str()
            }));
            fields.push(text(if defect == Some(Defect::UnknownCurrency) {
                "XXX"
            } else {
                &record.currency
            }));
            let placed = if defect == Some(Defect::PlacedAtNotADate) {
                "2026-02-30T10:00:00+00:00".to_owned()
            } else {
                timestamp(record.placed_at, n)
            };
            fields.push(placed.into_bytes());
            fields.push(timestamp(record.updated_at, n).into_bytes());
        } else {
            fields.extend(std::iter::repeat_n(Vec::new(), 8));
        }
        let line_no = if defect == Some(Defect::DuplicateLineNo) && i == 1 { 1 } else { l.line_no };
        fields.push(line_no.to_string().into_bytes());
        fields.push(match defect {
            Some(Defect::MissingSku) if hit_last => Vec::new(),
            Some(Defect::SkuTooLong) if hit_last => "S".repeat(80).into_bytes(),
            _ => text(&l.sku),
        });
        fields.push(match defect {
            Some(Defect::QuantityNotANumber) if hit_last => text("two"),
            Some(Defect::NegativeQuantity) if hit_last => format!("-{}", l.quantity).into_bytes(),
            _ => l.quantity.to_string().into_bytes(),
        });
        fields.push(money(l.unit_price_cents).into_bytes());
        fields.push(l.discount_bp.map(percent).unwrap_or_default().into_bytes());
        match defect {
            Some(Defect::NoteNotUtf8) if hit_last => fields.push(b"caf\xE9 \xFF".to_vec()),
            Some(Defect::MissingColumn) if hit_last => {}
            _ => fields.push(text(l.note.as_deref().unwrap_or(""))),
        }
        out.csv_row(&fields)?;
    }
    expect_order(expected, first_line, &lines, defect, record.lines.len() as u64);
    Ok(())
}

fn write_jsonl_order(
    out: &mut Out,
    record: &OrderRecord,
    n: usize,
    defect: Option<Defect>,
    line: u64,
    expected: &mut Expected,
) -> Result<()> {
    let last = record.lines.len() - 1;
    let lines: Vec<serde_json::Value> = record
        .lines
        .iter()
        .enumerate()
        .map(|(i, l): (usize, &LineRecord)| {
            let hit = i == last;
            let line_no =
                if defect == Some(Defect::DuplicateLineNo) && i == 1 { 1 } else { l.line_no };
            let sku = match defect {
                Some(Defect::MissingSku) if hit => serde_json::Value::Null,
                Some(Defect::SkuTooLong) if hit => "S".repeat(80).into(),
                _ => l.sku.clone().into(),
            };
            let quantity: serde_json::Value = match defect {
                Some(Defect::QuantityNotANumber) if hit => "two".into(),
                Some(Defect::NegativeQuantity) if hit => (-l.quantity).into(),
                _ => l.quantity.into(),
            };
            serde_json::json!({
                "line_no": line_no,
                "sku": sku,
                "quantity": quantity,
                "unit_price": money(l.unit_price_cents),
                "discount_pct": l.discount_bp.map(percent),
                "note": l.note,
            })
        })
        .collect();
    let c = &record.customer;
    let value = serde_json::json!({
        "order_id": record.external_id,
        "customer": {"id": c.external_id, "name": c.name, "email": c.email, "country": c.country},
        "status": if defect == Some(Defect::UnknownStatus) { "lost" } else { record.status.as_str() },
        "currency": if defect == Some(Defect::UnknownCurrency) { "XXX" } else { record.currency.as_str() },
        "placed_at": if defect == Some(Defect::PlacedAtNotADate) { "2026-02-30T10:00:00+00:00".to_owned() } else { timestamp(record.placed_at, n) },
        "updated_at": timestamp(record.updated_at, n),
        "lines": lines,
    });
    let mut bytes = value.to_string().into_bytes();
    match defect {
        Some(Defect::TruncatedJson) => bytes.truncate(bytes.len() / 2),
        Some(Defect::NoteNotUtf8) => {
            // An invalid byte inside the last line's note (or a new note).
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let at = text.rfind("\"note\":").map(|i| i + "\"note\":".len()).unwrap_or(0);
            let rest_start = text[at..].find([',', '}']).map_or(text.len(), |j| at + j);
            let mut out = text.as_bytes()[..at].to_vec();
            out.extend_from_slice(b"\"caf\xE9\"");
            out.extend_from_slice(&text.as_bytes()[rest_start..]);
            bytes = out;
        }
        _ => {}
    }
    out.line(&bytes)?;
    let lines_count = record.lines.len() as u64;
    expected.records += 1;
    match defect {
        None => {
            expected.accepted += 1;
            expected.orders += 1;
            expected.lines += lines_count;
        }
        Some(d) => {
            expected.rejected += 1;
            *expected.by_reason.entry(d.reason().as_str().to_owned()).or_default() += 1;
            expected.rejects.push((line, d.reason().as_str().to_owned()));
        }
    }
    Ok(())
}

/// A buffered output file that names itself in errors.
struct Out {
    path: PathBuf,
    file: BufWriter<File>,
}

impl Out {
    fn create(path: &Path) -> Result<Self> {
        let file =
            File::create(path).map_err(|source| Error::Io { path: path.to_owned(), source })?;
        Ok(Self { path: path.to_owned(), file: BufWriter::with_capacity(1 << 16, file) })
    }

    fn line(&mut self, bytes: &[u8]) -> Result<()> {
        self.file
            .write_all(bytes)
            .and_then(|()| self.file.write_all(b"\n"))
            .map_err(|source| Error::Io { path: self.path.clone(), source })
    }

    /// One CSV row, quoting fields that need it.
    fn csv_row(&mut self, fields: &[Vec<u8>]) -> Result<()> {
        let mut row = Vec::with_capacity(128);
        for (i, field) in fields.iter().enumerate() {
            if i > 0 {
                row.push(b',');
            }
            if field.iter().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
                row.push(b'"');
                for &b in field {
                    if b == b'"' {
                        row.push(b'"');
                    }
                    row.push(b);
                }
                row.push(b'"');
            } else {
                row.extend_from_slice(field);
            }
        }
        self.line(&row)
    }

    fn finish(mut self) -> Result<()> {
        self.file.flush().map_err(|source| Error::Io { path: self.path.clone(), source })
    }
}
