# shellcheck shell=bash
# tests/ops/lib.sh: what the operations tests share (sourced after
# scripts/lib.sh): TAP output, the proxy, table fingerprints.

# a failed check is counted and reported, not the end of the script: setup
# steps say themselves when they must stop it (|| die, bail)
set +e

ops_n=0
ops_failed=0
# the proxies these tests start and journey.mjs sign payments with it
export PAYMENT_WEBHOOK_SECRET=${PAYMENT_WEBHOOK_SECRET:-ops-payment-$(openssl rand -hex 8)}
# ok COND_STATUS DESCRIPTION: one TAP line from the exit status of the last test
ok() {
  local status=$1; shift
  ops_n=$((ops_n + 1))
  if [ "$status" = 0 ]; then echo "ok $ops_n - $*"; else echo "not ok $ops_n - $*"; ops_failed=$((ops_failed + 1)); fi
}
# is GOT WANT DESCRIPTION
is() {
  if [ "$1" = "$2" ]; then ok 0 "$3"; else ok 1 "$3"; echo "  # got:  $1"; echo "  # want: $2"; fi
}
# bail: stop here (with the plan so far) when a check has failed
bail() {
  [ "$ops_failed" = 0 ] && return 0
  echo "# stopping: the checks after this one need what failed"
  ops_done || true
  exit 1
}
ops_done() {
  echo "1..$ops_n"
  [ "$ops_failed" = 0 ]
}

# start_proxy PORT LOG [VAR=value ...]: the proxy in the background; its pid in $proxy_pid
start_proxy() {
  local port=$1 log=$2; shift 2
  env PORT="$port" HOST=127.0.0.1 LOG_LEVEL=info JWT_SECRET="ops-test-$(openssl rand -hex 16)" \
    RATE_LIMIT_AUTH_PER_MINUTE=100000 RATE_LIMIT_READ_PER_MINUTE=1000000 RATE_LIMIT_WRITE_PER_MINUTE=1000000 \
    "$@" "${MS_PROXY_BIN:-$MS_ROOT/proxy/multistore-proxy}" > "$log" 2>&1 &
  proxy_pid=$!
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && return 0
    kill -0 "$proxy_pid" 2>/dev/null || break
    sleep 0.1
  done
  tail -5 "$log" >&2
  return 1
}
stop_proxy() {
  if [ -n "${proxy_pid:-}" ] && kill -0 "$proxy_pid" 2>/dev/null; then
    kill -TERM "$proxy_pid" 2>/dev/null || true
    wait "$proxy_pid" 2>/dev/null || true
  fi
  proxy_pid=
}

# fingerprint URL: one line per table of the extension (and each sequence):
# name, row count, md5 of its rows in a fixed order
fingerprint() {
  psql "$1" -X -qAt -v ON_ERROR_STOP=1 <<'SQL'
SET client_min_messages = warning;
SET timezone = 'UTC';
SET extra_float_digits = 3;
SELECT format('SELECT %L, count(*), md5(coalesce(string_agg(t::text, E''\n'' ORDER BY t::text), '''')) FROM %s t',
              c.oid::regclass::text, c.oid::regclass)
  FROM pg_class c
 WHERE c.relnamespace IN ('multistore'::regnamespace, 'multistore_internal'::regnamespace) AND c.relkind = 'r'
 ORDER BY 1 \gexec
SELECT format('SELECT %L, last_value, is_called FROM %s', c.oid::regclass::text, c.oid::regclass)
  FROM pg_class c
 WHERE c.relnamespace IN ('multistore'::regnamespace, 'multistore_internal'::regnamespace) AND c.relkind = 'S'
 ORDER BY 1 \gexec
SQL
}

# cron_jobs URL: the jobs pg_cron has for that database (none without pg_cron)
cron_jobs() {
  psql "$1" -X -qAt -v ON_ERROR_STOP=1 -c "SELECT CASE WHEN to_regclass('cron.job') IS NULL THEN 'SELECT NULL WHERE false'
      ELSE 'SELECT jobname, schedule, command, database, active FROM cron.job WHERE database = current_database() ORDER BY jobname' END || ';'" |
    psql "$1" -X -qAt -v ON_ERROR_STOP=1
}

# stock_up URL: plenty of prod_1..prod_3 at store_1 for journey.mjs (as the demo admin, through the API)
stock_up() {
  psql "$1" -X -qAt -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
SELECT multistore.session_login('{"email":"admin@example.com","password":"multistore-demo"}')->'session'->>'id' AS admin \gset
SELECT multistore.inventory_set(:'admin', 'store_1', p, '{"onHand":1000000}') FROM unnest(ARRAY['prod_1', 'prod_2', 'prod_3']) p;
SELECT multistore.session_logout(:'admin');
SQL
}

# fill URL [VERSION]: rows in every table through the API: tests/ops/fill.sql
# (0.1.0's calls), then each tests/ops/fill-<v>.sql up to VERSION (default:
# all), oldest first; then tests/ops/filled.sql fails on a table left empty
fill() {
  local url=$1 upto=${2:-} f v
  psql "$url" -X -q -o /dev/null -f "$MS_ROOT/tests/ops/fill.sql" || return 1
  for f in $(ls "$MS_ROOT"/tests/ops/fill-*.sql 2>/dev/null | sort -V); do
    v=$(basename "$f" .sql); v=${v#fill-}
    if [ -n "$upto" ] && [ "$(printf '%s\n%s\n' "$v" "$upto" | sort -V | tail -1)" != "$upto" ]; then continue; fi
    psql "$url" -X -q -o /dev/null -f "$f" || return 1
  done
  psql "$url" -X -q -o /dev/null -f "$MS_ROOT/tests/ops/filled.sql"
}
