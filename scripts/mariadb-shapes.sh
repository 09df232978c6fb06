#!/usr/bin/env bash
# MariaDB's own time for one `triglot ingest` by statement shape: for each
# line count (100000 1000000 if none), a generated file (1 % of orders with
# a defect) is ingested into a fresh database with every statement logged
# (`long_query_time = 0`, the slow log written to `mysql.slow_log`), and the
# log of that database is summed by the statement's first 72 characters:
# statements, seconds of server time, rows sent. The server's logging
# settings are put back as they were on exit.
# Needs the servers (bash scripts/services.sh) and a release build
# (TRIGLOT_BIN: another build of the program to measure instead).
set -euo pipefail
cd "$(dirname "$0")/.."
counts=("$@")
[ ${#counts[@]} -eq 0 ] && counts=(100000 1000000)
if [ -z "${TRIGLOT_BIN:-}" ]; then
    cargo build --release --locked --features mysql,postgres >/dev/null 2>&1
fi
T=${TRIGLOT_BIN:-$PWD/target/release/triglot}
sql() { mariadb --protocol=tcp -h 127.0.0.1 -u root "$@"; }
read -r was_on was_output was_time < <(sql -N -e \
    "SELECT @@global.slow_query_log, @@global.log_output, @@global.long_query_time")
work=$(mktemp -d)
restore() {
    sql -e "SET GLOBAL slow_query_log = $was_on; SET GLOBAL log_output = '$was_output';
            SET GLOBAL long_query_time = $was_time; DROP DATABASE IF EXISTS triglot_shapes" || true
    rm -rf "$work"
}
trap restore EXIT
for lines in "${counts[@]}"; do
    "$T" generate --lines "$lines" --dirty-rate 0.01 --out "$work/$lines" >/dev/null
    sql -e "DROP DATABASE IF EXISTS triglot_shapes;
            CREATE DATABASE triglot_shapes CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
    # Migrations first, unlogged; the ingest alone is measured.
    "$T" --database-url mysql://root@127.0.0.1/triglot_shapes migrate >/dev/null
    sql -e "SET GLOBAL slow_query_log = 0; TRUNCATE mysql.slow_log;
            SET GLOBAL log_output = 'TABLE'; SET GLOBAL long_query_time = 0;
            SET GLOBAL slow_query_log = 1"
    start=$(date +%s.%N)
    "$T" --database-url mysql://root@127.0.0.1/triglot_shapes ingest --quiet "$work/$lines/orders.csv" >/dev/null
    end=$(date +%s.%N)
    sql -e "SET GLOBAL slow_query_log = 0"
    echo "== $lines lines: $(echo "$end - $start" | bc) s of wall time"
    sql -t -e "SELECT LEFT(REGEXP_REPLACE(CONVERT(sql_text USING utf8mb4), '\\\\s+', ' '), 72) AS shape,
                      COUNT(*) AS statements,
                      ROUND(SUM(TIME_TO_SEC(query_time) + MICROSECOND(query_time) / 1e6), 2) AS seconds,
                      SUM(rows_sent) AS rows_sent
               FROM mysql.slow_log WHERE db = 'triglot_shapes'
               GROUP BY shape ORDER BY seconds DESC LIMIT 12"
    rm -rf "${work:?}/$lines"
done
