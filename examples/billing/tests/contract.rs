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

triglot::backend_test!(
    a_key_column_whose_collation_folds_case_is_refused_with_its_line,
    |db| -> Result<(), Box<dyn std::error::Error>> {
        use diesel::connection::SimpleConnection;

        // A table of the team's own whose key compares without case, and
        // one line of a contract keying a table by it.
        let ddl = match D::KEY {
            "sqlite" => {
                "CREATE TABLE tags (code TEXT COLLATE NOCASE NOT NULL PRIMARY KEY, \
                         label TEXT NOT NULL)"
            }
            "mysql" => {
                "CREATE TABLE tags (code VARCHAR(8) COLLATE utf8mb4_general_ci NOT NULL \
                        PRIMARY KEY, label VARCHAR(20) NOT NULL)"
            }
            _ => {
                "CREATE COLLATION folding (provider = icu, locale = 'und-u-ks-level2', \
                  deterministic = false); \
                  CREATE TABLE tags (code VARCHAR(8) COLLATE folding NOT NULL PRIMARY KEY, \
                  label VARCHAR(20) NOT NULL)"
            }
        };
        db.get()?.batch_execute(ddl)?;
        let schema = db.introspect()?;
        let code = schema.tables["tags"].column("code").expect("tags.code");
        assert!(code.folding_collation.is_some(), "on {}: {code:?}", D::NAME);
        let exact = schema.tables["regions"].column("code").expect("regions.code");
        assert_eq!(exact.folding_collation, None, "on {}", D::NAME);

        let contract = "name = \"tags\"\n\
                        [sources.tags]\nformat = \"csv\"\nheader = false\nfields = [\"code\", \"label\"]\n\
                        [tables.tags]\nsource = \"tags\"\nkey = [\"code\"]\n\
                        columns.code = { field = \"code\" }\ncolumns.label = { field = \"label\" }\n";
        let err = Flow::bind(contract, "tags.toml", &schema).expect_err("a folding key is refused");
        assert_eq!(err.line, 8, "on {}: {err}", D::NAME);
        assert!(err.message.contains("key column tags.code compares by the collation"), "{err}");

        // A lookup by it is refused the same way, at the lookup's line.
        let (text, line) = edited(
            "columns.region",
            "columns.region = { field = \"region\", lookup = \"tags.code\" }",
        );
        let err = Flow::bind(&text, "billing.toml", &schema).expect_err("a folding lookup key");
        assert_eq!(err.line, line, "on {}: {err}", D::NAME);
        assert!(err.message.contains("tags.code compares by the collation"), "{err}");
        Ok(())
    }
);
