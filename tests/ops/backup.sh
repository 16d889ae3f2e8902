#!/usr/bin/env bash
# tests/ops/backup.sh: scripts/backup, then scripts/restore into a new
# database of a new cluster, loses nothing.  TAP; run by make test (suite
# "backup").
#
# The source is make test's database ($OPS_ADMIN_URL) after every other
# suite ran in it, plus tests/ops/fill*.sql (rows in every table through
# the API; tests/ops/filled.sql fails on a table left empty) and pg_cron's
# jobs.  scripts/backup (pg_dump -Fc) writes the dump (retention and
# upload tried too); a fresh cluster "ops-restore" on 127.0.0.1:56342 gets
# it through scripts/restore.
# Then, per table of the extension, the row count and an md5 of every row
# must be equal on both sides, the jobs too; and a proxy on 127.0.0.1:6102
# in front of the restored database serves what fill.sql wrote
# (tests/ops/journey.mjs restored).  About 15 s.
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/lib.sh"
cd "$MS_ROOT" || exit 1
src=${OPS_ADMIN_URL:-${DATABASE_URL:?}}
restore_port=56342
proxy_port=6102
work="$MS_RUN/ops-backup"
db=$(psql "$src" -XAtc "SELECT current_database()") || die "cannot reach $src"

cleanup() {
  stop_proxy
  [ -n "${MS_KEEP_OPS_CLUSTERS:-}" ] || scripts/cluster remove ops-restore >/dev/null 2>&1
}
trap cleanup EXIT
rm -rf "$work" && mkdir -p "$work/backups" "$work/uploaded"

# --- the source ---------------------------------------------------------------
if [ -z "$(psql "$src" -XAtc "SELECT 1 FROM multistore.stores WHERE id = 'ops_store'")" ]; then
  fill "$src"
  ok $? "tests/ops/fill*.sql put rows in every table of the extension through its API" ; bail
fi
psql "$src" -X -qAt -o /dev/null -c "SELECT multistore.jobs_schedule()" -c "SELECT multistore.reservations_expire(), multistore.orders_expire()"
ok $? "the source has its pg_cron jobs, and nothing overdue (the sweeps ran)"
rows=$(fingerprint "$src" | awk -F'|' '{n += $2} END {print n}')
tables=$(fingerprint "$src" | wc -l)
note "source: $db, $tables tables, $rows rows"

# retention: a dump of this database 20 days old goes, one of another database and a recent one stay
touch -d '20 days ago' "$work/backups/multistore-$db-20000101T000000Z-v0.0.1.dump" \
  "$work/backups/multistore-otherdb-20000101T000000Z-v0.0.1.dump"
touch -d '2 days ago' "$work/backups/multistore-$db-20000102T000000Z-v0.0.1.dump"

# --- the backup (the source must not change while it runs: checked around it) ----------
for _ in 1 2 3; do
  before=$(fingerprint "$src")
  file=$(DATABASE_URL=$src BACKUP_RETENTION_DAYS=7 BACKUP_UPLOAD_COMMAND="cp \"\$1\" '$work/uploaded/'" \
         scripts/backup "$work/backups" 2> "$work/backup.log")
  status=$?
  after=$(fingerprint "$src")
  [ "$before" = "$after" ] && break
  note "the source changed while it was dumped (a pg_cron job?): again"
done
ok $status "scripts/backup wrote $(basename "${file:-nothing}")"; bail
[[ "$(basename "$file")" =~ ^multistore-$db-[0-9]{8}T[0-9]{6}Z-v[0-9.]+\.dump$ ]]
ok $? "named by database, UTC time and extension version"
(cd "$work/backups" && sha256sum --quiet -c "$(basename "$file").sha256")
ok $? "with a checksum that matches"
[ ! -e "$work/backups/multistore-$db-20000101T000000Z-v0.0.1.dump" ] &&
  [ -e "$work/backups/multistore-$db-20000102T000000Z-v0.0.1.dump" ] &&
  [ -e "$work/backups/multistore-otherdb-20000101T000000Z-v0.0.1.dump" ]
ok $? "retention (7 days): the 20-day-old dump of this database went; a 2-day-old one and another database's stayed"
cmp -s "$file" "$work/uploaded/$(basename "$file")" && [ -f "$work/uploaded/$(basename "$file").sha256" ]
ok $? "BACKUP_UPLOAD_COMMAND got the dump and its checksum"
pg_restore --list "$file" | grep -q "TABLE DATA multistore orders"
ok $? "the dump holds the extension's rows (TABLE DATA of its tables)"

# --- a new cluster, a new database ---------------------------------------------
scripts/cluster remove ops-restore >/dev/null 2>&1
scripts/cluster start ops-restore "$restore_port" "$db" --fast 2>&1 | sed 's/^/    /'
dst=$(scripts/cluster url ops-restore "$restore_port" "$db")
[ -z "$(psql "$dst" -XAtc "SELECT 1 FROM pg_extension WHERE extname = 'multistore'")" ]
ok $? "the new database is empty"; bail
DATABASE_URL=$dst scripts/restore "$file" 2> "$work/restore.log"
ok $? "scripts/restore restored it"; bail
sed 's/^/    /' "$work/restore.log"
restored=$(fingerprint "$dst")
if [ "$restored" = "$after" ]; then
  ok 0 "every table of the extension: same row count and the same rows (md5), $tables tables, $rows rows"
else
  ok 1 "every table of the extension: same row count and the same rows (md5)"
  diff <(echo "$after") <(echo "$restored") | sed 's/^/  # /'
fi
is "$(cron_jobs "$dst")" "$(cron_jobs "$src")" "the pg_cron jobs came back with it"
is "$(psql "$dst" -XAtc "SELECT extversion FROM pg_extension WHERE extname = 'multistore'")" \
   "$(psql "$src" -XAtc "SELECT extversion FROM pg_extension WHERE extname = 'multistore'")" "the same extension version"
DATABASE_URL=$dst scripts/restore "$file" 2>/dev/null
[ $? -ne 0 ]
ok $? "scripts/restore refuses a database that already holds multistore"
# a database where pg_cron does not run (it runs in one database per cluster)
psql "$dst" -XAtqc "CREATE DATABASE multistore_elsewhere"
elsewhere=$(scripts/cluster url ops-restore "$restore_port" multistore_elsewhere)
DATABASE_URL=$elsewhere scripts/restore "$file" 2> "$work/restore-elsewhere.log"
ok $? "restored into a database without pg_cron too"
grep -q "pg_cron is not preloaded for this database: its jobs are left out" "$work/restore-elsewhere.log"
ok $? "leaving pg_cron and its jobs out, and saying so"
is "$(fingerprint "$elsewhere")" "$after" "with every row of the extension's tables all the same"

# --- the restored database serves -----------------------------------------------
proxy_url=$(DATABASE_URL=$dst scripts/proxy-role multistore_proxy)
start_proxy "$proxy_port" "$work/proxy.log" DATABASE_URL="$proxy_url"
ok $? "a proxy starts on the restored database as $proxy_url"; bail
node tests/ops/journey.mjs "http://127.0.0.1:$proxy_port" restored | sed 's/^/    /'
ok "${PIPESTATUS[0]}" "the API serves what was written before the backup (logins, orders, cart, stock)"
node tests/ops/journey.mjs "http://127.0.0.1:$proxy_port" shop 2 | sed 's/^/    /'
ok "${PIPESTATUS[0]}" "and takes new orders"

ops_done
