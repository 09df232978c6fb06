#!/usr/bin/env bash
# The order CSV of `triglot generate --lines 100000 --dirty-rate 0.01`
# through the order engine (`triglot ingest`) and through the order schema's
# flow contract (`triglot load --contract pipeline/contracts/orders-flow.toml`),
# one after the other on each backend: seconds, records/s and peak memory.
# Prints a Markdown table. Needs the servers (bash scripts/services.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked --features mysql,postgres >/dev/null 2>&1
T=$PWD/target/release/triglot
work=$(mktemp -d)
drop() {
    mariadb --protocol=tcp -h 127.0.0.1 -u root -e "DROP DATABASE IF EXISTS triglot_flow_figures" || true
    psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS triglot_flow_figures" || true
}
trap 'rm -rf "$work"; drop' EXIT
"$T" generate --lines 100000 --dirty-rate 0.01 --out "$work" >/dev/null

echo "| backend | engine | records | rejected | seconds | records/s | peak RSS |"
echo "|---|---|---:|---:|---:|---:|---:|"
for url in "sqlite://$work/figures.db" mysql://root@127.0.0.1/triglot_flow_figures postgres://postgres@127.0.0.1/triglot_flow_figures; do
    for engine in ingest load; do
        rm -f "$work"/figures.db*
        drop >/dev/null 2>&1
        mariadb --protocol=tcp -h 127.0.0.1 -u root -e "CREATE DATABASE triglot_flow_figures CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
        psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE triglot_flow_figures"
        "$T" --database-url "$url" migrate >/dev/null
        if [ "$engine" = ingest ]; then
            args=(ingest --quiet --json "$work/orders.csv")
        else
            args=(load --json --contract pipeline/contracts/orders-flow.toml --source "rows=$work/orders.csv")
        fi
        /usr/bin/time -v "$T" --database-url "$url" "${args[@]}" >"$work/run.json" 2>"$work/run.time"
        python3 - "$engine" "$work/run.json" "$work/run.time" <<'PY'
import json, re, sys
engine, summary, timing = sys.argv[1:]
s = json.load(open(summary))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(timing).read()).group(1))
read, rejected = (s["records_read"], s["records_rejected"]) if engine == "ingest" else (s["counts"]["read"], s["counts"]["rejected"])
assert read == 100000, read
print(f"| {s['backend']} | {engine} | {read:,} | {rejected:,} | {s['elapsed']:.2f} | {read / s['elapsed']:,.0f} | {rss / 1024:.1f} MiB |")
PY
    done
done
