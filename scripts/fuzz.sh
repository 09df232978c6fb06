#!/usr/bin/env bash
# The fuzz targets in fuzz/ (flow contracts, input files through flows on
# the order schema, database URLs, threshold files).
#
#   bash scripts/fuzz.sh        builds the targets and replays the committed
#                               corpus: every input runs once, none may crash
#                               (CI; needs no cargo-fuzz);
#   bash scripts/fuzz.sh 300    first fuzzes each target for 300 s with
#                               cargo fuzz (installed if missing), adding
#                               the inputs that reach new code to the corpus;
#   bash scripts/fuzz.sh 300 url flows     the same for the targets named
#                               (FUZZ_LOG_DIR=dir keeps each run's log).
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(contract flows url thresholds)
[ $# -gt 1 ] && targets=("${@:2}")
if [ -n "${1:-}" ]; then
    command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
    for t in "${targets[@]}"; do
        # -s none: the targets are safe Rust; debug assertions (-a) catch overflows.
        # A dictionary of the format's keys and words, where the target has one,
        # lets the fuzzer reach the code behind a known key in a few mutations.
        dict=()
        [ -f "fuzz/dict/$t.dict" ] && dict=("-dict=$PWD/fuzz/dict/$t.dict")
        log=$(mktemp)
        cargo fuzz run "$t" -s none -a -- -max_total_time="$1" -max_len=16384 \
            -print_final_stats=1 "${dict[@]}" >"$log" 2>&1 || { tail -30 "$log"; exit 1; }
        # Coverage when the committed corpus was loaded, at the end, and the
        # execution that last found new code: a plateau is a last find early
        # in the run.
        python3 - "$t" "$log" <<'PY'
import re, sys
t, lines = sys.argv[1], open(sys.argv[2], errors="replace").read().splitlines()
cov = lambda l: int(re.search(r"cov: (\d+)", l).group(1))
execs = lambda l: int(re.match(r"#(\d+)", l).group(1))
inited = next(l for l in lines if "INITED" in l)
done = [l for l in lines if re.match(r"#\d+", l) and "cov:" in l][-1]
# "cov" counts code edges; a NEW line may only add features (hit counts of
# edges already covered), so the plateau is read off the edges alone.
grew, best = 0, cov(inited)
for l in lines:
    if re.match(r"#\d+", l) and "cov:" in l and cov(l) > best:
        grew, best = execs(l), cov(l)
new = [l for l in lines if re.match(r"#\d+\s+NEW\b", l)]
total = next(int(l.split(":")[-1]) for l in lines if l.startswith("stat::number_of_executed_units"))
last = execs(new[-1]) if new else 0
pct = lambda n: f"{100 * n / max(total, 1):.0f} %"
# Edges when half the executions had run: growth in the second half is
# the rate a plateau is judged by.
half = max([cov(l) for l in lines if re.match(r"#\d+", l) and "cov:" in l and execs(l) <= total // 2]
           or [cov(inited)])
print(f"fuzz: {t}: {total} executions, coverage {cov(inited)} at start -> {half} at half the "
      f"executions -> {cov(done)} at end; "
      f"edges last grew at execution {grew} ({pct(grew)} into the run); "
      f"last new input at execution {last} ({pct(last)})")
PY
        # FUZZ_LOG_DIR keeps libFuzzer's own log of each run.
        [ -n "${FUZZ_LOG_DIR:-}" ] && cp "$log" "$FUZZ_LOG_DIR/$t.log"
        rm -f "$log"
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
