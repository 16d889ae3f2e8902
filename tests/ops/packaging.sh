#!/usr/bin/env bash
# tests/ops/packaging.sh: what ships.  TAP; run by make test (suite
# "packaging").
#
# META.json against the PGXN Meta Spec (tests/ops/meta.mjs); the
# Dockerfile, docker-compose.yml and CI workflow against the repository
# (tests/ops/docker.mjs); make dist builds the PGXN zip from git archive,
# which holds what a build needs and nothing of .run/ or node_modules/, and
# the extension builds from it; and the database image's entrypoint
# (scripts/db-entrypoint) run for real against this machine's PostgreSQL
# on 127.0.0.1:56347: a new data directory set up with passwords, the
# extension, pg_cron's jobs, the proxy's role and the sample data; started
# again on it, it updates and serves.  About 30 s.
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/lib.sh"
cd "$MS_ROOT" || exit 1
port=56347
work="$MS_RUN/ops-packaging-work"

pg_pid=
pgdir=
cleanup() {
  if [ -n "$pg_pid" ]; then
    [ -s "$pgdir/pgdata/postmaster.pid" ] && kill -TERM "$(head -1 "$pgdir/pgdata/postmaster.pid")" 2>/dev/null
    wait "$pg_pid" 2>/dev/null
  fi
  scripts/cluster remove ops-entrypoint >/dev/null 2>&1
}
trap cleanup EXIT
rm -rf "$work" && mkdir -p "$work"

node tests/ops/meta.mjs > "$work/meta.tap"
ok $? "META.json passes the PGXN Meta Spec checks and agrees with the build ($(tail -1 "$work/meta.tap"))"
grep '^not ok' "$work/meta.tap" | sed 's/^/  # /'
node tests/ops/docker.mjs > "$work/docker.tap"
ok $? "the Dockerfile, docker-compose.yml and the CI workflow agree with the repository ($(tail -1 "$work/docker.tap"))"
grep '^not ok' "$work/docker.tap" | sed 's/^/  # /'

# --- the PGXN zip ---------------------------------------------------------------
version=$(sed -n 's/^EXTVERSION = //p' Makefile)
zip="dist/multistore-$version.zip"
rm -f "$zip"
make -s dist >/dev/null 2>&1
ok $? "make dist"
[ -f "$zip" ]
ok $? "wrote $zip"
listing=$(unzip -Z1 "$zip")
missing=""
for f in META.json multistore.control Makefile README.md sql/multistore.sql "sql/multistore--0.1.0--$version.sql" \
         extension/multistore.c proxy/routes.c; do
  grep -qx "multistore-$version/$f" <<< "$listing" || missing+=" $f"
done
is "${missing:-none}" none "it holds what a build needs, under multistore-$version/"
is "$(grep -cE '(^|/)(\.run|node_modules|dist)/|\.(o|so)$' <<< "$listing")" 0 "and no build output, .run/ or node_modules/"
mkdir -p "$work/unzipped" && unzip -q "$zip" -d "$work/unzipped"
make -C "$work/unzipped/multistore-$version" -s -j2 multistore.so "sql/multistore--$version.sql" > "$work/dist-build.log" 2>&1
ok $? "the extension builds from the zip (PGXS)"
rm -rf "$work/unzipped"

# --- the database image's entrypoint, for real ----------------------------------------
scripts/cluster remove ops-entrypoint >/dev/null 2>&1
pgdir=$(scripts/cluster dir ops-entrypoint) || die "no directory for the data"
as_pg mkdir -m 700 "$pgdir/pgdata"
entrypoint() {
  as_pg env PGDATA="$pgdir/pgdata" PGPORT=$port LISTEN_ADDRESSES=127.0.0.1 PGSOCKET_DIR="$pgdir/sock" \
    POSTGRES_DB=multistore POSTGRES_PASSWORD=pg-secret-1 PROXY_DB_PASSWORD=proxy-secret-2 SEED_SAMPLE_DATA=1 \
    PATH="$PATH" "$MS_ROOT/scripts/db-entrypoint" >> "$work/entrypoint.log" 2>&1 &
  pg_pid=$!
  for _ in $(seq 1 300); do
    pg_isready -q -h 127.0.0.1 -p "$port" -d multistore && return 0
    kill -0 "$pg_pid" 2>/dev/null || break
    sleep 0.1
  done
  return 1
}
stop_pg() {
  [ -s "$pgdir/pgdata/postmaster.pid" ] && kill -TERM "$(head -1 "$pgdir/pgdata/postmaster.pid")" 2>/dev/null
  wait "$pg_pid" 2>/dev/null
  pg_pid=
}
# the port may be held by a client connection for a moment (see scripts/cluster): the final
# server then fails to bind after set-up; starting again on the same data directory is the update path
started() {
  for _ in $(seq 1 5); do
    entrypoint && return 0
    wait "$pg_pid" 2>/dev/null
    tail -5 "$work/entrypoint.log" | grep -q "Address already in use" || return 1
    sleep 1
  done
  return 1
}
started
ok $? "scripts/db-entrypoint sets up a new data directory and serves on 127.0.0.1:$port"
[ $? = 0 ] || tail -20 "$work/entrypoint.log" | sed 's/^/  # /'
bail
proxy="postgresql://multistore_proxy@127.0.0.1:$port/multistore"
owner="postgresql://postgres@127.0.0.1:$port/multistore"
PGPASSWORD=wrong psql "$owner" -XAtc "SELECT 1" >/dev/null 2>&1
[ $? -ne 0 ]
ok $? "TCP logins need the password (scram-sha-256)"
is "$(PGPASSWORD=pg-secret-1 psql "$owner" -XAtc "SELECT extversion FROM pg_extension WHERE extname = 'multistore'")" "$version" \
   "the owner logs in with POSTGRES_PASSWORD: multistore $version"
is "$(PGPASSWORD=pg-secret-1 psql "$owner" -XAtc "SELECT count(*) FROM cron.job WHERE jobname LIKE 'multistore-%'")" 4 \
   "pg_cron is preloaded and the four jobs are scheduled"
is "$(PGPASSWORD=proxy-secret-2 psql "$proxy" -XAtc "SELECT multistore.store_get('store_1')::jsonb->'store'->>'id'" 2>&1)" store_1 \
   "multistore_proxy logs in with PROXY_DB_PASSWORD and calls the API (the sample data is there)"
PGPASSWORD=proxy-secret-2 psql "$proxy" -XAtc "SELECT count(*) FROM multistore.users" >/dev/null 2>&1
[ $? -ne 0 ]
ok $? "and cannot read a table"
stop_pg
started
ok $? "started again on the same data directory (the update path: make migrate), it serves"
grep -q "is current" "$work/entrypoint.log"
ok $? "having found the extension current"
is "$(PGPASSWORD=proxy-secret-2 psql "$proxy" -XAtc "SELECT count(*) > 5 FROM json_array_elements(multistore.stores_nearby(40.7589, -73.9851, 100, 100)->'stores')" 2>&1)" t \
   "with its data"
stop_pg

ops_done
