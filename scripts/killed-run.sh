#!/usr/bin/env bash
# Proves that a test run killed half-way leaves no test databases behind once
# the next run starts: holds databases on every backend in a test process,
# kills it with SIGKILL, checks they are there, runs the tests again and
# checks that the killed process's databases are gone.
set -euo pipefail
cd "$(dirname "$0")/.."
pkg=(-p triglot --features sqlite,mysql,postgres)
log=$(mktemp)

count() { # pid → number of databases of that process on all backends
    local pid=$1 n=0
    n=$((n + $(psql -h 127.0.0.1 -U postgres -d postgres -Atc "SELECT count(*) FROM pg_database WHERE datname LIKE 'tg\_%\_${pid}\_%'")))
    n=$((n + $(mariadb --protocol=tcp -h 127.0.0.1 -u root -N -e "SELECT count(*) FROM information_schema.schemata WHERE schema_name LIKE 'tg\\_%\\_${pid}\\_%'")))
    n=$((n + $(find "${TMPDIR:-/tmp}" -maxdepth 1 -name "tg_*_${pid}_*" | wc -l)))
    echo "$n"
}

cargo test --locked "${pkg[@]}" --test integration --no-run >/dev/null 2>&1
cargo test --locked "${pkg[@]}" --test integration -- --ignored --exact harness_sweep::hold_databases_until_killed --nocapture >"$log" 2>&1 &
for _ in $(seq 1 120); do
    grep -q '^HOLDING ' "$log" && break
    sleep 0.5
done
pid=$(sed -n 's/^HOLDING //p' "$log")
[ -n "$pid" ] || { echo "killed-run: the holding test did not start"; cat "$log"; exit 1; }
kill -9 "$pid"
wait || true
before=$(count "$pid")
echo "killed-run: process $pid killed with $before test database(s) open"
[ "$before" -eq 3 ] || { echo "killed-run: expected 3 databases of the killed run"; exit 1; }

cargo test --locked "${pkg[@]}" --test integration -- migrate:: >/dev/null
after=$(count "$pid")
echo "killed-run: after the next run, $after database(s) of process $pid remain"
[ "$after" -eq 0 ]
