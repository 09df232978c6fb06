#!/usr/bin/env bash
# Renders the demo's HTML quality report and takes a screenshot of it with
# headless Chromium (installed from Debian's packages if missing).
#   bash scripts/report-screenshot.sh [OUT.png]     (default target/report.png)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/report.png}
if ! command -v chromium >/dev/null; then
    if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo=sudo; fi
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
cargo build --release --locked >/dev/null 2>&1
T=$PWD/target/release/triglot
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db="sqlite://$work/demo.db"
"$T" --database-url "$db" demo --orders 10000 --quiet >/dev/null
# Some input with defects, so the rejects chart has bars.
"$T" generate --orders 2000 --dirty-rate 0.05 --out "$work/sample" >/dev/null
"$T" --database-url "$db" ingest --quiet "$work/sample/orders.csv" >/dev/null
since=$(date -u -d '31 days ago' +%F)
until=$(date -u -d 'tomorrow' +%F)
"$T" --database-url "$db" report --since "$since" --until "$until" --format html --out "$work/report.html" || true
mkdir -p "$(dirname "$out")"
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$work/profile" --hide-scrollbars --window-size=1200,2000 \
    --screenshot="$PWD/$out" "file://$work/report.html" >/dev/null 2>&1
cp "$work/report.html" "${out%.png}.html"
echo "screenshot: $out (page: ${out%.png}.html)"
