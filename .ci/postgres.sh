#!/usr/bin/env bash
# Start a throwaway PostgreSQL server (Debian's packages) on 127.0.0.1 for the test run.
# Usage: source .ci/postgres.sh; then CRM_TEST_POSTGRES_URL is set and the server stops on exit.
set -euo pipefail

if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
fi
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
pg_port=${CRM_CI_PG_PORT:-54329}
pg_root=$(mktemp -d /tmp/crm-ci-pg.XXXXXX)
chmod 755 "$pg_root"

# initdb and postgres refuse to run as root: run them as the postgres user then.
as_owner=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  chown postgres "$pg_root"
  as_owner=(runuser -u postgres --)
fi
"${as_owner[@]}" "$pg_bin/initdb" -D "$pg_root/data" -U crm --auth=trust -E UTF8 >/dev/null
"${as_owner[@]}" "$pg_bin/pg_ctl" -D "$pg_root/data" -l "$pg_root/server.log" -w \
  -o "-p $pg_port -k $pg_root -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off" start >/dev/null

stop_postgres() {
  "${as_owner[@]}" "$pg_bin/pg_ctl" -D "$pg_root/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$pg_root"
}
trap stop_postgres EXIT
# The tests log in as what the README asks a team to make: a role that may create
# databases and nothing more (no superuser, no roles of its own).
"$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U crm -d postgres -qAt \
  -c "CREATE ROLE crm_tests LOGIN CREATEDB NOSUPERUSER NOCREATEROLE" >/dev/null
export CRM_TEST_POSTGRES_URL="postgresql+psycopg://crm_tests@127.0.0.1:$pg_port/postgres"
echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$pg_port"
