//! The billing exports, written with planted defects, and what the tests
//! know of them (an independent recount in integer cents).

// Each test file uses what it needs of this module.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

/// One planted defect: the file, its line, the reason it must be refused with.
pub type Planted = (&'static str, u64, &'static str);

/// The three exports, written to a directory, with what the test knows of them.
pub struct Exports {
    _dir: tempfile::TempDir,
    pub files: BTreeMap<String, PathBuf>,
    /// Every record line of every file.
    pub lines: u64,
    /// Defects and where they are.
    pub planted: Vec<Planted>,
    /// Records refused only because their family was.
    pub with_parent: u64,
    pub regions: i64,
    pub sites: i64,
    pub invoices: i64,
    pub items: i64,
    /// Sum of item amounts (and of invoice totals), in cents.
    pub cents: i64,
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

pub fn exports() -> Exports {
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

    // Regions: WEST is missing, so sites of the west point at nothing (a
    // link the database does not enforce; the quality report finds it).
    let regions = "NORTH|North|\nSOUTH|South|\nEAST|East|\n".to_string();

    let mut files = BTreeMap::new();
    for (source, name, text) in [
        ("regions", "regions.tbl", &regions),
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
        lines: 3 + 13 + invoice_line + item_line,
        planted,
        with_parent,
        regions: 3,
        sites: 12,
        invoices: invoices_ok,
        items: items_ok,
        cents,
    }
}
