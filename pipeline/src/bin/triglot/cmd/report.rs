//! `triglot report`: the data-quality report, as text, JSON or HTML.

use std::io::IsTerminal;
use std::path::PathBuf;

use chrono::{NaiveDate, NaiveDateTime, TimeDelta, Utc};
use triglot::ReadRoute;
use triglot_pipeline::contract::{ORDERS_FLOW, ORDERS_QUALITY};
use triglot_pipeline::flow::{
    Flow, FlowBackend, QualityConfig, QualityOptions, QualityReport, quality_html, quality_report,
    quality_text,
};
use triglot_pipeline::report::{Check, Status, Thresholds, day_window};
use triglot_pipeline::{Error, Result};

use super::Out;
use super::flow_run::read_contract;

/// Options of `triglot report`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The UTC day to report on: YYYY-MM-DD, `today` or `yesterday` (the default).
    #[arg(long, conflicts_with_all = ["since", "until"])]
    day: Option<String>,
    /// Start of the window (UTC): YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS.
    #[arg(long, requires = "until")]
    since: Option<String>,
    /// End of the window, exclusive (UTC).
    #[arg(long, requires = "since")]
    until: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write the report to this file instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
    /// The flow contract whose ranges and allowed values the data must
    /// respect (default: the built-in order CSV contract, unless
    /// `--quality` or `--any-schema` is given).
    #[arg(long)]
    contract: Option<PathBuf>,
    /// Thresholds over the quality file's (TOML: `[thresholds."<check>"]
    /// warn_above = …`).
    #[arg(long)]
    thresholds: Option<PathBuf>,
    /// The checks beyond those the live catalog gives: logical foreign
    /// keys, watched date columns, custom checks and thresholds (default:
    /// the order schema's, `pipeline/contracts/orders-quality.toml`).
    #[arg(long, value_name = "FILE")]
    quality: Option<PathBuf>,
    /// Report from the live catalog alone (as `--quality` with an empty
    /// file, and no contract unless `--contract` is given).
    #[arg(long, conflicts_with = "quality")]
    any_schema: bool,
    /// Read from the primary even when `--replica` servers are given (by
    /// default a report reads from a replica that has every write committed
    /// before it began, else from the primary).
    #[arg(long)]
    primary: bool,
    /// The least status that fails the command (exit code 1).
    #[arg(long, value_enum, default_value_t = FailOn::Fail)]
    fail_on: FailOn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
    Html,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FailOn {
    Warn,
    Fail,
}

pub(crate) fn run(servers: &super::Servers, args: Args) -> Result<Out> {
    let now = Utc::now().naive_utc();
    let (since, until) = window(&args, now)?;
    let (since, until) = days(since, until);
    // The order schema's checks unless a file (or none) is named.
    let orders = args.quality.is_none() && !args.any_schema;
    let mut config = match &args.quality {
        Some(path) => QualityConfig::load(path)?,
        None if orders => QualityConfig::from_toml(ORDERS_QUALITY, "builtin:orders-quality.toml")?,
        None => QualityConfig::default(),
    };
    if let Some(path) = &args.thresholds {
        config.thresholds = std::mem::take(&mut config.thresholds).overlay(Thresholds::load(path)?);
    }
    let contract = match &args.contract {
        Some(path) => Some(read_contract(path)?),
        None if orders => Some((ORDERS_FLOW.to_owned(), "builtin:orders-flow.toml".to_owned())),
        None => None,
    };
    if let Some((text, origin)) = &contract {
        Flow::check(text, origin)?;
    }
    let contract = contract.as_ref().map(|(text, origin)| (text.as_str(), origin.as_str()));
    let options = (config, since, until, now);
    let route = if args.primary { ReadRoute::Primary } else { ReadRoute::ReadYourWrites };
    let report = triglot::dispatch!(servers.open()?, |db| {
        quality(&db.reads(route), contract, options.clone())
    })?;
    let fail_on = match args.fail_on {
        FailOn::Warn => Status::Warn,
        FailOn::Fail => Status::Fail,
    };
    emit(&report, args.format, args.out.as_ref(), fail_on)
}

