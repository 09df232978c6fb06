//! One module per subcommand, plus the number formatting they share.

/// Appends a formatted line to an [`Out`].
macro_rules! outln {
    ($out:expr) => {
        $out.line("")
    };
    ($out:expr, $($arg:tt)*) => {
        $out.line(format_args!($($arg)*))
    };
}

pub(crate) mod check;
pub(crate) mod demo;
pub(crate) mod flow_run;
pub(crate) mod generate;
pub(crate) mod ingest;
pub(crate) mod load;
pub(crate) mod migrate;
pub(crate) mod report;
pub(crate) mod status;

/// The servers of the database a command works on: one URL, or a cluster.
#[derive(Debug, clap::Args)]
pub(crate) struct Servers {
    /// Database URL: sqlite://PATH, sqlite::memory:, mysql://USER@HOST/DB or
    /// postgres://USER@HOST/DB; on a cluster, the primary (or first Galera node).
    #[arg(
        long = "database-url",
        global = true,
        env = "DATABASE_URL",
        hide_env_values = true,
        default_value = "sqlite://triglot.db"
    )]
    pub(crate) url: String,
    /// Another Galera node that takes writes (repeatable): writes move to
    /// the next node when one fails, reads go to each in turn.
    #[arg(long = "node", global = true, value_name = "URL")]
    pub(crate) nodes: Vec<String>,
    /// A PostgreSQL read replica (repeatable): reads go to a replica that
    /// has every write committed before them, else to the primary.
    #[arg(long = "replica", global = true, value_name = "URL")]
    pub(crate) replicas: Vec<String>,
    /// Cut the connection of a statement that has had no answer for this
    /// many seconds, so it fails as a lost connection and is retried
    /// (MySQL and PostgreSQL, whose client libraries would wait for ever).
    #[arg(long, global = true, value_name = "SECS", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub(crate) stuck_after: u64,
}

impl Servers {
    /// Opens the database on the backend the URL's scheme names.
    pub(crate) fn open(&self) -> triglot::Result<triglot::AnyDatabase> {
        let mut topology = triglot::Topology::primary(&self.url);
        topology.writers.extend(self.nodes.iter().cloned());
        topology.replicas.extend(self.replicas.iter().cloned());
        let config = triglot::PoolConfig {
            stuck_statement: Some(std::time::Duration::from_secs(self.stuck_after)),
            ..triglot::PoolConfig::default()
        };
        triglot::AnyDatabase::open_cluster(&topology, config, triglot::ReadPolicy::default())
    }
}

/// What a command prints on standard output, collected first and written at
/// the end, so a closed pipe (`triglot status | head -1`) ends the program
/// quietly instead of panicking in `println!`.
#[derive(Debug, Default)]
pub(crate) struct Out {
    text: String,
    /// The exit code the command asks for.
    pub(crate) code: u8,
}

impl Out {
    /// Appends one line.
    pub(crate) fn line(&mut self, text: impl std::fmt::Display) {
        use std::fmt::Write;
        // Writing into a String cannot fail.
        let _ = writeln!(self.text, "{text}");
    }

    /// Appends text as it is.
    pub(crate) fn text(&mut self, text: &str) {
        self.text.push_str(text);
    }

    /// Writes everything to standard output; a closed pipe is not an error.
    pub(crate) fn emit(&self) -> std::io::Result<()> {
        use std::io::Write;
        let mut stdout = std::io::stdout().lock();
        match stdout.write_all(self.text.as_bytes()).and_then(|()| stdout.flush()) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => other,
        }
    }
}

/// A progress bar of bytes read on standard error; hidden when `quiet` or
/// when standard error is not a terminal.
fn progress_bar(quiet: bool) -> indicatif::ProgressBar {
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    use std::io::IsTerminal;

    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes}  {msg}  eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}

/// A progress bar (see [`progress_bar`]) and the moment its run started.
pub(crate) struct Progress {
    bar: indicatif::ProgressBar,
    started: std::time::Instant,
}

impl Progress {
    /// Starts showing a run's progress, unless `quiet`.
    pub(crate) fn start(quiet: bool) -> Self {
        Self { bar: progress_bar(quiet), started: std::time::Instant::now() }
    }

    /// Shows `bytes` of `total` read and `records` decided, with the rate.
    pub(crate) fn show(&self, bytes: u64, total: u64, records: u64) {
        self.bar.set_length(total);
        self.bar.set_position(bytes);
        let rate = records as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
        self.bar.set_message(format!(
            "{} records  {} records/s",
            thousands(records as i64),
            thousands(rate as i64)
        ));
    }

    /// Clears the bar.
    pub(crate) fn finish(self) {
        self.bar.finish_and_clear();
    }
}

/// `1234567` → `"1,234,567"`.
pub(crate) fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The lines `rejects by reason:` and one per reason, most first (none
/// when nothing was rejected).
pub(crate) fn rejects_by_reason(
    out: &mut Out,
    by_reason: &std::collections::BTreeMap<String, u64>,
) {
    if by_reason.is_empty() {
        return;
    }
    outln!(out, "rejects by reason:");
    let mut reasons: Vec<(&String, &u64)> = by_reason.iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (reason, count) in reasons {
        outln!(out, "  {reason:<26} {:>10}", thousands(*count as i64));
    }
}

/// Integer cents as `"1,234.05"`.
pub(crate) fn money(cents: i64) -> String {
    format!("{}.{:02}", thousands(cents / 100), (cents % 100).abs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_thousands_and_money() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(-1_000), "-1,000");
        assert_eq!(money(123_405), "1,234.05");
    }
}
