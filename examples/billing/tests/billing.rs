//! The billing exports through the contract on every backend: what loads
//! equals a recount done here, independently, in integer cents; every
//! planted defect is refused with its reason and line; a second run changes
//! nothing.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use billing::{CONTRACT, MIGRATIONS};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Nullable, Text};
use triglot::values::Statement;
use triglot_pipeline::flow::{Flow, FlowOptions, run_flow};

/// One planted defect: the file, its line, the reason it must be refused with.
type Planted = (&'static str, u64, &'static str);

/// The three exports, written to a directory, with what the test knows of them.
struct Exports {
    _dir: tempfile::TempDir,
    files: BTreeMap<String, PathBuf>,
    /// Every record line of every file.
    lines: u64,
    /// Defects and where they are.
    planted: Vec<Planted>,
    /// Records refused only because their family was.
    with_parent: u64,
    sites: i64,
    invoices: i64,
    items: i64,
    /// Sum of item amounts (and of invoice totals), in cents.
    cents: i64,
}

/// Half-even rounding of `num / den` (both positive) to an integer.
fn half_even(num: i128, den: i128) -> i128 {
    let (q, r) = (num / den, num % den);
    match (2 * r).cmp(&den) {
        std::cmp::Ordering::Less => q,
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Equal => q + (q % 2),
    }
}

fn exports() -> Exports {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut planted = Vec::new();
    let mut with_parent = 0;

    // Sites 1..=13; site 13 is in no allowed region (and nothing refers to it).
    let mut sites = String::new();
    for n in 1..=13u64 {
        let region =
            if n == 13 { "central" } else { ["north", "South", "EAST", "west"][n as usize % 4] };
        writeln!(sites, "{n}|Site {n}|{region}|2020-01-{n:02}|").unwrap();
    }
    planted.push(("sites.tbl", 13, "unknown_value"));

    let mut invoices = String::new();
    let mut items = String::new();
    let (mut invoice_line, mut item_line) = (0u64, 0u64);
    let (mut invoices_ok, mut items_ok, mut cents) = (0i64, 0i64, 0i64);
    for i in 1..=240u64 {
        let count = 1 + i % 4;
        let mut total = 0i128;
        let mut item_rows = Vec::new();
        for item in 1..=count {
            let kwh = (i * 37 + item * 11) % 5_000 * 1_000 + (i * item) % 1_000; // thousandths
            let rate = 15_000 + (i * 97 + item * 13) % 20_000; // hundred-thousandths
            let discount = if (i + item) % 5 == 0 { 5 } else { 0 }; // hundredths
            // kwh/10^3 × rate/10^5 × (100 − discount)/100, in cents.
            total += half_even(i128::from(kwh * rate * (100 - discount)), 100_000_000);
            let kwh_text = format!("{}.{:03}", kwh / 1_000, kwh % 1_000);
            let kwh_text = if i == 23 && item == 2 { "12,5".to_string() } else { kwh_text };
            let discount_text =
                if discount == 0 { String::new() } else { format!("0.{discount:02}") };
            item_rows.push(format!("{i}|{item}|{kwh_text}|0.{rate:05}|{discount_text}|"));
        }
        if i == 70 {
            item_rows[0].push_str("extra|");
        }
        let declared = if i == 45 { total + 1 } else { total };
        let site = if i == 31 { 99 } else { 1 + i * 7 % 12 };
        let issued = match i {
            17 => "1996-13-45".to_string(),
            _ if i % 3 == 0 => format!("{:02}.{:02}.2026", 1 + i % 28, 1 + i % 12),
            _ => format!("2026-{:02}-{:02}", 1 + i % 12, 1 + i % 28),
        };
        let paid = if i % 2 == 0 { "Y" } else { "n" };
        let row = format!("{i}|{site}|{issued}|{paid}|{}.{:02}|", declared / 100, declared % 100);
        invoice_line += 1;
        writeln!(invoices, "{row}").unwrap();
        let parent_line = invoice_line;
        if i == 60 {
            // The same invoice again, right after itself.
            invoice_line += 1;
            writeln!(invoices, "{row}").unwrap();
            planted.push(("invoices.tbl", invoice_line, "duplicate_key"));
        }
        let first_item = item_line + 1;
        for row in &item_rows {
            item_line += 1;
            writeln!(items, "{row}").unwrap();
        }
        let family = 1 + item_rows.len() as u64;
        match i {
            17 => planted.push(("invoices.tbl", parent_line, "invalid_date")),
            23 => planted.push(("items.tbl", first_item + 1, "invalid_decimal")),
            31 => planted.push(("invoices.tbl", parent_line, "foreign_key_violation")),
            45 => planted.push(("invoices.tbl", parent_line, "total_mismatch")),
            70 => planted.push(("items.tbl", first_item, "wrong_column_count")),
            _ => {
                invoices_ok += 1;
                items_ok += item_rows.len() as i64;
                cents += i64::try_from(total).unwrap();
                continue;
            }
        }
        with_parent += family - 1;
    }
    // Items of an invoice that is in no export, after all others (numeric order).
    for item in 1..=2 {
        item_line += 1;
        writeln!(items, "1000|{item}|1.000|0.20000||").unwrap();
        planted.push(("items.tbl", item_line, "missing_parent"));
    }

    let mut files = BTreeMap::new();
    for (source, name, text) in [
        ("sites", "sites.tbl", &sites),
        ("invoices", "invoices.tbl", &invoices),
        ("items", "items.tbl", &items),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        files.insert(source.to_string(), path);
    }
    Exports {
        _dir: dir,
        files,
        lines: 13 + invoice_line + item_line,
        planted,
        with_parent,
        sites: 12,
        invoices: invoices_ok,
        items: items_ok,
        cents,
    }
}

