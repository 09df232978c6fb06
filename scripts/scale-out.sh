#!/usr/bin/env bash
# Clusters on loopback, started and stopped by this script, apart from the
# shared servers: a PostgreSQL primary with one streaming replica, and a
# three-node MariaDB Galera cluster (synchronous, every node takes writes).
#
#   bash scripts/scale-out.sh           starts both, checks that a write on
#                                       the primary reaches the replica and a
#                                       write on one Galera node the others,
#                                       runs the scale-out scenarios, prints
#                                       their table, stops everything
#   bash scripts/scale-out.sh -- CMD    starts and checks both, then runs CMD
#                                       instead of the scenarios, with their
#                                       URLs in the environment (TRIGLOT_SCALE_*)
#
# The scenarios: read-your-writes 1,000 times on the replica and on Galera
# nodes, a replica paused beyond the lag bound (tests/cluster.rs, ignored
# in the main run); an ingest through the Galera cluster with the node it
# writes to killed at 40 % (SCALE_TRIALS times); 4 concurrent ingests, one
# starting at each node in turn; reports read from the replica while it is
# stopped; an ingest through primary and replica with the primary stopped
# for 2 s at 40 %. SCALE_SCENARIOS="tests galera-kill galera-concurrent
# replica-stop primary-restart" picks some; SCALE_LINES sets the ingests'
# size (50,000), SCALE_ROUNDS how often the concurrent ingests run (1).
#
# Ports (environment to change them): PostgreSQL primary 25440 and replica
# 25441; Galera nodes 23320-23322 for clients, 24567-24569 for the group,
# 24577-24579 for incremental and 24587-24589 for full state transfers; all
# below Linux's ephemeral range (32768 and up), where a client connection's
# own port could take one before its server binds it.
# Installs what is missing from Debian's packages (galera-4, rsync for the
# state transfer). Runs as root, like the fault suite; the Galera servers run as mysql.
set -euo pipefail
cd "$(dirname "$0")/.."
PG_PRIMARY_PORT=${SCALE_PG_PRIMARY_PORT:-25440}
PG_REPLICA_PORT=${SCALE_PG_REPLICA_PORT:-25441}
GALERA_PORT=${SCALE_GALERA_PORT:-23320}
GROUP_PORT=${SCALE_GROUP_PORT:-24567}

bash scripts/services.sh >/dev/null 2>&1
need=()
[ -f /usr/lib/galera/libgalera_smm.so ] || need+=(galera-4)
command -v rsync >/dev/null || need+=(rsync)
command -v lsof >/dev/null || need+=(lsof)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

work=$(mktemp -d /tmp/triglot-scale.XXXXXX)
chmod 755 "$work"
PGBIN=/usr/lib/postgresql/$(ls /usr/lib/postgresql | sort -V | tail -1)/bin
pg() { runuser -u postgres -- "$PGBIN/$@"; }

pg_ctl_of() { # name port action
    pg pg_ctl -D "$work/$1/data" -l "$work/$1/log" -w -t 60 \
        -o "-p $2 -k $work/$1 -c listen_addresses=127.0.0.1" "$3" >/dev/null
}
node_port() { echo $((GALERA_PORT + $1)); }
galera_start() { # node (0-2), extra arguments
    local n=$1 group
    shift
    group=gcomm://127.0.0.1:$GROUP_PORT,127.0.0.1:$((GROUP_PORT + 1)),127.0.0.1:$((GROUP_PORT + 2))
    # As mysql, not root: the state transfer's rsync daemon, started by the
    # server, would otherwise drop to nobody and find the data unreadable.
    runuser -u mysql -- /usr/sbin/mariadbd --no-defaults --datadir="$work/galera$n/data" \
        --port="$(node_port "$n")" --bind-address=127.0.0.1 --socket="$work/galera$n/sock" \
        --pid-file="$work/galera$n/pid" --log-error="$work/galera$n/log.err" \
        --binlog-format=ROW --default-storage-engine=InnoDB --innodb-autoinc-lock-mode=2 \
        --innodb-buffer-pool-size=64M \
        --wsrep-on=ON --wsrep-provider=/usr/lib/galera/libgalera_smm.so \
        --wsrep-cluster-name=triglot-scale --wsrep-node-name="node$n" \
        --wsrep-cluster-address="$group" \
        --wsrep-node-address="127.0.0.1:$((GROUP_PORT + n))" \
        --wsrep-provider-options="gmcast.listen_addr=tcp://127.0.0.1:$((GROUP_PORT + n));ist.recv_addr=127.0.0.1:$((GROUP_PORT + 10 + n))" \
        --wsrep-sst-method=rsync --wsrep-sst-receive-address="127.0.0.1:$((GROUP_PORT + 20 + n))" \
        "$@" >/dev/null 2>&1 &
    local pid=$!
    for _ in $(seq 1 1200); do
        [ "$(galera_sql "$n" "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'wsrep_ready'" 2>/dev/null)" = ON ] && return
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "scale-out: Galera node $n did not join"
    tail -30 "$work/galera$n/log.err"
    exit 1
}
galera_sql() { # node sql
    mariadb --protocol=tcp --connect-timeout=5 -h 127.0.0.1 -P "$(node_port "$1")" -u root -N -B -e "$2"
}
galera_stop() { # node
    local pid
    pid=$(cat "$work/galera$1/pid" 2>/dev/null) || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}
