//! A contract that does not fit the live schema is refused before any row is
//! read, with the line at fault, on every backend's catalog.

use billing::{CONTRACT, MIGRATIONS};
use triglot_pipeline::flow::Flow;

/// The contract with the last line starting `from` replaced by `to`; its
/// line number.
fn edited(from: &str, to: &str) -> (String, usize) {
    let mut lines: Vec<&str> = CONTRACT.lines().collect();
    let at = lines.iter().rposition(|l| l.starts_with(from)).expect("a line to edit");
    lines[at] = to;
    (lines.join("\n"), at + 1)
}

triglot::backend_test!(
    contracts_that_do_not_fit_the_schema_are_refused_with_their_line,
    |db| -> triglot::Result<()> {
        let schema = db.introspect()?;
        Flow::bind(CONTRACT, "billing.toml", &schema).expect("the example's contract binds");
        let cases = [
            ("[tables.sites]", "[tables.sitez]", "the database has no table \"sitez\""),
            (
                "columns.name =",
                "columns.nom = { field = \"name\" }",
                "table sites has no column \"nom\"",
            ),
            (
                "columns.region",
                "columns.region = { field = \"regio\" }",
                "source sites has no field \"regio\"",
            ),
            (
                "columns.paid",
                "columns.paid = { field = \"paid\", formats = [\"%Y\"] }",
                "`formats` is for dates and timestamps",
            ),
            ("columns.kwh", "columns.kwh = { field = \"kwh\", min = 0.5 }", "decimal in quotes"),
            (
                "columns.opened_on",
                "",
                "column sites.opened_on is NOT NULL without a default, and the contract does not fill it",
            ),
            (
                "key = [\"invoice_id\", \"item_no\"]",
                "key = [\"item_no\"]",
                "is not the primary key or a unique key",
            ),
            (
                "columns.amount",
                "columns.amount = { expr = \"kwh * price\" }",
                "reads \"price\", which is no column or input",
            ),
            (
                "columns.amount",
                "columns.amount = { expr = \"amount + 1\" }",
                "amount is computed from itself",
            ),
            (
                "columns.currency",
                "columns.currency = { value = \"EURO\" }",
                "more than the 3 column currency holds",
            ),
            (
                "columns.total",
                "columns.total = { expr = \"sum(lines.amount)\" }",
                "\"lines\" is not a child table",
            ),
            ("rounding =", "rounding = \"up\"", "unknown rounding \"up\""),
        ];
        for (from, to, expected) in cases {
            let (text, line) = edited(from, to);
            let err = Flow::bind(&text, "billing.toml", &schema)
                .expect_err(&format!("{to:?} must be refused on {}", D::NAME));
            assert!(err.message.contains(expected), "{to:?} on {}: {err}", D::NAME);
            // A line removed is reported at its table; every other at its own line.
            if !to.is_empty() {
                assert_eq!(err.line, line, "{to:?} on {}: {err}", D::NAME);
            }
            assert!(err.to_string().starts_with("contract billing.toml line "), "{err}");
        }
        Ok(())
    }
);
