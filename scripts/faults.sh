#!/usr/bin/env bash
# Faults, on server instances of this script's own (a PostgreSQL cluster and a
# MariaDB server on ports and data directories of their own, started and
# stopped here, so that restarting them disturbs nothing else). They and
# every client run in a network namespace of the script's own, whose
# loopback a DROP rule can silence without touching the machine's network:
#
#   - each server restarted at 30, 60 and 90 % of an ingest (TRIALS each);
#   - each server's packets dropped (not refused) for BLACKHOLE seconds from
#     30 % of an ingest: the run must go on when packets flow again, and a
#     program started meanwhile must fail its first connect within
#     CONNECT_BOUND seconds, and no server session of a connection the run
#     gave up may stay in its transaction LEFTOVER_BOUND seconds after it;
#   - the ingest killed with SIGKILL at KILLS random moments on each backend,
#     then run again;
#   - eight ingests of the same file at once on each backend;
#   - a file of bad input (NUL bytes, text past every column's limit, numbers
#     at the edges of i64, overflowing sums, dates at the ends of the
#     calendar, invalid UTF-8, broken quoting) ingested twice on each backend:
#     both runs complete, the second writes nothing and rejects the same.
#
# Every run is compared with a clean run of the same input on the same
# backend: customers, orders, lines and the run's rejects, as sorted text.
# "lost" counts rows of the clean run missing after the fault, "duplicated"
# rows that are there twice or that the clean run does not have. "Batch
# retries" sums the attempts the runs made again (the summary's
# counts.retries); "longest stall" is the most
# a faulted run took beyond the clean run; "recovery" is the most a run took, after the server answered
# again, beyond what the clean run needed for the part still to do (0 when
# it caught up). The server stops when the run's row has counted 30, 60 or
# 90 % of the records, stays down 2 s, and starts again. Prints a
# Markdown table and exits 1 unless every run completed with nothing lost or
# duplicated.
#
# Environment: LINES (input lines, 200000), TRIALS (3), BLACKHOLE (30),
# CONNECT_BOUND (20), LEFTOVER_BOUND (90: after a silent-network run, server
# sessions of its lost connections must be out of their transactions within
# that many seconds),
# KILLS (20), STALL_LIMIT (300: a run still going after
# that many seconds is stuck; its stacks are printed and it fails),
# STUCK_AFTER (60: the runs' `--stuck-after`, a statement unanswered that
# long has its connection cut and is retried; under STALL_LIMIT),
# KILL_LINES (input lines of the kill scenario, 50000), FAULTS_BACKENDS
# (which backends, all three), FAULTS_SCENARIOS (which scenarios, all of
# "restart blackhole kill concurrent bad"), TRIGLOT_BIN (the program to test, this
# checkout's release build).
set -euo pipefail
cd "$(dirname "$0")/.."
LINES=${LINES:-200000}
TRIALS=${TRIALS:-3}
KILLS=${KILLS:-20}
KILL_LINES=${KILL_LINES:-50000}
# Below Linux's ephemeral range (32768-60999): a client reconnecting while
# its server is down could otherwise be given the server's port as its own
# and connect to itself, and the server could not bind it again.
PG_PORT=${FAULTS_PG_PORT:-25433}
MY_PORT=${FAULTS_MY_PORT:-23307}
BLACKHOLE=${BLACKHOLE:-30}
STALL_LIMIT=${STALL_LIMIT:-300}
STUCK_AFTER=${STUCK_AFTER:-60}
CONNECT_BOUND=${CONNECT_BOUND:-20}
LEFTOVER_BOUND=${LEFTOVER_BOUND:-90}

bash scripts/services.sh >/dev/null 2>&1
command -v iptables >/dev/null || {
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iptables >/dev/null
}
if [ -z "${TRIGLOT_BIN:-}" ]; then
    cargo build --release --locked --features mysql,postgres >/dev/null 2>&1
fi
# TRIGLOT_BIN: another build of the program to put through the same faults.
T=${TRIGLOT_BIN:-$PWD/target/release/triglot}

NS=triglot-faults-$$
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up
inns() { ip netns exec "$NS" "$@"; }
# An array, not a function: `"${TG[@]}" … &` leaves $! the program's own pid
# (ip netns exec replaces itself with it), which the kill scenario signals.
TG=(ip netns exec "$NS" "$T" --stuck-after "$STUCK_AFTER")