cleanup() {
    set +e
    for n in 2 1 0; do galera_stop "$n"; done
    for name in replica primary; do
        [ -f "$work/$name/data/postmaster.pid" ] &&
            pg pg_ctl -D "$work/$name/data" -m fast -w -t 60 stop >/dev/null
    done
    rm -rf "$work"
}
trap cleanup EXIT

# PostgreSQL: a primary, and a replica cloned from it that streams its WAL.
mkdir -p "$work/primary" "$work/replica"
chown postgres "$work/primary" "$work/replica"
pg initdb -D "$work/primary/data" -U postgres --auth=trust -E UTF8 >/dev/null
pg_ctl_of primary "$PG_PRIMARY_PORT" start
pg pg_basebackup -h 127.0.0.1 -p "$PG_PRIMARY_PORT" -U postgres -D "$work/replica/data" -R -X stream
pg_ctl_of replica "$PG_REPLICA_PORT" start
psql_at() { psql -h 127.0.0.1 -p "$1" -U postgres -d postgres -qAtX -c "$2"; }

# Galera: the first node starts a new cluster, the others join it and take
# their state from it.
for n in 0 1 2; do
    mkdir -p "$work/galera$n"
    chown mysql "$work/galera$n"
    mariadb-install-db --no-defaults --user=mysql --datadir="$work/galera$n/data" \
        --auth-root-authentication-method=normal --skip-test-db >/dev/null
done
galera_start 0 --wsrep-new-cluster
galera_start 1
galera_start 2

export TRIGLOT_SCALE_PG_PRIMARY=postgres://postgres@127.0.0.1:$PG_PRIMARY_PORT/postgres
export TRIGLOT_SCALE_PG_REPLICA=postgres://postgres@127.0.0.1:$PG_REPLICA_PORT/postgres
export TRIGLOT_SCALE_GALERA="mysql://root@127.0.0.1:$(node_port 0)/scale mysql://root@127.0.0.1:$(node_port 1)/scale mysql://root@127.0.0.1:$(node_port 2)/scale"

# What each cluster does with a write, seen from the outside.
psql_at "$PG_PRIMARY_PORT" "CREATE TABLE seen (n int); INSERT INTO seen VALUES (1)"
for _ in $(seq 1 100); do
    [ "$(psql_at "$PG_REPLICA_PORT" "SELECT count(*) FROM seen" 2>/dev/null)" = 1 ] && break
    sleep 0.1
done
replica_rows=$(psql_at "$PG_REPLICA_PORT" "SELECT count(*) FROM seen")
in_recovery=$(psql_at "$PG_REPLICA_PORT" "SELECT pg_is_in_recovery()")
galera_sql 1 "CREATE DATABASE scale; CREATE TABLE scale.seen (n INT PRIMARY KEY); INSERT INTO scale.seen VALUES (1)"
node2_rows=$(galera_sql 2 "SET SESSION wsrep_sync_wait = 1; SELECT COUNT(*) FROM scale.seen")
size=$(galera_sql 0 "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'wsrep_cluster_size'")
echo "| cluster | check | result |"
echo "|---|---|---|"
echo "| PostgreSQL | replica in recovery (streaming) | $in_recovery |"
echo "| PostgreSQL | row written on the primary, read on the replica | $replica_rows |"
echo "| Galera | cluster size | $size |"
echo "| Galera | row written on node 1, read on node 2 (causal read) | $node2_rows |"
[ "$in_recovery" = t ] && [ "$replica_rows" = 1 ] && [ "$size" = 3 ] && [ "$node2_rows" = 1 ] || {
    echo "scale-out: a cluster does not replicate"
    exit 1
}
psql_at "$PG_PRIMARY_PORT" "DROP TABLE seen"
galera_sql 0 "DROP DATABASE scale"

if [ "${1:-}" = -- ]; then
    shift
    "$@"
    exit 0
