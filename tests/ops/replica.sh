#!/usr/bin/env bash
# tests/ops/replica.sh: public reads from a real hot standby, and back to
# the primary when it lags or is down.  TAP; run by make test (suite
# "replica").
#
# The primary is make test's cluster ($OPS_ADMIN_URL); the standby
# "ops-standby" on 127.0.0.1:56343 is made in the test with
# pg_basebackup -R.  A proxy on 127.0.0.1:6103 has DATABASE_READ_URL on the
# standby and REPLICA_MAX_LAG=3.  A store renamed on the primary shows
# which database answered: with replay paused on the standby the old name
# comes from the replica while its lag is small, the new one from the
# primary once it lags more than 3 s; after replay resumes the replica
# answers again; cart, orders and auth never touch it; stopped, the
# primary answers.  /metrics counts each case.  About 15 s.
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/lib.sh"
cd "$MS_ROOT" || exit 1
primary=${OPS_ADMIN_URL:-${DATABASE_URL:?}}
standby_port=56343
proxy_port=6103
work="$MS_RUN/ops-replica"
db=$(psql "$primary" -XAtc "SELECT current_database()") || die "cannot reach $primary"

cleanup() {
  stop_proxy
  [ -n "${MS_KEEP_OPS_CLUSTERS:-}" ] || scripts/cluster remove ops-standby >/dev/null 2>&1
}
trap cleanup EXIT
rm -rf "$work" && mkdir -p "$work"

# --- a hot standby of the primary ------------------------------------------------
scripts/cluster remove ops-standby >/dev/null 2>&1
dir=$(scripts/cluster dir ops-standby) || die "no directory for the standby"
as_pg "$PG_BINDIR/pg_basebackup" -d "$primary" -D "$dir/data" -R -X stream -c fast 2> "$work/basebackup.log"
ok $? "pg_basebackup -R copied the primary"; bail
as_pg tee -a "$dir/data/postgresql.conf" >/dev/null <<CONF
# --- the standby of tests/ops/replica.sh ---
port = $standby_port
unix_socket_directories = '$dir/sock'
hot_standby = on
CONF
scripts/cluster start ops-standby "$standby_port" "$db" 2>&1 | sed 's/^/    /'
standby=$(scripts/cluster url ops-standby "$standby_port" "$db")
is "$(psql "$standby" -XAtc 'SELECT pg_is_in_recovery()')" t "the standby runs, in recovery"; bail

sql_p() { psql "$primary" -X -qAt -v ON_ERROR_STOP=1 "$@"; }
sql_s() { psql "$standby" -X -qAt -v ON_ERROR_STOP=1 "$@"; }
admin=$(sql_p -c "SELECT multistore.session_login('{\"email\":\"admin@example.com\",\"password\":\"multistore-demo\"}')->'session'->>'id'")
original=$(sql_p -c "SELECT name FROM multistore.stores WHERE id = 'store_5'")
rename() { sql_p -c "SELECT multistore.store_update('$admin', 'store_5', '{\"name\":\"$1\"}')" >/dev/null; }
# waits until the standby has replayed the name
replayed() {
  for _ in $(seq 1 100); do
    [ "$(sql_s -c "SELECT name FROM multistore.stores WHERE id = 'store_5'")" = "$1" ] && return 0
    sleep 0.05
  done
  return 1
}
name() { curl -fs "http://127.0.0.1:$proxy_port/api/stores/store_5" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).store.name))'; }
metric() { curl -fs "http://127.0.0.1:$proxy_port/metrics" | awk -v m="$1" '$1 == m {print $2}'; }

# --- the proxy -------------------------------------------------------------------
proxy_primary=$(DATABASE_URL=$primary scripts/proxy-role multistore_proxy)
proxy_standby=$(printf '%s' "$standby" | sed -E 's#^(postgres(ql)?://)([^@/]*@)?#\1multistore_proxy@#')
start_proxy "$proxy_port" "$work/proxy.log" DATABASE_URL="$proxy_primary" DATABASE_READ_URL="$proxy_standby" REPLICA_MAX_LAG=3
ok $? "a proxy with DATABASE_READ_URL on the standby (both as multistore_proxy)"; bail

rename "Replica A"; replayed "Replica A"
ok $? "a rename on the primary reaches the standby"
sleep 1.1   # the lag measure is at most a second old: a fresh one
reads0=$(metric multistore_db_replica_reads_total)
is "$(name)" "Replica A" "GET /api/stores/store_5"
is "$(metric multistore_db_replica_reads_total)" "$((reads0 + 1))" "answered by the replica (multistore_db_replica_reads_total + 1)"

# replay paused: the replica keeps the old name
sql_s -c "SELECT pg_wal_replay_pause()" >/dev/null
rename "Replica B"
is "$(name)" "Replica A" "replay paused, a new rename on the primary: the replica still answers, with the old name (lag under 3 s)"
is "$(sql_p -c "SELECT name FROM multistore.stores WHERE id = 'store_5'")" "Replica B" "(the primary has the new one)"
lag0=$(metric 'multistore_db_replica_fallbacks_total{reason="lag"}')
sleep 4.2   # past REPLICA_MAX_LAG, and a fresh measure
is "$(name)" "Replica B" "4 s later the replica lags more than REPLICA_MAX_LAG: the primary answers, with the new name"
[ "$(metric 'multistore_db_replica_fallbacks_total{reason="lag"}')" -gt "$lag0" ]
ok $? "multistore_db_replica_fallbacks_total{reason=\"lag\"} says so"
awk -v l="$(metric multistore_db_replica_lag_seconds)" 'BEGIN {exit !(l > 3)}'
ok $? "multistore_db_replica_lag_seconds shows the lag ($(metric multistore_db_replica_lag_seconds) s)"

# replay resumed: back to the replica
sql_s -c "SELECT pg_wal_replay_resume()" >/dev/null
replayed "Replica B"
ok $? "replay resumed: the standby catches up"
sleep 1.1
reads1=$(metric multistore_db_replica_reads_total)
is "$(name)" "Replica B" "GET /api/stores/store_5 after the catch-up"
is "$(metric multistore_db_replica_reads_total)" "$((reads1 + 1))" "answered by the replica again"

# what a user writes and reads back stays on the primary
reads2=$(metric multistore_db_replica_reads_total)
stock_up "$primary"
node tests/ops/journey.mjs "http://127.0.0.1:$proxy_port" shop 2 > "$work/journey.tap"
ok $? "two customers' journeys (auth, cart, orders) pass with the replica configured"
browsing=$(grep -c '^ok .* browse ' "$work/journey.tap")
is "$(metric multistore_db_replica_reads_total)" "$((reads2 + browsing))" \
   "and only their $browsing public reads (nearby, availability) went to the replica: no auth, cart or order route did"

# the standby stopped: the primary answers
scripts/cluster stop ops-standby >/dev/null 2>&1
down0=$(metric 'multistore_db_replica_fallbacks_total{reason="down"}')
rename "Replica C"
t0=$(date +%s%N)
is "$(name)" "Replica C" "the standby stopped: the primary answers, with the newest name"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$ms" -lt 2500 ]
ok $? "at once (${ms} ms)"
[ "$(metric 'multistore_db_replica_fallbacks_total{reason="down"}')" -gt "$down0" ]
ok $? "multistore_db_replica_fallbacks_total{reason=\"down\"} says so"
is "$(metric multistore_db_replica_lag_seconds)" "-1.000" "and the lag gauge says unreachable (-1)"
rename "$original"

ops_done
