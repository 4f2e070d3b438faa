#!/usr/bin/env bash
# Sourced by scripts/test.sh: starts a throwaway PostgreSQL cluster on a free loopback port
# (as the postgres user when run as root, which PostgreSQL refuses to run as), exports
# MM_TEST_POSTGRES_URL, and stops it when the calling shell exits.
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$pg_bin" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; return 1; }
mm_pg_dir=$(mktemp -d /tmp/mm-pg.XXXXXX)
mm_pg_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mm_pg_as=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres "$mm_pg_dir"
  mm_pg_as=(runuser -u postgres --)
fi
"${mm_pg_as[@]}" "$pg_bin/initdb" -D "$mm_pg_dir/data" -U mm --auth=trust >/dev/null
"${mm_pg_as[@]}" "$pg_bin/pg_ctl" -D "$mm_pg_dir/data" -l "$mm_pg_dir/log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $mm_pg_port -k $mm_pg_dir -c fsync=off -c max_connections=200" start >/dev/null
export MM_TEST_POSTGRES_URL="postgres://mm@127.0.0.1:$mm_pg_port/postgres"
mm_stop_postgres() { "${mm_pg_as[@]}" "$pg_bin/pg_ctl" -D "$mm_pg_dir/data" -m immediate stop >/dev/null 2>&1; rm -rf "$mm_pg_dir"; }
trap mm_stop_postgres EXIT
echo "PostgreSQL for tests on 127.0.0.1:$mm_pg_port"
