//! Fixtures shared by the integration tests.

#![allow(dead_code)]

use chrono::{NaiveDate, NaiveDateTime};
use triglot::model::{NewCustomer, OrderStatus};
use triglot::{LineRecord, OrderRecord};

/// A UTC timestamp with microseconds.
pub(crate) fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, micros: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(y, mo, d)
        .and_then(|date| date.and_hms_micro_opt(h, mi, s, micros))
        .expect("valid timestamp")
}

/// A customer with every column set.
pub(crate) fn customer(key: &str) -> NewCustomer {
    NewCustomer {
        external_id: key.to_owned(),
        name: format!("Customer {key}"),
        email: Some(format!("{key}@example.com")),
        country: Some("DE".into()),
        created_at: at(2026, 1, 2, 3, 4, 5, 678_901),
    }
}

/// An order of `lines` lines, its total the sum of their amounts.
pub(crate) fn order(key: &str, customer_key: &str, lines: i32) -> OrderRecord {
    let lines: Vec<LineRecord> = (1..=lines)
        .map(|n| LineRecord {
            line_no: n,
            sku: format!("SKU-{n}"),
            quantity: n,
            unit_price_cents: 250 * i64::from(n),
            discount_bp: (n % 2 == 0).then_some(1_000),
            note: (n == 1).then(|| "first line".to_owned()),
        })
        .collect();
    OrderRecord {
        customer: customer(customer_key),
        external_id: key.to_owned(),
        status: OrderStatus::Paid,
        currency: "EUR".into(),
        total_cents: lines
            .iter()
            .map(|l| {
                triglot::model::line_amount_cents(l.quantity, l.unit_price_cents, l.discount_bp)
            })
            .sum(),
        placed_at: at(2026, 11, 20, 10, 30, 0, 123_456),
        updated_at: at(2026, 11, 20, 11, 0, 0, 1),
        source: "tests".into(),
        lines,
    }
}
