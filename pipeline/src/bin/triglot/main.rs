//! The `triglot` command: migrate, load and inspect an order database on
//! SQLite, MySQL/MariaDB or PostgreSQL.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// glibc's allocator costs more per allocation as a long run's heap grows
/// (merging free chunks: `malloc_consolidate`, `unlink_chunk`), so a
/// million-line ingest on SQLite took 17-18 s with it and 13.4-13.6 s with
/// mimalloc (README, "Where the scaling was lost on SQLite"). It is built
/// with `no_thp`: asking for transparent huge pages for its arenas made each
/// touched 2 MiB count whole, and peak RSS 18-31 MiB higher for no time
/// gained (README, "Peak memory and huge pages").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[macro_use]
mod cmd;

/// Order data on SQLite, MySQL/MariaDB or PostgreSQL, through one model layer.
#[derive(Debug, Parser)]
#[command(name = "triglot", version, about, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    servers: cmd::Servers,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply pending migrations (or revert them all).
    Migrate(cmd::migrate::Args),
    /// Migrate, write a deterministic set of sample orders and summarize them.
    Demo(cmd::demo::Args),
    /// Load order files into the order schema through a flow contract; every record is written or rejected.
    Ingest(cmd::ingest::Args),
    /// Load files into a database's own tables through a flow contract; every record is written or rejected.
    Load(cmd::load::Args),
    /// Write sample input (CSV and JSONL) with a known number of defects of each kind.
    Generate(cmd::generate::Args),
    /// Show applied migrations, row counts and the pool.
    Status(cmd::status::Args),
    /// The data-quality report (text, JSON or HTML); exit 1 when a check fails.
    Report(cmd::report::Args),
    /// Build the migrations on every reachable backend and compare the schemas; exit 1 on any difference.
    Check(cmd::check::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never in a log file or pipe.
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .init();
    let result = match cli.command {
        Command::Migrate(args) => cmd::migrate::run(&cli.servers, args),
        Command::Demo(args) => cmd::demo::run(&cli.servers, args),
        Command::Ingest(args) => cmd::ingest::run(&cli.servers, args),
        Command::Load(args) => cmd::load::run(&cli.servers, args),
        Command::Generate(args) => cmd::generate::run(args),
        Command::Status(args) => cmd::status::run(&cli.servers, args),
        Command::Check(args) => cmd::check::run(args),
        Command::Report(args) => cmd::report::run(&cli.servers, args),
    };
    match result {
        Ok(out) => match out.emit() {
            Ok(()) => ExitCode::from(out.code),
            Err(err) => {
                eprintln!("error: writing to standard output: {err}");
                ExitCode::from(2)
            }
        },
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(2)
        }
    }
}
