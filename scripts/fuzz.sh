#!/usr/bin/env bash
# The fuzz targets in fuzz/ (contract files, sources with assembly, database
# URLs, threshold files).
#
#   bash scripts/fuzz.sh        builds the targets and replays the committed
#                               corpus: every input runs once, none may crash
#                               (CI; needs no cargo-fuzz);
#   bash scripts/fuzz.sh 300    first fuzzes each target for 300 s with
#                               cargo fuzz (installed if missing), adding
#                               the inputs that reach new code to the corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(contract sources url thresholds)
if [ -n "${1:-}" ]; then
    command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
    for t in "${targets[@]}"; do
        # -s none: the targets are safe Rust; debug assertions (-a) catch overflows.
        cargo fuzz run "$t" -s none -a -- -max_total_time="$1" -max_len=16384 \
            -print_final_stats=1 2>&1 | grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)|cov:' | tail -3
        cargo fuzz cmin "$t" -s none -a >/dev/null 2>&1
    done
fi
cargo build --locked --manifest-path fuzz/Cargo.toml
for t in "${targets[@]}"; do
    n=$(find "fuzz/corpus/$t" -type f | wc -l)
    # Given files (not a directory), libFuzzer runs each once and stops.
    find "fuzz/corpus/$t" -type f -print0 | xargs -0 -n 500 "fuzz/target/debug/$t" >/dev/null 2>&1 ||
        { echo "fuzz: a $t input crashes; rerun: fuzz/target/debug/$t <file>"; exit 1; }
    echo "fuzz: $t replayed $n inputs"
done
