#!/usr/bin/env bash
# tests/ops/pitr.sh: point-in-time recovery with WAL archiving to a local
# directory, pg_basebackup and scripts/pitr-restore.  TAP; run by make test
# (suite "pitr").
#
# A cluster of its own, "ops-pitr" on 127.0.0.1:56344 (archive_mode on,
# archive_command cp to a local directory), with the extension.  A base
# backup; then a first write (a store created through the API), the time
# T, a second write, a WAL switch; the archive catches up.  The base backup
# recovered to T on 127.0.0.1:56345 has the first store and not the second,
# and promotes itself.  About 15 s.
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/lib.sh"
cd "$MS_ROOT" || exit 1
port=56344
restore_port=56345
db=multistore_pitr

restored=
cleanup() {
  if [ -n "$restored" ] && [ -f "$restored/postmaster.pid" ]; then
    as_pg "$PG_BINDIR/pg_ctl" -D "$restored" -m immediate -w stop >/dev/null 2>&1
  fi
  [ -n "${MS_KEEP_OPS_CLUSTERS:-}" ] || scripts/cluster remove ops-pitr >/dev/null 2>&1
}
trap cleanup EXIT

scripts/cluster remove ops-pitr >/dev/null 2>&1
dir=$(scripts/cluster dir ops-pitr) || die "no directory for the cluster"
as_pg mkdir -p "$dir/archive"
scripts/cluster start ops-pitr "$port" "$db" --fast 2>&1 | sed 's/^/    /'
scripts/cluster stop ops-pitr >/dev/null
as_pg tee -a "$dir/data/postgresql.conf" >/dev/null <<CONF
# --- WAL archiving (tests/ops/pitr.sh) ---
wal_level = replica
archive_mode = on
archive_command = 'test ! -f "$dir/archive/%f" && cp "%p" "$dir/archive/%f"'
CONF
scripts/cluster start ops-pitr "$port" "$db" >/dev/null 2>&1
url=$(scripts/cluster url ops-pitr "$port" "$db")
sql() { psql "$url" -X -qAt -v ON_ERROR_STOP=1 "$@"; }
is "$(sql -c 'SHOW archive_mode')" on "the cluster archives its WAL into $dir/archive"; bail
DATABASE_URL=$url scripts/migrate 2>&1 | sed 's/^/    /'
sql -o /dev/null -c "SELECT multistore_internal.user_create('pitr-admin@example.com', 'pitr-admin-password', 'P', 'A', 'admin')"
admin=$(sql -c "SELECT multistore.session_login('{\"email\":\"pitr-admin@example.com\",\"password\":\"pitr-admin-password\"}')->'session'->>'id'")
[ -n "$admin" ]
ok $? "the extension and an admin"; bail

as_pg "$PG_BINDIR/pg_basebackup" -d "$url" -D "$dir/base" -Fp -X stream -c fast 2> "$dir/basebackup.log"
ok $? "pg_basebackup took a base backup"; bail

store() {
  sql -o /dev/null -c "SELECT multistore.store_create('$admin', '{\"id\":\"$1\",\"name\":\"$1\",\"address\":\"1 WAL Street\",
    \"location\":{\"latitude\":10,\"longitude\":10},\"timeZone\":\"UTC\",\"openingHours\":{}}')"
}
store pitr_first
ok $? "the first write: store pitr_first"
sleep 1
target=$(sql -c "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'")
sleep 1
store pitr_second
ok $? "then the second, a second after the target time $target: store pitr_second"
segment=$(sql -c "SELECT pg_walfile_name(pg_switch_wal())")
for _ in $(seq 1 100); do
  [ "$(sql -c "SELECT last_archived_wal >= '$segment' FROM pg_stat_archiver")" = t ] && break
  sleep 0.1
done
is "$(sql -c "SELECT last_archived_wal >= '$segment' FROM pg_stat_archiver")" t "the WAL of both writes is archived ($segment)"

restored="$dir/restored"
as_pg "$MS_ROOT/scripts/pitr-restore" "$dir/base" "$dir/archive" "$target" "$restored" "$restore_port" 2>&1 | sed 's/^/    /'
ok "${PIPESTATUS[0]}" "scripts/pitr-restore prepared $restored"; bail
# (its port may be held by a client connection for a moment: see scripts/cluster)
for _ in $(seq 1 10); do
  as_pg "$PG_BINDIR/pg_ctl" -D "$restored" -l "$dir/restored.log" -w -t 60 start >/dev/null && break
  tail -5 "$dir/restored.log" | grep -q "Address already in use" || break
  sleep 1
done
pg_ctl_status=$(as_pg "$PG_BINDIR/pg_ctl" -D "$restored" status >/dev/null 2>&1; echo $?)
ok "$pg_ctl_status" "the recovered server starts"; bail
rurl="postgresql://postgres@127.0.0.1:$restore_port/$db"
for _ in $(seq 1 100); do
  [ "$(psql "$rurl" -XAtc 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ] && break
  sleep 0.1
done
is "$(psql "$rurl" -XAtc 'SELECT pg_is_in_recovery()')" f "it reached the target and promoted itself"
is "$(psql "$rurl" -XAtc "SELECT string_agg(id, ',' ORDER BY id) FROM multistore.stores WHERE id LIKE 'pitr_%'")" \
   pitr_first "recovered to the target: the first write is there, the second is not"
is "$(sql -c "SELECT string_agg(id, ',' ORDER BY id) FROM multistore.stores WHERE id LIKE 'pitr_%'")" \
   pitr_first,pitr_second "(the original has both)"
grep -q "recovery stopping before commit of transaction" "$dir/restored.log"
ok $? "PostgreSQL says it stopped before the second write's commit"
psql "$rurl" -XAtc "SELECT (multistore.store_get('pitr_first')::jsonb)->'store'->>'id'" | grep -qx pitr_first
ok $? "and the recovered database answers the API"

ops_done
