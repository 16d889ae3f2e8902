#!/usr/bin/env bash
# tests/ops/pgbouncer.sh: the proxy through a real pgbouncer (Debian's) in
# transaction pooling mode.  TAP; run by make test (suite "pgbouncer").
#
# pgbouncer on 127.0.0.1:6110 (pool_mode = transaction, 2 server connections
# for the proxy's 6) in front of the database of $OPS_ADMIN_URL (make test's
# cluster); the proxy on 127.0.0.1:6101 with DB_PREPARED_STATEMENTS=off logs
# in as multistore_proxy through it.  Then six customers at once go through
# the whole journey (tests/ops/journey.mjs): consecutive transactions of one
# proxy connection land on different server connections, so any session
# state (a named statement, a SET) would break or leak.  Then: the statement
# timeout is applied per transaction (1 ms: calls are cancelled, 503) and
# is not left behind on the server connections.  Control: through a second
# pgbouncer (6111) that drops start-up options, the proxy with named
# statements fails under the same pooling.  About 10 s.
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/lib.sh"
cd "$MS_ROOT" || exit 1
admin_url=${OPS_ADMIN_URL:-${DATABASE_URL:?}}
bouncer_port=6110
control_port=6111
proxy_port=6101
command -v pgbouncer >/dev/null || die "pgbouncer is missing (scripts/deps installs it)"

db=$(psql "$admin_url" -XAtc "SELECT current_database()")
host_port=$(psql "$admin_url" -XAtc "SELECT host(inet_server_addr()) || ' ' || current_setting('port')")
read -r db_host db_port <<< "$host_port"
DATABASE_URL=$admin_url scripts/proxy-role multistore_proxy >/dev/null || die "cannot create the proxy's role"
stock_up "$admin_url" || die "cannot stock store_1 for the journeys"