work=$(mktemp -d /tmp/triglot-faults.XXXXXX)
chmod 755 "$work"
PGBIN=/usr/lib/postgresql/$(ls /usr/lib/postgresql | sort -V | tail -1)/bin
pg() { inns runuser -u postgres -- "$PGBIN/$@"; }

pg_start() {
    pg pg_ctl -D "$work/pg/data" -l "$work/pg/log" -w -t 60 \
        -o "-p $PG_PORT -k $work/pg -c listen_addresses=127.0.0.1" start >/dev/null
}
pg_stop() { pg pg_ctl -D "$work/pg/data" -m fast -w -t 60 stop >/dev/null; }
# The server runs as shipped: MariaDB has no per-session keepalive (its
# tcp_keepalive_* variables are global, the operator's) and waits 8 hours
# (wait_timeout) for a client that gave up during a silent network while
# the server waited for its next statement, keeping that session's
# transaction and locks. The pool ends such a session from its next
# connection (Dialect::end_session); the silent-network row counts them.
my_start() {
    inns /usr/sbin/mariadbd --no-defaults --user=root --datadir="$work/my/data" \
        --port="$MY_PORT" --bind-address=127.0.0.1 --socket="$work/my/sock" \
        --pid-file="$work/my/pid" --skip-log-bin >>"$work/my/log" 2>&1 &
    for _ in $(seq 1 600); do
        inns mariadb-admin --protocol=tcp -h 127.0.0.1 -P "$MY_PORT" -u root ping >/dev/null 2>&1 && return
        sleep 0.1
    done
    echo "faults: MariaDB did not start"; tail -20 "$work/my/log"; exit 1
}
my_stop() {
    local pid
    pid=$(cat "$work/my/pid")
    kill -TERM "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}
cleanup() {
    set +e
    if [ -s "$work/stalls" ]; then
        echo "faults: runs got stuck:" >&2
        cat "$work/stalls" >&2
    fi
    [ -f "$work/pg/data/postmaster.pid" ] && pg_stop
    [ -f "$work/my/pid" ] && kill -0 "$(cat "$work/my/pid")" 2>/dev/null && my_stop
    rm -rf "$work"
    ip netns del "$NS"
}
trap cleanup EXIT

mkdir -p "$work/pg" "$work/my"
chown postgres "$work/pg"
pg initdb -D "$work/pg/data" -U postgres --auth=trust -E UTF8 >/dev/null
pg_start
mariadb-install-db --no-defaults --user=root --datadir="$work/my/data" \
    --auth-root-authentication-method=normal --skip-test-db >/dev/null
my_start

PG_URL=postgres://postgres@127.0.0.1:$PG_PORT/faults
MY_URL=mysql://root@127.0.0.1:$MY_PORT/faults
SQLITE_URL=sqlite://$work/faults.db
url_of() { case $1 in postgres) echo "$PG_URL" ;; mysql) echo "$MY_URL" ;; sqlite) echo "$SQLITE_URL" ;; esac; }

fresh() { # backend → an empty, migrated database
    case $1 in
    postgres)
        inns psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -qc "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS faults" -c "CREATE DATABASE faults" ;;
    mysql)
        inns mariadb --protocol=tcp -h 127.0.0.1 -P "$MY_PORT" -u root -e "DROP DATABASE IF EXISTS faults; CREATE DATABASE faults CHARACTER SET utf8mb4 COLLATE utf8mb4_bin" ;;
    sqlite) rm -f "$work"/faults.db* ;;
    esac
    "${TG[@]}" --database-url "$(url_of "$1")" migrate >/dev/null
}

query() { # backend sql → rows, tab-separated
    case $1 in
    postgres) inns psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d faults -AtF $'\t' -c "$2" ;;
    mysql) inns mariadb --protocol=tcp -h 127.0.0.1 -P "$MY_PORT" -u root -N -B faults -e "$2" ;;
    sqlite) python3 -c 'import sqlite3,sys
for row in sqlite3.connect(sys.argv[1]).execute(sys.argv[2]): print("\t".join("" if v is None else str(v) for v in row))' "$work/faults.db" "$2" ;;
    esac
}

