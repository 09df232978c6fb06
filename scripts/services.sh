#!/usr/bin/env bash
# Makes sure what the tests need is on this machine: the C client libraries
# of the server backends, and PostgreSQL and MariaDB answering on loopback.
# Installs (Debian packages) and starts what is missing; changes nothing that
# already works. Safe to run again.
set -euo pipefail

PG_PORT=5432
MY_PORT=3306

say() { echo "services: $*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        say "need root to run: $*"; return 1
    fi
}

apt_updated=0
install() {
    if [ "$apt_updated" -eq 0 ]; then
        say "apt-get update"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        apt_updated=1
    fi
    say "installing $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() { # name command...
    local name=$1; shift
    for _ in $(seq 1 60); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 1
    done
    say "$name did not come up within 60 s"; return 1
}

# --- client libraries for mysqlclient-sys and pq-sys -----------------------
missing=()
for pkg in pkg-config libpq-dev default-libmysqlclient-dev; do
    have_pkg "$pkg" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] || install "${missing[@]}"

# --- PostgreSQL -------------------------------------------------------------
pg_ready() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT" && psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d test -Atc 'select 1'; }
if ! pg_ready >/dev/null 2>&1; then
    if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
        install postgresql
        for hba in /etc/postgresql/*/main/pg_hba.conf; do
            # The tests connect as postgres over loopback without a password.
            as_root sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
            as_root sed -i -E 's/^(local\s+all\s+postgres\s+)\S+/\1trust/' "$hba"
        done
    fi
    if ! port_open "$PG_PORT"; then
        say "starting PostgreSQL"
        as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start || true
    fi
    wait_for PostgreSQL pg_isready -q -h 127.0.0.1 -p "$PG_PORT"
    if ! psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d test -Atc 'select 1' >/dev/null 2>&1; then
        say "creating database test"
        psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -c 'CREATE DATABASE test' >/dev/null
    fi
    pg_ready >/dev/null
fi
say "PostgreSQL answers on 127.0.0.1:$PG_PORT"

# --- MariaDB ----------------------------------------------------------------
my() { mariadb --protocol=tcp -h 127.0.0.1 -P "$MY_PORT" -u root "$@"; }
my_ready() { my -e 'select 1' test; }
if ! my_ready >/dev/null 2>&1; then
    if [ ! -x /usr/sbin/mariadbd ]; then
        install mariadb-server mariadb-client
    fi
    if ! port_open "$MY_PORT"; then
        say "starting MariaDB"
        as_root install -d -o mysql -g mysql /run/mysqld
        as_root start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --user=mysql
    fi
    wait_for MariaDB port_open "$MY_PORT"
    if ! my -e 'select 1' >/dev/null 2>&1; then
        # A fresh Debian install lets root in through the socket only.
        say "allowing root without password on loopback"
        as_root mariadb -u root -e "ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password USING PASSWORD(''); FLUSH PRIVILEGES;"
    fi
    my -e 'CREATE DATABASE IF NOT EXISTS test' >/dev/null
    wait_for "MariaDB database test" my_ready
fi
say "MariaDB answers on 127.0.0.1:$MY_PORT"
