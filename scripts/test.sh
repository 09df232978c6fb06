#!/usr/bin/env bash
# The test command: sets up what the tests need (client libraries, PostgreSQL
# and MariaDB on loopback), then runs every test of the workspace on all three
# backends against the real servers. Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
exec cargo test --locked --workspace --features triglot/sqlite,triglot/mysql,triglot/postgres "$@"