# `triglot ingest` keeps its runs and rejects in the flow's run tables.
ENGINE=ingest RUNS=triglot_runs RUN_ID=run_id REJECTS=triglot_rejects
engine_cmd() { # backend input-file → ENGINE_CMD, the ingest's command (JSON summary on stdout)
    ENGINE_CMD=("${TG[@]}" --database-url "$(url_of "$1")" ingest --quiet --json "$2")
}
# guard pid: a run still going after STALL_LIMIT seconds is stuck. Its
# threads' stacks and the servers' sessions go to $work/stalls (printed at
# the end), and it is killed, so that the trial fails instead of waiting forever.
guard() {
    local pid=$1 waited=0
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$waited" -ge "$((STALL_LIMIT * 10))" ]; then
            {
                # Its arguments without the value of --database-url, which may hold a password.
                echo "== run $pid stuck after $STALL_LIMIT s: $(tr '\0' '\n' </proc/"$pid"/cmdline 2>/dev/null |
                    sed '/^--database-url$/{n;s/.*/(url)/}' | tr '\n' ' ')"
                for t in /proc/"$pid"/task/*; do
                    echo "-- thread ${t##*/} $(cat "$t/comm" 2>/dev/null) in $(cat "$t/wchan" 2>/dev/null)"
                done
                command -v gdb >/dev/null && timeout 60 gdb -p "$pid" -batch -ex "thread apply all bt" 2>&1 | grep -E '^(Thread|#)'
                echo "-- PostgreSQL sessions"
                inns psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -Atc \
                    "SELECT pid, state, backend_xid, now() - state_change, left(query, 160) FROM pg_stat_activity WHERE datname = 'faults'" 2>&1
                echo "-- MariaDB sessions"
                inns mariadb --protocol=tcp -h 127.0.0.1 -P "$MY_PORT" -u root -e "SHOW FULL PROCESSLIST" 2>&1
            } >>"$work/stalls"
            kill -9 "$pid" 2>/dev/null
            return
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
}
# run_engine backend input-file: the ingest, guarded; its exit status.
run_engine() {
    engine_cmd "$1" "$2"
    "${ENGINE_CMD[@]}" &
    local pid=$!
    guard "$pid" &
    wait "$pid"
}

# dump and compare: the stored orders of a run, and two runs side by side.
source scripts/order-dump.sh

now() { date +%s.%N; }
calc() { python3 -c "print(round($1, 2))"; }

"$T" generate --lines "$LINES" --dirty-rate 0.01 --out "$work/big" >/dev/null
"$T" generate --lines "$KILL_LINES" --dirty-rate 0.01 --out "$work/small" >/dev/null

declare -A clean_secs
clean() { # backend input → reference dump in $work/clean.<backend>.<input>
    fresh "$1"
    local t0
    t0=$(now)
    run_engine "$1" "$work/$2/orders.csv" >/dev/null
    clean_secs[$ENGINE.$1.$2]=$(calc "$(now) - $t0")
    dump "$1" "SELECT MAX($RUN_ID) FROM $RUNS" >"$work/clean.$ENGINE.$1.$2"
}

rows=()
row() { rows+=("| $1 | $2 | $3 | $4 | $5 | $6 | $7 | $8 |"); }
failed=0

until_counted() { # backend pid percent → waits until the run's row has counted percent % of LINES; fails if the run ended first
    local target=$(($3 * LINES / 100)) seen=0
    while kill -0 "$2" 2>/dev/null && [ "${seen:-0}" -lt "$target" ]; do
        sleep 0.1
        seen=$(query "$1" "SELECT COALESCE(MAX(records_read), 0) FROM $RUNS" 2>/dev/null || echo 0)
    done
    kill -0 "$2" 2>/dev/null || { echo "faults: $1 run ended before $3 % of its records were counted" >&2; return 1; }
}
retries_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["counts"]["retries"])' "$1"; }
ended_at() { python3 -c 'import json,sys; print(float(sys.argv[2]) + json.load(open(sys.argv[1]))["elapsed"])' "$1" "$2"; }