fi

LINES=${SCALE_LINES:-50000}
TRIALS=${SCALE_TRIALS:-3}
REPORTS=${SCALE_REPORTS:-8}
if [ -z "${TRIGLOT_BIN:-}" ]; then
    cargo build --release --locked --features mysql,postgres >/dev/null 2>&1
fi
T=${TRIGLOT_BIN:-$PWD/target/release/triglot}
# A run still going after this long is stuck: it is stopped and counts as failed.
RUN_LIMIT=${SCALE_RUN_LIMIT:-900}
"$T" generate --lines "$LINES" --dirty-rate 0.01 --out "$work/input" >/dev/null
INPUT=$work/input/orders.csv

now() { date +%s.%N; }
calc() { python3 -c "print(round($1, 2))"; }
rows=()
row() { rows+=("| $1 | $2 | $3 | $4 | $5 | $6 | $7 |"); }
failed=0
wanted() { [[ " ${SCALE_SCENARIOS:-tests galera-kill galera-concurrent replica-stop primary-restart} " == *" $1 "* ]]; }
retries_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["counts"]["retries"])' "$1"; }

# The Galera cluster's URLs for the CLI, node $1 first: writes start there.
galera_args() {
    local i
    # A statement a node leaves unanswered (see core/src/watch.rs)
    # is cut after 30 s rather than the default 300.
    ARGS=(--stuck-after 30 --database-url "mysql://root@127.0.0.1:$(node_port "$1")/scale")
    for i in 1 2; do ARGS+=(--node "mysql://root@127.0.0.1:$(node_port $((($1 + i) % 3)))/scale"); done
}
# query for order-dump.sh, through Galera node $GALERA_READ with causal reads.
REJECTS=triglot_rejects
source scripts/order-dump.sh
GALERA_READ=0
query() { # backend sql: Galera through node $GALERA_READ with causal reads, PostgreSQL on the primary
    case $1 in
    mysql) galera_sql "$GALERA_READ" "SET SESSION wsrep_sync_wait = 1; USE scale; $2" ;;
    postgres) psql -h 127.0.0.1 -p "$PG_PRIMARY_PORT" -U postgres -d scale -qAtX -F $'\t' -c "$2" ;;
    esac
}
galera_fresh() { # node to run it on
    galera_sql "$1" "DROP DATABASE IF EXISTS scale; CREATE DATABASE scale CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
    galera_args "$1"
    "$T" "${ARGS[@]}" migrate >/dev/null
}

if wanted tests; then
    # tests/cluster.rs's ignored tests, which print their rows.
    galera_sql 0 "CREATE DATABASE IF NOT EXISTS scale"
    log=$work/tests.log
    if ! cargo test --locked --workspace --features triglot/sqlite,triglot/mysql,triglot/postgres \
        --test integration cluster:: -- --ignored --nocapture --test-threads=1 >"$log" 2>&1; then
        grep -E "panicked|assert|left|right|error" "$log" | head -20
        failed=1
    fi
    n=0
    while IFS= read -r line; do
        rows+=("| ${line#scale-out-row: } |")
        n=$((n + 1))
    done < <(grep -o 'scale-out-row: .*' "$log")
    [ "$n" -eq 3 ] || { echo "scale-out: $n of the 3 cluster tests reported"; failed=1; }
fi

if wanted galera-kill || wanted galera-concurrent; then
    # A clean ingest through the cluster: the reference.
    galera_fresh 0
    t0=$(now)
    "$T" "${ARGS[@]}" ingest --quiet --json "$INPUT" >"$work/out"
    T_clean=$(calc "$(now) - $t0")
    GALERA_READ=0
    dump mysql "SELECT MAX(run_id) FROM triglot_runs" >"$work/clean"
fi

# One trial of an ingest through ARGS that FAULT interrupts at 40 % of its
# records: adds to done, lost, dup, stall and retries; CLEAN is its reference.
interrupted_ingest() { # backend label
    local t0 pid seen=0 rc=0 end l d
    t0=$(now)
    timeout "$RUN_LIMIT" "$T" "${ARGS[@]}" ingest --quiet --json "$INPUT" >"$work/out" 2>"$work/err" &
    pid=$!
    while kill -0 "$pid" 2>/dev/null && [ "${seen:-0}" -lt $((LINES * 40 / 100)) ]; do
        sleep 0.1
        seen=$(query "$1" "SELECT COALESCE(MAX(records_read), 0) FROM triglot_runs" 2>/dev/null || echo 0)
    done
    kill -0 "$pid" 2>/dev/null || { echo "scale-out: $2: the ingest ended before the fault"; failed=1; }
    $FAULT
    wait "$pid" || rc=$?
    end=$(now)
    if [ "$rc" -eq 0 ]; then
        done=$((done + 1))
        retries=$((retries + $(retries_of "$work/out")))
    else
        echo "scale-out: $2 exited $rc:"; tail -3 "$work/err"
    fi
    dump "$1" "SELECT MAX(run_id) FROM triglot_runs" >"$work/after"
    read -r l d < <(compare "$CLEAN" "$work/after")
    lost=$((lost + l)); dup=$((dup + d))
    stall=$(python3 -c "print(max($stall, round($end - $t0 - $T_clean, 2)))")
}