#[derive(QueryableByName, Debug)]
struct Count {
    #[diesel(sql_type = Nullable<BigInt>)]
    n: Option<i64>,
}

#[derive(QueryableByName, Debug)]
struct RejectRow {
    #[diesel(sql_type = Text)]
    source: String,
    #[diesel(sql_type = BigInt)]
    line: i64,
    #[diesel(sql_type = Text)]
    reason: String,
}

fn file_name(path: &str) -> String {
    Path::new(path).file_name().unwrap().to_string_lossy().into_owned()
}

triglot::backend_test!(
    billing_exports_load_exactly_and_every_defect_is_refused_with_its_line,
    |db| -> Result<(), Box<dyn std::error::Error>> {
        let exports = exports();
        let flow = Flow::bind(CONTRACT, "billing.toml", &db.introspect()?)?;
        let summary = run_flow(db, &flow, &exports.files, &FlowOptions::default())?;
        let counts = summary.counts;
        assert_eq!(counts.read, exports.lines, "on {}", D::NAME);
        assert_eq!(counts.read, counts.accepted + counts.rejected);
        assert_eq!(
            counts.rejected,
            exports.planted.len() as u64 + exports.with_parent,
            "{summary:?}"
        );

        let count = |sql: &str| -> triglot::Result<i64> {
            let rows: Vec<Count> =
                db.run("counting", |conn| diesel::RunQueryDsl::load(Statement::new(sql), conn))?;
            Ok(rows[0].n.unwrap_or(0))
        };
        assert_eq!(count("SELECT COUNT(*) AS n FROM sites")?, exports.sites);
        assert_eq!(count("SELECT COUNT(*) AS n FROM invoices")?, exports.invoices);
        assert_eq!(count("SELECT COUNT(*) AS n FROM invoice_items")?, exports.items);
        let cents = |column: &str, table: &str| {
            count(&format!(
                "SELECT CAST(ROUND(SUM({column}) * 100) AS {}) AS n FROM {table}",
                D::BIGINT_CAST
            ))
        };
        assert_eq!(cents("amount", "invoice_items")?, exports.cents, "on {}", D::NAME);
        assert_eq!(cents("total", "invoices")?, exports.cents, "on {}", D::NAME);

        let rejects: Vec<RejectRow> = db.run("reading rejects", |conn| {
            diesel::RunQueryDsl::load(
                Statement::new(
                    "SELECT source, line, reason FROM triglot_rejects \
                     WHERE reason <> 'rejected_with_parent' ORDER BY source, line",
                ),
                conn,
            )
        })?;
        let mut found: Vec<(String, u64, String)> =
            rejects.into_iter().map(|r| (file_name(&r.source), r.line as u64, r.reason)).collect();
        found.sort();
        let mut planted: Vec<(String, u64, String)> =
            exports.planted.iter().map(|(f, l, r)| (f.to_string(), *l, r.to_string())).collect();
        planted.sort();
        assert_eq!(found, planted, "on {}", D::NAME);

        // Again: every family found unchanged, nothing written.
        let again = run_flow(db, &flow, &exports.files, &FlowOptions::default())?;
        assert_eq!(again.counts.read, exports.lines);
        assert_eq!(again.counts.unchanged, counts.accepted, "on {}", D::NAME);
        let rewritten = count(&format!(
            "SELECT COUNT(*) AS n FROM triglot_fingerprints WHERE run_id <> {}",
            summary.run_id
        ))?;
        assert_eq!(rewritten, 0, "on {}", D::NAME);
        assert_eq!(count("SELECT COUNT(*) AS n FROM invoice_items")?, exports.items);
        assert_eq!(cents("amount", "invoice_items")?, exports.cents);
        Ok(())
    }
);