restart_scenario() { # backend percentages…
    local b=$1 pct trial
    shift
    clean "$b" big
    local T_clean=${clean_secs[$ENGINE.$b.big]}
    for pct in "$@"; do
        local done=0 lost=0 dup=0 stall=0 recover=0 retries=0
        for trial in $(seq 1 "$TRIALS"); do
            fresh "$b"
            local t0 back rc=0 end
            t0=$(now)
            run_engine "$b" "$work/big/orders.csv" >"$work/out" 2>"$work/err" &
            local pid=$!
            until_counted "$b" "$pid" "$pct" || rc=1
            if [ "$b" = postgres ]; then pg_stop; sleep 2; pg_start; else my_stop; sleep 2; my_start; fi
            back=$(now)
            wait "$pid" || rc=$?
            end=$(now)
            if [ "$rc" -eq 0 ]; then
                done=$((done + 1))
                retries=$((retries + $(retries_of "$work/out")))
                end=$(ended_at "$work/out" "$t0")
            else
                echo "faults: $b restart at $pct % trial $trial exited $rc:" >&2; tail -3 "$work/err" >&2
            fi
            dump "$b" "SELECT MAX($RUN_ID) FROM $RUNS" >"$work/after"
            read -r l d < <(compare "$work/clean.$ENGINE.$b.big" "$work/after")
            lost=$((lost + l)); dup=$((dup + d))
            stall=$(python3 -c "print(max($stall, round($end - $t0 - $T_clean, 2)))")
            recover=$(python3 -c "print(max($recover, round(max(0, $end - $back - $T_clean * (100 - $pct) / 100), 2)))")
        done
        row "$b restarted at $pct % ($ENGINE)" "$TRIALS" "$done" "$lost" "$dup" "$retries" "$stall" "$recover"
        [ "$done" -eq "$TRIALS" ] && [ "$lost" -eq 0 ] && [ "$dup" -eq 0 ] || failed=1
    done
}

silence() { # port on|off: drop (not refuse) every packet to and from the port
    local op=-I
    [ "$2" = on ] || op=-D
    inns iptables "$op" INPUT -p tcp --dport "$1" -j DROP
    inns iptables "$op" INPUT -p tcp --sport "$1" -j DROP
}

leftover_sessions() { # backend → sessions on the faults database inside a transaction, other than this query's
    # Only those hold locks; an idle one left over (a pooled connection
    # closed during the silence, whose FIN was dropped) costs a connection
    # slot until the server's keepalive or idle timeout, nothing more.
    case $1 in
    postgres) query postgres "SELECT count(*) FROM pg_stat_activity WHERE datname = 'faults' AND pid <> pg_backend_pid() AND xact_start IS NOT NULL" ;;
    mysql) query mysql "SELECT COUNT(*) FROM information_schema.INNODB_TRX t JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id WHERE p.DB = 'faults' AND p.ID <> CONNECTION_ID()" ;;
    esac
}

blackhole_scenario() { # backend
    local b=$1 port lost=0 dup=0 done=0 retries=0 stall=0 recover=0
    [ "$b" = postgres ] && port=$PG_PORT || port=$MY_PORT
    [ -f "$work/clean.$ENGINE.$b.big" ] || clean "$b" big
    local T_clean=${clean_secs[$ENGINE.$b.big]}
    fresh "$b"
    local t0 dropped back end rc=0 probe_rc=0 probe_secs
    t0=$(now)
    # The pool's info line for each server session of a lost connection it
    # ended (triglot_core::pool) is counted in the row.
    RUST_LOG=warn,triglot_core::pool=info "${TG[@]}" --database-url "$(url_of "$b")" ingest --quiet --json "$work/big/orders.csv" >"$work/out" 2>"$work/err" &
    local pid=$!
    guard "$pid" &
    until_counted "$b" "$pid" 30 || rc=1
    silence "$port" on
    dropped=$(now)
    # A program started now must give up on its first connect within the bound.
    "${TG[@]}" --database-url "$(url_of "$b")" migrate >/dev/null 2>"$work/probe.err" || probe_rc=$?
    probe_secs=$(calc "$(now) - $dropped")
    # It must end with an error of its own: not 0, not a signal (128 + n).
    if [ "$probe_rc" -eq 0 ] || [ "$probe_rc" -ge 128 ] || python3 -c "import sys; sys.exit(not $probe_secs > $CONNECT_BOUND)"; then
        echo "faults: $b connect during the blackhole: exit $probe_rc after $probe_secs s (bound $CONNECT_BOUND s):" >&2
        tail -2 "$work/probe.err" >&2
        failed=1
    fi
    sleep "$(python3 -c "print(max(0, $BLACKHOLE - ($(now) - $dropped)))")"
    silence "$port" off
    back=$(now)
    wait "$pid" || rc=$?
    end=$(now)
    if [ "$rc" -eq 0 ]; then
        done=1
        retries=$(retries_of "$work/out")
        end=$(ended_at "$work/out" "$t0")
    else
        echo "faults: $b blackhole: the ingest exited $rc:" >&2; tail -12 "$work/err" >&2
    fi
    dump "$b" "SELECT MAX($RUN_ID) FROM $RUNS" >"$work/after"
    read -r lost dup < <(compare "$work/clean.$ENGINE.$b.big" "$work/after")
    stall=$(calc "$end - $t0 - $T_clean")
    recover=$(calc "max(0, $end - $back - $T_clean * 70 / 100)")
    # The program has ended and closed its connections; a server session
    # left over is one whose client gave up during the silence. One inside a
    # transaction must have been ended (by the pool's next connection, or
    # on PostgreSQL by the keepalive triglot sets for the session): until
    # it is, it holds its transaction's locks, and a run that needs them
    # waits.
    local ended
    ended=$(grep -c "ended the server session of a lost connection" "$work/err" || true)
    local left waited=0
    while left=$(leftover_sessions "$b") && [ "$left" -gt 0 ] && [ "$waited" -lt "$LEFTOVER_BOUND" ]; do
        sleep 2; waited=$((waited + 2))
    done
    if ! [[ "$left" =~ ^[0-9]+$ ]] || [ "$left" -gt 0 ]; then
        echo "faults: $b blackhole: $left server session(s) of the lost connections still in a transaction $LEFTOVER_BOUND s after the run" >&2
        failed=1
    fi
    row "$b silent network for $BLACKHOLE s at 30 % (a new connect failed after $probe_secs s; the pool ended $ended lost session(s))" 1 "$done" "$lost" "$dup" "$retries" "$stall" "$recover"
    [ "$done" -eq 1 ] && [ "$lost" -eq 0 ] && [ "$dup" -eq 0 ] || failed=1
}