if wanted galera-kill; then
    done=0 lost=0 dup=0 stall=0 retries=0 CLEAN=$work/clean
    for trial in $(seq 1 "$TRIALS"); do
        k=$(((trial - 1) % 3)) # the node written to first, and killed
        GALERA_READ=$(((k + 1) % 3))
        galera_fresh "$GALERA_READ"
        galera_args "$k"
        FAULT="kill -9 $(cat "$work/galera$k/pid")"
        interrupted_ingest mysql "Galera kill trial $trial"
        galera_start "$k"
    done
    row "Galera: ingest of $LINES lines, the node written to killed (-9) at 40 %; $retries batch retries" "$TRIALS" "$done" "$lost" "$dup" "$stall s" "-"
    [ "$done" -eq "$TRIALS" ] && [ "$lost" -eq 0 ] && [ "$dup" -eq 0 ] || failed=1
fi

if wanted galera-concurrent; then
    # SCALE_ROUNDS rounds of 4 ingests, each round on a fresh database.
    ROUNDS=${SCALE_ROUNDS:-1}
    done=0 lost=0 dup=0 retries=0 cut=0 missed=0 took=0
    GALERA_READ=0
    for round in $(seq 1 "$ROUNDS"); do
        pids=()
        galera_fresh 0
        t0=$(now)
        for i in 0 1 2 3; do
            galera_args $((i % 3))
            # The retries' log lines name what each retry answered.
            RUST_LOG=warn,triglot_core::retry=info timeout "$RUN_LIMIT" "$T" "${ARGS[@]}" \
                ingest --quiet --json "$INPUT" >"$work/out.$i" 2>"$work/err.$i" &
            pids+=($!)
        done
        for i in 0 1 2 3; do
            if wait "${pids[$i]}"; then
                done=$((done + 1))
                retries=$((retries + $(retries_of "$work/out.$i")))
            else
                echo "scale-out: concurrent Galera ingest $i of round $round failed:"; tail -3 "$work/err.$i"
            fi
        done
        took=$(calc "$took + $(now) - $t0")
        cut=$((cut + $(cat "$work"/err.? | grep -c "cut the connection of a MySQL statement" || true)))
        missed=$((missed + $(cat "$work"/err.? | grep -c "was written but is not found" || true)))
        # Each run rejects the same records; the data is there once.
        for run in $(query mysql "SELECT run_id FROM triglot_runs"); do
            dump mysql "$run" >"$work/after"
            read -r l d < <(compare "$work/clean" "$work/after")
            lost=$((lost + l)); dup=$((dup + d))
        done
    done
    row "Galera: 4 concurrent ingests of one file, starting on nodes 0, 1, 2, 0, $ROUNDS time(s); $retries batch retries (certification conflicts), $missed of them after a read-back missed its own write; $cut statements left unanswered by a node and cut after 30 s" $((4 * ROUNDS)) "$done" "$lost" "$dup" "$took s for all (one alone: $T_clean s)" "-"
    [ "$done" -eq $((4 * ROUNDS)) ] && [ "$lost" -eq 0 ] && [ "$dup" -eq 0 ] || failed=1
fi