/// Days from `since` to the day `until` falls in (or before, at midnight).
fn days(since: NaiveDateTime, until: NaiveDateTime) -> (NaiveDate, NaiveDate) {
    let end = if until.time() == chrono::NaiveTime::MIN {
        until.date()
    } else {
        until.date().succ_opt().unwrap_or(NaiveDate::MAX)
    };
    (since.date(), end)
}

fn quality<D: FlowBackend>(
    db: &triglot::Database<D>,
    contract: Option<(&str, &str)>,
    (config, since, until, now): (QualityConfig, NaiveDate, NaiveDate, NaiveDateTime),
) -> Result<QualityReport> {
    let flow = match contract {
        Some((text, origin)) => Some(Flow::bind(text, origin, &db.introspect()?)?),
        None => None,
    };
    quality_report(db, &QualityOptions { since, until, now, config, flow })
}

/// Renders `report` to the output or a file, with the exit code for `fail_on`.
pub(crate) fn emit(
    report: &QualityReport,
    format: Format,
    out_file: Option<&PathBuf>,
    fail_on: Status,
) -> Result<Out> {
    let colour = out_file.is_none()
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none();
    let rendered = match format {
        Format::Text => quality_text(report, colour),
        // A plain struct of numbers and strings: serializing cannot fail.
        Format::Json => serde_json::to_string_pretty(report).unwrap_or_default() + "\n",
        Format::Html => quality_html(report),
    };
    write_out(&rendered, out_file, report.status, &report.checks, fail_on)
}

/// Writes a rendered report to the output or a file; exit code 1 when its
/// status reaches `fail_on`.
fn write_out(
    rendered: &str,
    out_file: Option<&PathBuf>,
    status: Status,
    checks: &[Check],
    fail_on: Status,
) -> Result<Out> {
    let mut out = Out::default();
    match out_file {
        Some(path) => {
            std::fs::write(path, rendered)
                .map_err(|source| Error::Io { path: path.clone(), source })?;
            let failing = checks.iter().filter(|c| c.status == Status::Fail).count();
            let warning = checks.iter().filter(|c| c.status == Status::Warn).count();
            outln!(
                out,
                "report written to {}: {} ({failing} failing, {warning} warning of {} checks)",
                path.display(),
                status.as_str(),
                checks.len()
            );
        }
        None => out.text(rendered),
    }
    out.code = u8::from(status >= fail_on);
    Ok(out)
}

fn window(args: &Args, now: NaiveDateTime) -> Result<(NaiveDateTime, NaiveDateTime)> {
    if let (Some(since), Some(until)) = (&args.since, &args.until) {
        let (since_at, until_at) = (instant(since, "--since")?, instant(until, "--until")?);
        storable(since_at.date(), "--since", since)?;
        storable(until_at.date(), "--until", until)?;
        return Ok((since_at, until_at));
    }
    let today = now.date();
    let day = match args.day.as_deref() {
        None | Some("yesterday") => today - TimeDelta::days(1),
        Some("today") => today,
        Some(text) => storable(
            NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| bad("--day", text))?,
            "--day",
            text,
        )?,
    };
    Ok(day_window(day))
}

/// `day` if every backend stores it: years 1000 to 9999 (MySQL's
/// `DATETIME`), whatever chrono can parse.
fn storable(day: NaiveDate, option: &str, text: &str) -> Result<NaiveDate> {
    if (1000..=9999).contains(&chrono::Datelike::year(&day)) {
        return Ok(day);
    }
    Err(Error::Input {
        path: PathBuf::from(option),
        line: None,
        message: format!("{text:?} is outside the years 1000 to 9999 that every backend stores"),
    })
}

fn instant(text: &str, option: &str) -> Result<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S"))
        .or_else(|_| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default())
        })
        .map_err(|_| bad(option, text))
}

fn bad(option: &str, text: &str) -> Error {
    Error::Input {
        path: PathBuf::from(option),
        line: None,
        message: format!("{text:?} is not a date (YYYY-MM-DD) or UTC time (YYYY-MM-DDTHH:MM:SS)"),
    }
}