kill_scenario() { # backend
    local b=$1 trial done=0 lost=0 dup=0
    clean "$b" small
    local T_clean=${clean_secs[$ENGINE.$b.small]}
    for trial in $(seq 1 "$KILLS"); do
        fresh "$b"
        # The program itself in the background (not a subshell), so the kill reaches it.
        engine_cmd "$b" "$work/small/orders.csv"
        "${ENGINE_CMD[@]}" >/dev/null 2>&1 &
        local pid=$!
        sleep "$(python3 -c "import random; print(round(random.uniform(0, $T_clean), 3))")"
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        if run_engine "$b" "$work/small/orders.csv" >/dev/null 2>"$work/err"; then
            done=$((done + 1))
        else
            echo "faults: $b rerun after kill $trial failed:" >&2; tail -3 "$work/err" >&2
        fi
        if [ "$b" = sqlite ]; then
            [ "$(query sqlite "PRAGMA integrity_check")" = ok ] || { echo "faults: integrity_check failed" >&2; failed=1; }
        fi
        dump "$b" "SELECT MAX($RUN_ID) FROM $RUNS" >"$work/after"
        read -r l d < <(compare "$work/clean.$ENGINE.$b.small" "$work/after")
        lost=$((lost + l)); dup=$((dup + d))
    done
    row "$b $ENGINE killed (SIGKILL), then run again" "$KILLS" "$done" "$lost" "$dup" "-" "-" "-"
    [ "$done" -eq "$KILLS" ] && [ "$lost" -eq 0 ] && [ "$dup" -eq 0 ] || failed=1
}

concurrent_scenario() { # backend
    local b=$1 i done=0 lost=0 dup=0 retries=0 pids=()
    fresh "$b"
    for i in $(seq 1 8); do
        "${TG[@]}" --database-url "$(url_of "$b")" ingest --quiet --json "$work/small/orders.csv" >"$work/out.$i" 2>"$work/err.$i" &
        pids+=($!)
        guard "$!" &
    done
    for i in $(seq 1 8); do
        if wait "${pids[$((i - 1))]}"; then
            done=$((done + 1))
            retries=$((retries + $(retries_of "$work/out.$i")))
        else
            echo "faults: $b concurrent ingest $i failed:" >&2; tail -3 "$work/err.$i" >&2
        fi
    done
    # Each run rejects the same records; the data is there once.
    for run in $(query "$b" "SELECT $RUN_ID FROM $RUNS"); do
        dump "$b" "$run" >"$work/after"
        read -r l d < <(compare "$work/clean.$ENGINE.$b.small" "$work/after")
        lost=$((lost + l)); dup=$((dup + d))
    done
    row "$b 8 concurrent ingests of one file" 8 "$done" "$lost" "$dup" "$retries" "-" "-"
    [ "$done" -eq 8 ] && [ "$lost" -eq 0 ] && [ "$dup" -eq 0 ] || failed=1
}