if wanted replica-stop; then
    psql_at "$PG_PRIMARY_PORT" "DROP DATABASE IF EXISTS scale"
    psql_at "$PG_PRIMARY_PORT" "CREATE DATABASE scale"
    PG=(--database-url "postgres://postgres@127.0.0.1:$PG_PRIMARY_PORT/scale"
        --replica "postgres://postgres@127.0.0.1:$PG_REPLICA_PORT/scale")
    "$T" "${PG[@]}" ingest --quiet "$INPUT" >/dev/null
    # A report as JSON without what depends on the moment it ran.
    report() { # out-file, extra arguments
        local out=$1 rc=0
        shift
        "$T" "${PG[@]}" report --since 2000-01-01 --until 2100-01-01 --format json "$@" >"$out.raw" 2>"$out.err" || rc=$?
        [ "$rc" -le 1 ] || return "$rc"
        python3 - "$out.raw" >"$out" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r.pop("elapsed_ms", None)
for c in r["checks"]:
    if c["category"] == "freshness":
        c.pop("value", None); c.pop("status", None); c.pop("detail", None)
if all(c["status"] != "fail" for c in r["checks"] if "status" in c):
    r["status"] = "-"
print(json.dumps(r, sort_keys=True))
PY
    }
    t0=$(now)
    report "$work/on-primary" --primary
    T_ref=$(calc "$(now) - $t0")
    done=0 equal=0 lost_replica=0 stall=0
    for trial in $(seq 1 "$TRIALS"); do
        (
            for r in $(seq 1 "$REPORTS"); do
                t=$(now)
                report "$work/report.$trial.$r" && echo "$r $(calc "$(now) - $t")" >>"$work/times.$trial"
            done
        ) &
        loop=$!
        sleep "0.$((trial * 3))"
        pg pg_ctl -D "$work/replica/data" -m immediate -w -t 60 stop >/dev/null
        wait "$loop" || true
        pg_ctl_of replica "$PG_REPLICA_PORT" start
        for r in $(seq 1 "$REPORTS"); do
            [ -f "$work/report.$trial.$r" ] && done=$((done + 1))
            cmp -s "$work/on-primary" "$work/report.$trial.$r" && equal=$((equal + 1))
            grep -q "passing over a server whose connection failed\|does not answer" "$work/report.$trial.$r.err" 2>/dev/null &&
                lost_replica=$((lost_replica + 1))
        done
        slowest=$(sort -k2 -n "$work/times.$trial" 2>/dev/null | tail -1 | cut -d' ' -f2)
        stall=$(python3 -c "print(max($stall, round(${slowest:-0} - $T_ref, 2)))")
    done
    total=$((TRIALS * REPORTS))
    row "PostgreSQL: $REPORTS reports in a row from the replica, stopped (immediate) during them; $equal of $total equal to the report on the primary, $lost_replica found it gone" "$total" "$done" "-" "-" "$stall s" "-"
    [ "$done" -eq "$total" ] && [ "$equal" -eq "$total" ] && [ "$lost_replica" -gt 0 ] || failed=1
fi

if wanted primary-restart; then
    PG=(--database-url "postgres://postgres@127.0.0.1:$PG_PRIMARY_PORT/scale"
        --replica "postgres://postgres@127.0.0.1:$PG_REPLICA_PORT/scale")
    pg_fresh() {
        psql_at "$PG_PRIMARY_PORT" "DROP DATABASE IF EXISTS scale"
        psql_at "$PG_PRIMARY_PORT" "CREATE DATABASE scale"
        "$T" "${PG[@]}" migrate >/dev/null
    }
    pg_fresh
    t0=$(now)
    "$T" "${PG[@]}" ingest --quiet --json "$INPUT" >"$work/out"
    T_clean=$(calc "$(now) - $t0")
    dump postgres "SELECT MAX(run_id) FROM triglot_runs" >"$work/clean.pg"
    done=0 lost=0 dup=0 stall=0 retries=0 CLEAN=$work/clean.pg ARGS=("${PG[@]}")
    restart_primary() {
        pg pg_ctl -D "$work/primary/data" -m fast -w -t 60 stop >/dev/null
        sleep 2
        pg_ctl_of primary "$PG_PRIMARY_PORT" start
    }
    FAULT=restart_primary
    for trial in $(seq 1 "$TRIALS"); do
        pg_fresh
        interrupted_ingest postgres "primary restart trial $trial"
    done
    row "PostgreSQL: ingest of $LINES lines through primary and replica, the primary stopped at 40 % for 2 s; $retries batch retries" "$TRIALS" "$done" "$lost" "$dup" "$stall s" "-"
    [ "$done" -eq "$TRIALS" ] && [ "$lost" -eq 0 ] && [ "$dup" -eq 0 ] || failed=1
fi

# A scenario that stopped half-way (a shell error inside it) left no row.
expected=0
for s in galera-kill galera-concurrent replica-stop primary-restart; do wanted "$s" && expected=$((expected + 1)); done
wanted tests && expected=$((expected + 3))
[ "${#rows[@]}" -eq "$expected" ] || { echo "scale-out: ${#rows[@]} rows of $expected"; failed=1; }
echo
echo "| scenario | trials | completed | lost | duplicated | longest stall | replica lag seen |"
echo "|---|---:|---:|---:|---:|---|---|"
printf '%s\n' "${rows[@]}"
exit "$failed"
