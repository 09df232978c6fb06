#!/usr/bin/env bash
# Clusters on loopback, started and stopped by this script, apart from the
# shared servers: a PostgreSQL primary with one streaming replica, and a
# three-node MariaDB Galera cluster (synchronous, every node takes writes).
#
#   bash scripts/scale-out.sh           starts both, checks that a write on
#                                       the primary reaches the replica and a
#                                       write on one Galera node the others,
#                                       prints what it saw, stops everything
#   bash scripts/scale-out.sh -- CMD    the same, running CMD while they are
#                                       up, with their URLs in the
#                                       environment (TRIGLOT_SCALE_*)
#
# Ports (environment to change them): PostgreSQL primary 55440 and replica
# 55441; Galera nodes 33320-33322 for clients, 14567-14569 for the group,
# 14577-14579 for incremental and 14587-14589 for full state transfers.
# Installs what is missing from Debian's packages (galera-4, rsync for the
# state transfer). Runs as root, like the fault suite; the Galera servers run as mysql.
set -euo pipefail
cd "$(dirname "$0")/.."
PG_PRIMARY_PORT=${SCALE_PG_PRIMARY_PORT:-55440}
PG_REPLICA_PORT=${SCALE_PG_REPLICA_PORT:-55441}
GALERA_PORT=${SCALE_GALERA_PORT:-33320}
GROUP_PORT=${SCALE_GROUP_PORT:-14567}

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
        --pid-file="$work/galera$n/pid" --log-error="$work/galera$n/log" \
        --binlog-format=ROW --default-storage-engine=InnoDB --innodb-autoinc-lock-mode=2 \
        --innodb-buffer-pool-size=64M \
        --wsrep-on=ON --wsrep-provider=/usr/lib/galera/libgalera_smm.so \
        --wsrep-cluster-name=triglot-scale --wsrep-node-name="node$n" \
        --wsrep-cluster-address="$group" \
        --wsrep-node-address="127.0.0.1:$((GROUP_PORT + n))" \
        --wsrep-provider-options="gmcast.listen_addr=tcp://127.0.0.1:$((GROUP_PORT + n));ist.recv_addr=127.0.0.1:$((GROUP_PORT + 10 + n))" \
        --wsrep-sst-method=rsync --wsrep-sst-receive-address="127.0.0.1:$((GROUP_PORT + 20 + n))" \
        "$@" >/dev/null 2>&1 &
    for _ in $(seq 1 1200); do
        [ "$(galera_sql "$n" "SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'wsrep_ready'" 2>/dev/null)" = ON ] && return
        sleep 0.1
    done
    echo "scale-out: Galera node $n did not join"
    tail -30 "$work/galera$n/log"
    exit 1
}
galera_sql() { # node sql
    mariadb --protocol=tcp -h 127.0.0.1 -P "$(node_port "$1")" -u root -N -B -e "$2"
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
fi