python3 - "$work/bad.csv" <<'PY'
import sys
head = "order_id,customer_id,customer_name,customer_email,customer_country,status,currency,placed_at,updated_at,line_no,sku,quantity,unit_price,discount_pct,note"
at = "2026-11-20T10:00:00Z"
def order(oid, **kw):
    f = dict(order_id=oid, customer_id="C-1", customer_name="Cat", customer_email="", customer_country="",
             status="paid", currency="EUR", placed_at=at, updated_at=at, line_no="1", sku="SKU-1",
             quantity="1", unit_price="1.00", discount_pct="", note="")
    f.update(kw)
    return ",".join(f[k] for k in head.split(",")).encode()
rows = [
    order("B-01", note="a\x00b"),
    order("B-02", note="x" * 100_000),
    order("B-03", customer_name="n" * 70_000),
    order("B-04", quantity="9223372036854775807", unit_price="92233720368547758.07"),
    order("B-05", quantity="-9223372036854775808"),
    order("B-06", unit_price="99999999999999999999999999999.99"),
    order("B-07", placed_at="0000-01-01T00:00:00Z"),
    order("B-08", placed_at="+262143-12-31T23:59:59Z"),
    order("B-09", placed_at="9999-12-31T23:59:59-14:00"),
    order("B-10", updated_at="1996-13-45T00:00:00Z"),
    order("B-11", discount_pct="1e308"),
    order("B-12", line_no="4294967296"),
    order("B-13", order_id="o" * 70_000),
    order("B-14", customer_name="cafX").replace(b"cafX", b"caf\xe9"),
    ",".join(["x"] * 10_000).encode(),
    b"",
    b",,,,,,,,,,,,,,",
    order("B-15"),
    order("B-15", line_no="2", quantity="3037000500", unit_price="3037000500.00"),
    order("B-16", note="ok"),
    b'B-17,"C-1,"unclosed',
]
open(sys.argv[1], "wb").write(head.encode() + b"\n" + b"\n".join(rows) + b"\n")
PY

bad_input_scenario() { # backend
    local b=$1 done=0 lost=0 dup=0
    fresh "$b"
    for run in 1 2; do
        if run_engine "$b" "$work/bad.csv" >"$work/out.$run" 2>"$work/err"; then
            done=$((done + 1))
        else
            echo "faults: $b bad input, run $run failed:" >&2; tail -3 "$work/err" >&2
        fi
        dump "$b" "SELECT MAX($RUN_ID) FROM $RUNS" >"$work/bad.$run"
    done
    read -r lost dup < <(compare "$work/bad.1" "$work/bad.2")
    # The second run writes nothing.
    local written
    written=$(python3 -c 'import json,sys
s = json.load(open(sys.argv[1]))
print(s["counts"]["accepted"] - s["counts"]["unchanged"])' "$work/out.2" 2>/dev/null || echo 1)
    [ "$written" -eq 0 ] || { echo "faults: $b bad input, the second run wrote $written orders" >&2; dup=$((dup + written)); }
    row "$b bad input, twice ($ENGINE)" 2 "$done" "$lost" "$dup" "-" "-" "-"
    [ "$done" -eq 2 ] && [ "$lost" -eq 0 ] && [ "$dup" -eq 0 ] || failed=1
}

wanted() { [[ " ${FAULTS_SCENARIOS:-restart blackhole kill concurrent bad} " == *" $1 "* ]]; }
for b in ${FAULTS_BACKENDS:-postgres mysql}; do [ "$b" = sqlite ] || ! wanted restart || restart_scenario "$b" 30 60 90; done
for b in ${FAULTS_BACKENDS:-postgres mysql}; do [ "$b" = sqlite ] || ! wanted blackhole || blackhole_scenario "$b"; done
for b in ${FAULTS_BACKENDS:-sqlite postgres mysql}; do
    ! wanted kill || kill_scenario "$b"
    ! wanted concurrent || concurrent_scenario "$b"
    ! wanted bad || bad_input_scenario "$b"
done

# The stuck runs' stacks are printed on the way out (cleanup).
[ -s "$work/stalls" ] && failed=1
echo "| scenario | trials | completed | lost | duplicated | batch retries | longest stall, s | recovery after the server is back, s |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
exit "$failed"
