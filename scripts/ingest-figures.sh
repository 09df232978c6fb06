#!/usr/bin/env bash
# Measures `triglot ingest` on every backend for 100,000 and 1,000,000
# generated lines (1 % of orders with a defect), each run into a fresh
# database: seconds, records/s, peak memory (/usr/bin/time -v), and the
# native bulk of the same rows: the raw driver inserting exactly the rows
# that run stored into an empty database of the same schema through its
# fastest path (`ingest_native --stored-in`, benches/src/bin/ingest_native.rs).
# Every round runs every backend and count, one after another; the table
# gives medians with their least and most over the rounds, then per backend
# how many times the largest count's time is the smallest count's.
# Needs the servers (bash scripts/services.sh); three rounds take about ten
# minutes.
#
# Arguments: the line counts (100000 1000000 if none). Environment: ROUNDS
# (3), BACKENDS (sqlite mysql postgres), TRIGLOT_BIN (another build of the
# program to measure, such as an older commit's, instead of this one's
# release build), NATIVE=0 (leave out the native side).
set -euo pipefail
cd "$(dirname "$0")/.."
counts=("$@")
[ ${#counts[@]} -eq 0 ] && counts=(100000 1000000)
rounds=${ROUNDS:-3}
native=${NATIVE:-1}
if [ -z "${TRIGLOT_BIN:-}" ]; then
    cargo build --release --locked --features mysql,postgres >/dev/null 2>&1
fi
if [ "$native" = 1 ]; then
    cargo build --release --locked -p triglot-benches --features mysql,postgres --bin ingest_native >/dev/null 2>&1
fi
T=${TRIGLOT_BIN:-$PWD/target/release/triglot}
N=$PWD/target/release/ingest_native
work=$(mktemp -d)
drop() {
    mariadb --protocol=tcp -h 127.0.0.1 -u root -e "DROP DATABASE IF EXISTS triglot_figures" || true
    psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS triglot_figures" || true
}
trap 'rm -rf "$work"; drop >/dev/null 2>&1' EXIT
for lines in "${counts[@]}"; do
    "$T" generate --lines "$lines" --dirty-rate 0.01 --out "$work/$lines" >/dev/null
done

# One line of JSON per run into runs.jsonl: backend, lines, round, seconds,
# records, peak RSS, and the native side's seconds.
for round in $(seq 1 "$rounds"); do
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
            echo '{}' >"$work/native.json"
            if [ "$native" = 1 ]; then
                "$N" --stored-in "$url" | tail -1 >"$work/native.json"
            fi
            python3 - "$lines" "$round" "$work/run.json" "$work/run.time" "$work/$lines/expected.json" "$work/native.json" >>"$work/runs.jsonl" <<'PY'
import json, re, sys
lines, round_, summary, timing, manifest, native = sys.argv[1:]
s = json.load(open(summary))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(timing).read()).group(1))
expected = json.load(open(manifest))["csv"]
# This build's summary has counts.*; builds before the flow engine, records_*.
c = s.get("counts") or {"read": s["records_read"], "accepted": s["records_accepted"], "rejected": s["records_rejected"]}
assert (c["read"], c["accepted"], c["rejected"]) == (expected["records"], expected["accepted"], expected["rejected"]), "does not reconcile"
n = json.load(open(native))
print(json.dumps({"backend": s["backend"], "lines": int(lines), "round": int(round_),
                  "seconds": s["elapsed"], "read": c["read"], "accepted": c["accepted"],
                  "rejected": c["rejected"], "rss_mib": rss / 1024,
                  "native_seconds": n.get("native_seconds"), "rows": n.get("rows")}))
PY
        done
    done
done

python3 - "$work/runs.jsonl" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
def spread(values, fmt):
    values = sorted(values)
    return f"{fmt(statistics.median(values))} [{fmt(values[0])}–{fmt(values[-1])}]"
two = lambda v: f"{v:.2f}"
by = {}
for r in runs:
    by.setdefault((r["backend"], r["lines"]), []).append(r)
rounds = max(r["round"] for r in runs)
print(f"{rounds} rounds; median [least–most] over the rounds; records/s at the median time; "
      "native: the raw driver's bulk insert of the rows the run stored; ratio = triglot ÷ native per round")
print()
print("| backend | lines | accepted | rejected | seconds | records/s | peak RSS, MiB | native bulk, s | ratio |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for (backend, lines), rs in by.items():
    secs = [r["seconds"] for r in rs]
    rate = rs[0]["read"] / statistics.median(secs)
    native = [r["native_seconds"] for r in rs if r["native_seconds"]]
    ratios = [r["seconds"] / r["native_seconds"] for r in rs if r["native_seconds"]]
    print(f"| {backend} | {lines:,} | {rs[0]['accepted']:,} | {rs[0]['rejected']:,} | {spread(secs, two)} "
          f"| {rate:,.0f} | {spread([r['rss_mib'] for r in rs], lambda v: f'{v:.1f}')} "
          f"| {spread(native, two) if native else '-'} | {spread(ratios, two) if ratios else '-'} |")
counts = sorted({l for _, l in by})
if len(counts) > 1:
    small, big = counts[0], counts[-1]
    print()
    print(f"| backend | {big:,} lines ÷ {small:,} lines, medians | per round [least–most] |")
    print("|---|---:|---:|")
    for backend in dict.fromkeys(b for b, _ in by):
        if (backend, small) not in by or (backend, big) not in by:
            continue
        s = {r["round"]: r["seconds"] for r in by[(backend, small)]}
        b = {r["round"]: r["seconds"] for r in by[(backend, big)]}
        per_round = sorted(b[k] / s[k] for k in s if k in b)
        med = statistics.median(b.values()) / statistics.median(s.values())
        print(f"| {backend} | {med:.1f} | {per_round[0]:.1f}–{per_round[-1]:.1f} |")
PY
