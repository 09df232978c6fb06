#!/usr/bin/env bash
# The order CSV of `triglot generate --lines N --dirty-rate 0.01` (N: the
# first argument, 100000 if none; the others name the backends, all three
# if none: sqlite mysql postgres)
# through the order engine (`triglot ingest`) and through the order schema's
# flow contract (`triglot load --contract pipeline/contracts/orders-flow.toml`),
# one after the other on each backend: seconds, records/s and peak memory.
# Prints a Markdown table. Needs the servers (bash scripts/services.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-100000}
backends=("${@:2}")
[ ${#backends[@]} -eq 0 ] && backends=(sqlite mysql postgres)
cargo build --release --locked --features mysql,postgres >/dev/null 2>&1
T=$PWD/target/release/triglot
work=$(mktemp -d)
drop() {
    mariadb --protocol=tcp -h 127.0.0.1 -u root -e "DROP DATABASE IF EXISTS triglot_flow_figures" || true
    psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS triglot_flow_figures" || true
}
trap 'rm -rf "$work"; drop' EXIT
"$T" generate --lines "$lines" --dirty-rate 0.01 --out "$work" >/dev/null

echo "| backend | engine | records | rejected | seconds | records/s | peak RSS |"
echo "|---|---|---:|---:|---:|---:|---:|"
for backend in "${backends[@]}"; do
    case $backend in
        sqlite) url="sqlite://$work/figures.db" ;;
        mysql) url=mysql://root@127.0.0.1/triglot_flow_figures ;;
        postgres) url=postgres://postgres@127.0.0.1/triglot_flow_figures ;;
        *) echo "flow-figures: unknown backend $backend" >&2; exit 2 ;;
    esac
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
        python3 - "$engine" "$work/run.json" "$work/run.time" "$lines" <<'PY'
import json, re, sys
engine, summary, timing, lines = sys.argv[1:]
s = json.load(open(summary))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(timing).read()).group(1))
read, rejected = (s["records_read"], s["records_rejected"]) if engine == "ingest" else (s["counts"]["read"], s["counts"]["rejected"])
assert read == int(lines), read
print(f"| {s['backend']} | {engine} | {read:,} | {rejected:,} | {s['elapsed']:.2f} | {read / s['elapsed']:,.0f} | {rss / 1024:.1f} MiB |")
PY
    done
done
