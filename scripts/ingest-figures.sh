#!/usr/bin/env bash
# Measures `triglot ingest` on every backend for 100,000 and 1,000,000
# generated lines (1 % of orders with a defect), each into a fresh database:
# records/s, and peak memory from /usr/bin/time -v. Prints a Markdown table.
# Needs the servers (bash scripts/services.sh) and takes a few minutes.
#
# Arguments: the line counts (100000 1000000 if none). Environment: BACKENDS
# (sqlite mysql postgres), TRIGLOT_BIN (another build of the program to
# measure, such as an older commit's, instead of this one's release build).
set -euo pipefail
cd "$(dirname "$0")/.."
counts=("$@")
[ ${#counts[@]} -eq 0 ] && counts=(100000 1000000)
if [ -z "${TRIGLOT_BIN:-}" ]; then
    cargo build --release --locked --features mysql,postgres >/dev/null 2>&1
fi
T=${TRIGLOT_BIN:-$PWD/target/release/triglot}
work=$(mktemp -d)
drop() {
    mariadb --protocol=tcp -h 127.0.0.1 -u root -e "DROP DATABASE IF EXISTS triglot_figures" || true
    psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS triglot_figures" || true
}
trap 'rm -rf "$work"; drop' EXIT
for lines in "${counts[@]}"; do
    "$T" generate --lines "$lines" --dirty-rate 0.01 --out "$work/$lines" >/dev/null
done

echo "| backend | lines | accepted | rejected | seconds | records/s | peak RSS |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for backend in ${BACKENDS:-sqlite mysql postgres}; do
    case $backend in
        sqlite) url="sqlite://$work/figures.db" ;;
        mysql) url=mysql://root@127.0.0.1/triglot_figures ;;
        postgres) url=postgres://postgres@127.0.0.1/triglot_figures ;;
        *) echo "ingest-figures: unknown backend $backend" >&2; exit 2 ;;
    esac
    for lines in "${counts[@]}"; do
        # A fresh database each time: nothing stored, no fingerprints.
        rm -f "$work"/figures.db*
        drop >/dev/null 2>&1
        mariadb --protocol=tcp -h 127.0.0.1 -u root -e "CREATE DATABASE triglot_figures CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
        psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE triglot_figures"
        /usr/bin/time -v "$T" --database-url "$url" ingest --quiet --json "$work/$lines/orders.csv" >"$work/run.json" 2>"$work/run.time"
        python3 - "$lines" "$work/run.json" "$work/run.time" "$work/$lines/expected.json" <<'PY'
import json, re, sys
lines, summary, timing, manifest = sys.argv[1:]
s = json.load(open(summary))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(timing).read()).group(1))
expected = json.load(open(manifest))["csv"]
# This build's summary has counts.*; builds before the flow engine, records_*.
c = s.get("counts") or {"read": s["records_read"], "accepted": s["records_accepted"], "rejected": s["records_rejected"]}
assert (c["read"], c["accepted"], c["rejected"]) == (expected["records"], expected["accepted"], expected["rejected"]), "does not reconcile"
print(f"| {s['backend']} | {int(lines):,} | {c['accepted']:,} | {c['rejected']:,} | {s['elapsed']:.1f} | {c['read'] / s['elapsed']:,.0f} | {rss / 1024:.1f} MiB |")
PY
    done
done
