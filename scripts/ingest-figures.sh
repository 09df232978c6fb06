#!/usr/bin/env bash
# Measures `triglot ingest` on every backend for 100,000 and 1,000,000
# generated lines (1 % of orders with a defect): records/s, and peak memory
# from /usr/bin/time -v. Prints a Markdown table. Needs the servers
# (bash scripts/services.sh) and takes a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --features mysql,postgres >/dev/null 2>&1
T=$PWD/target/release/triglot
work=$(mktemp -d)
trap 'rm -rf "$work"; mariadb --protocol=tcp -h 127.0.0.1 -u root -e "DROP DATABASE IF EXISTS triglot_figures" || true; psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS triglot_figures" || true' EXIT
mariadb --protocol=tcp -h 127.0.0.1 -u root -e "DROP DATABASE IF EXISTS triglot_figures; CREATE DATABASE triglot_figures CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS triglot_figures" -c "CREATE DATABASE triglot_figures"
for lines in 100000 1000000; do
    "$T" generate --lines "$lines" --dirty-rate 0.01 --out "$work/$lines" >/dev/null
done

echo "| backend | lines | accepted | rejected | seconds | records/s | peak RSS |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for url in "sqlite://$work/figures.db" mysql://root@127.0.0.1/triglot_figures postgres://postgres@127.0.0.1/triglot_figures; do
    for lines in 100000 1000000; do
        rm -f "$work"/figures.db*
        "$T" --database-url "$url" migrate --revert-all >/dev/null 2>&1 || true
        /usr/bin/time -v "$T" --database-url "$url" ingest --quiet --json "$work/$lines/orders.csv" >"$work/run.json" 2>"$work/run.time"
        python3 - "$url" "$lines" "$work/run.json" "$work/run.time" <<'PY'
import json, re, sys
url, lines, summary, timing = sys.argv[1:]
s = json.load(open(summary))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(timing).read()).group(1))
expected = json.load(open(summary.replace("run.json", f"{lines}/expected.json")))["csv"]
assert (s["records_read"], s["records_accepted"], s["records_rejected"]) == (expected["records"], expected["accepted"], expected["rejected"]), "does not reconcile"
print(f"| {s['backend']} | {int(lines):,} | {s['records_accepted']:,} | {s['records_rejected']:,} | {s['elapsed']:.1f} | {s['records_read'] / s['elapsed']:,.0f} | {rss / 1024:.1f} MiB |")
PY
    done
done