# every function of the route table is one the proxy's role may execute (each overload)
routed=$("${MS_PROXY_BIN:-proxy/multistore-proxy}" --routes | grep -o 'multistore\.[a-z_0-9]*' | sort -u | tr '\n' ' ')
denied=$(psql "$admin_url" -XAt -v ON_ERROR_STOP=1 -c "SELECT coalesce(string_agg(p.oid::regprocedure::text, ' '), '')
  FROM pg_proc p WHERE p.pronamespace = 'multistore'::regnamespace
   AND p.proname = ANY (string_to_array(trim('${routed//multistore./}'), ' '))
   AND NOT has_function_privilege('multistore_proxy', p.oid, 'EXECUTE')")
is "${denied:-none}" none "multistore_proxy may execute every function of the route table ($(wc -w <<< "$routed") functions)"

dir=$(mktemp -d /tmp/multistore-pgbouncer.XXXXXX) || die "mktemp failed"
bouncer_pid=
cleanup() {
  stop_proxy
  # pgbouncer runs under runuser when we are root: signal it by its own pid file
  if [ -s "$dir/pgbouncer.pid" ]; then kill -TERM "$(cat "$dir/pgbouncer.pid")" 2>/dev/null || true; fi
  if [ -s "$dir/control.pid" ]; then kill -TERM "$(cat "$dir/control.pid")" 2>/dev/null || true; fi
  if [ -n "$bouncer_pid" ]; then kill -TERM "$bouncer_pid" 2>/dev/null || true; wait "$bouncer_pid" 2>/dev/null || true; fi
  cp "$dir/pgbouncer.log" "$MS_RUN/ops-pgbouncer.log" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
cat > "$dir/pgbouncer.ini" <<INI
[databases]
$db = host=$db_host port=$db_port dbname=$db

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bouncer_port
unix_socket_dir =
auth_type = trust
auth_file = $dir/users.txt
pool_mode = transaction
default_pool_size = 2
max_client_conn = 200
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
admin_users = multistore_proxy
INI
printf '"multistore_proxy" ""\n' > "$dir/users.txt"
if [ "$(id -u)" = 0 ]; then chown -R "$(pg_os_user)" "$dir"; fi
mkdir -p "$MS_RUN"
# pgbouncer refuses to run as root: as PostgreSQL's user, like the clusters
as_pg pgbouncer "$dir/pgbouncer.ini" > "$dir/stdout.log" 2>&1 &
bouncer_pid=$!
for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$bouncer_port") 2>/dev/null && break; sleep 0.1; done
pooled="postgresql://multistore_proxy@127.0.0.1:$bouncer_port/$db"
is "$(PGCONNECT_TIMEOUT=5 psql "$pooled" -XAtc 'SELECT current_user' 2>&1)" multistore_proxy \
  "pgbouncer answers on $bouncer_port, as multistore_proxy"
bail

start_proxy "$proxy_port" "$MS_RUN/ops-pgbouncer-proxy.log" DATABASE_URL="$pooled" DB_PREPARED_STATEMENTS=off DB_POOL_SIZE=6
ok $? "the proxy starts with DB_PREPARED_STATEMENTS=off through pgbouncer"
bail

node tests/ops/journey.mjs "http://127.0.0.1:$proxy_port" shop 6 | sed 's/^/    /'
ok "${PIPESTATUS[0]}" "six customers' journeys through pgbouncer in transaction mode, every answer right"

# twelve logins at once (Argon2id: each holds its connection a while) open all six of the proxy's
logins=$(for _ in $(seq 1 12); do
           curl -s -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$proxy_port/api/auth/login" -H 'content-type: application/json' \
             -d '{"email":"customer@example.com","password":"multistore-demo"}' &
         done; wait)
is "$(sort -u <<< "$logins" | tr '\n' ' ')" "200 " "twelve logins at once through pgbouncer"
servers=$(psql "postgresql://multistore_proxy@127.0.0.1:$bouncer_port/pgbouncer" -XAt -c "SHOW SERVERS" |
  awk -F'|' -v db="$db" '$2 == "multistore_proxy" && $3 == db' | wc -l)
clients=$(psql "postgresql://multistore_proxy@127.0.0.1:$bouncer_port/pgbouncer" -XAt -c "SHOW CLIENTS" |
  awk -F'|' -v db="$db" '$2 == "multistore_proxy" && $3 == db' | wc -l)
[ "$servers" -ge 1 ] && [ "$servers" -le 2 ] && [ "$clients" -gt "$servers" ]
ok $? "the proxy's connections ($clients clients of pgbouncer) shared $servers server connections (at most 2)"
grep -q '"preparedStatements":false' "$MS_RUN/ops-pgbouncer-proxy.log"
ok $? "the proxy says it runs without named statements"
errors=$(grep -c '"database call failed"' "$MS_RUN/ops-pgbouncer-proxy.log" || true)
is "$errors" 0 "no database call failed"
stop_proxy

# the timeout goes with each transaction, and stays there
start_proxy "$proxy_port" "$MS_RUN/ops-pgbouncer-proxy-timeout.log" DATABASE_URL="$pooled" DB_PREPARED_STATEMENTS=off \
  DB_POOL_SIZE=2 DB_STATEMENT_TIMEOUT=1
status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$proxy_port/api/auth/login" -H 'content-type: application/json' \
  -d '{"email":"customer@example.com","password":"multistore-demo"}')
is "$status" 503 "DB_STATEMENT_TIMEOUT=1 (ms) cancels a login (Argon2id) through pgbouncer: 503"
grep -q '"sqlstate":"57014"' "$MS_RUN/ops-pgbouncer-proxy-timeout.log"
ok $? "cancelled by statement_timeout (57014), so the per-transaction setting reached the server"
stop_proxy
leftover=$(for _ in 1 2 3 4; do psql "$pooled" -XAtc "SHOW statement_timeout"; done | sort -u | tr '\n' ' ')
is "$leftover" "0 " "no server connection kept the timeout after its transaction"

# control: what the switch prevents.  A second pgbouncer that drops the
# start-up option instead of refusing it, and the proxy with named statements:
# connections that share server connections collide on the statement names.
sed -e "s/^listen_port = .*/listen_port = $control_port/" -e "s|^pidfile = .*|pidfile = $dir/control.pid|" \
    -e "s|^logfile = .*|logfile = $dir/control.log|" -e "s/^\[pgbouncer\]$/[pgbouncer]\nignore_startup_parameters = options/" \
    "$dir/pgbouncer.ini" > "$dir/control.ini"
if [ "$(id -u)" = 0 ]; then chown "$(pg_os_user)" "$dir/control.ini"; fi
as_pg pgbouncer -d "$dir/control.ini" > /dev/null 2>&1
start_proxy "$proxy_port" "$MS_RUN/ops-pgbouncer-proxy-control.log" \
  DATABASE_URL="postgresql://multistore_proxy@127.0.0.1:$control_port/$db" DB_PREPARED_STATEMENTS=on DB_POOL_SIZE=6
# whether two connections meet on one server connection is a matter of timing:
# up to five rounds of 40 concurrent reads over three routes until they do
failures=0
rounds=0
while [ "$failures" -eq 0 ] && [ "$rounds" -lt 5 ]; do
  rounds=$((rounds + 1))
  codes=$(for i in $(seq 1 40); do
            case $((i % 3)) in
              0) path="/api/stores/store_$((i % 9 + 1))" ;;
              1) path="/api/stores/store_$((i % 9 + 1))/availability?productIds=prod_1" ;;
              *) path="/api/products/prod_$((i % 9 + 1))" ;;
            esac
            curl -s -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$proxy_port$path" &
          done; wait)
  failures=$(grep -c '^500$' <<< "$codes")
done
stop_proxy
[ "$failures" -gt 0 ] && grep -q 'prepared statement' "$MS_RUN/ops-pgbouncer-proxy-control.log"
ok $? "control: with named statements the same pooling breaks ($failures of 40 concurrent reads in round $rounds: prepared statement errors)"

ops_done
