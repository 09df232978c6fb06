//! Shared set-up for triglot's benches: databases filled with order lines.

use triglot::{Database, Dialect, LineRecord, OrderRecord, OrderWriter, Result};

/// Writes `orders` orders of `lines_per_order` lines each into `db`, with
/// about 30 % NULLs in the nullable columns and text of 0 to 60 characters.
///
/// # Errors
///
/// Any write error.
pub fn fill<D: Dialect>(db: &Database<D>, orders: usize, lines_per_order: usize) -> Result<()> {
    let anchor = chrono::DateTime::from_timestamp(1_764_000_000, 0).unwrap_or_default().naive_utc();
    let writer = OrderWriter::new(db);
    let mut batch = Vec::with_capacity(1_000);
    for n in 0..orders {
        let lines: Vec<LineRecord> = (1..=lines_per_order as i32)
            .map(|line_no| {
                let k = n * lines_per_order + line_no as usize;
                LineRecord {
                    line_no,
                    sku: format!("SKU-{:05}", k % 10_000),
                    quantity: 1 + (k % 9) as i32,
                    unit_price_cents: 100 + (k % 50_000) as i64,
                    discount_bp: (k % 10 < 3).then_some(500),
                    note: (k % 10 >= 3).then(|| "n".repeat(k % 61)),
                }
            })
            .collect();
        batch.push(OrderRecord {
            customer: triglot::model::NewCustomer {
                external_id: format!("C{}", n % 1_000),
                name: "Bench Customer".into(),
                email: None,
                country: Some("DE".into()),
                created_at: anchor,
            },
            external_id: format!("O{n:08}"),
            status: triglot::model::OrderStatus::Paid,
            currency: "EUR".into(),
            total_cents: lines
                .iter()
                .map(|l| {
                    triglot::model::line_amount_cents(l.quantity, l.unit_price_cents, l.discount_bp)
                })
                .sum(),
            placed_at: anchor + chrono::TimeDelta::microseconds(n as i64 * 1_000_003),
            updated_at: anchor,
            source: "bench".into(),
            lines,
        });
        if batch.len() == 1_000 {
            writer.write_batch(&batch)?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        writer.write_batch(&batch)?;
    }
    Ok(())
}
