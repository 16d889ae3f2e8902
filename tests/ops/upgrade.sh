#!/usr/bin/env bash
# tests/ops/upgrade.sh: every released version (tests/ops/releases) updates
# to the current one without loss, and the result equals a fresh install.
# TAP; run by make test (suite "upgrade").
#
# For each release, as a DBA would meet it: the release's own library and
# install script, built from its commit (git archive) into a copy of this
# PostgreSQL installation (hard links; .run/ops-upgrade-pg/pg-<version>), run
# a cluster "ops-upgrade" on 127.0.0.1:56346 with pg_cron; create the
# extension at that version, fill it through that version's SQL API (its
# own sql/seed.sql, then tests/ops/fill.sql and the fill-<v>.sql of the
# versions up to it), schedule its pg_cron jobs.  Then the
# same data directory is started with the current installation and
# scripts/migrate (make migrate) runs ALTER EXTENSION multistore UPDATE.
# Checked: (a) every row of every table, over the columns it had, is
# unchanged (count and md5); (b) the schema (tests/ops/schema.sql:
# functions, tables, columns, indexes, constraints, grants, comments,
# pg_dump registrations) equals a fresh install of the current version in
# a new database, or the differing lines are shown; (c) the pg_cron jobs are
# still scheduled; and the API serves the old data through a proxy
# (127.0.0.1:6104).  Needs the git history (a full clone).  About 40 s.
source "$(dirname "$0")/../../scripts/lib.sh"
source "$(dirname "$0")/lib.sh"
cd "$MS_ROOT" || exit 1
port=56346
proxy_port=6104
db=multistore_upgrade
work="$MS_RUN/ops-upgrade-work"
current=$(sed -n "s/^default_version = '\(.*\)'/\1/p" multistore.control)
real_pg_config=$(command -v pg_config)

cleanup() {
  stop_proxy
  [ -n "${MS_KEEP_OPS_CLUSTERS:-}" ] || scripts/cluster remove ops-upgrade >/dev/null 2>&1
  # the copies of PostgreSQL (hard links where the file system allows, else 100 MB each)
  scripts/cluster remove ops-upgrade-pg >/dev/null 2>&1
}
trap cleanup EXIT
mkdir -p "$work"

[ -f "$(pg_config --sharedir)/extension/multistore--$current.sql" ] ||
  die "multistore $current is not installed in $(pg_config --sharedir) (make install; make test does)"

# old_install VERSION COMMIT: a copy of this PostgreSQL installation with
# the release's library, control file and install script; prints its bindir
old_install() {
  local version=$1 commit=$2 src="$work/src-$1" root
  local bindir pkglibdir sharedir prefix rel
  # where PostgreSQL's user can reach it (scripts/cluster's rule), and not in the cluster's own directory
  root="$(scripts/cluster dir ops-upgrade-pg)/pg-$version" || return 1
  if [ ! -f "$src/multistore.so" ] || [ "$(cat "$src/.commit" 2>/dev/null)" != "$commit" ]; then
    rm -rf "$src" && mkdir -p "$src"
    git archive "$commit" Makefile multistore.control extension sql | tar -x -C "$src" || return 1
    make -C "$src" -s -j2 PG_CONFIG="$real_pg_config" multistore.so "sql/multistore--$version.sql" >"$work/build-$version.log" 2>&1 ||
      { tail -20 "$work/build-$version.log" >&2; return 1; }
    echo "$commit" > "$src/.commit"
  fi
  bindir=$("$real_pg_config" --bindir) pkglibdir=$("$real_pg_config" --pkglibdir) sharedir=$("$real_pg_config" --sharedir)
  # PostgreSQL finds its lib and share directories relative to its binaries: keep the layout under a new prefix
  prefix=$(printf '%s\n%s\n%s\n' "$bindir" "$pkglibdir" "$sharedir" | sed -e 'N;N;s/^\(.*\/\).*\n\1.*\n\1.*$/\1/')
  rm -rf "$root"
  for d in "$bindir" "$pkglibdir" "$sharedir"; do
    rel=${d#"$prefix"}
    mkdir -p "$root/$(dirname "$rel")"
    cp -al "$d" "$root/$rel" 2>/dev/null || cp -a "$d" "$root/$rel" || return 1
  done
  # never write through a hard link into the real installation: remove, then copy
  rm -f "$root/${pkglibdir#"$prefix"}/multistore.so" "$root/${sharedir#"$prefix"}"/extension/multistore*
  cp "$src/multistore.so" "$root/${pkglibdir#"$prefix"}/multistore.so"
  cp "$src/multistore.control" "$src/sql/multistore--$version.sql" "$root/${sharedir#"$prefix"}/extension/"
  echo "$root/${bindir#"$prefix"}"
}

git cat-file -e "$(awk '!/^#/ && NF {print $2; exit}' tests/ops/releases)^{commit}" 2>/dev/null ||
  die "the released commits are not in this clone: the upgrade test needs the history (git fetch --unshallow)"

while read -r version commit; do
  [[ -z "$version" || "$version" == \#* ]] && continue
  [ "$version" = "$current" ] && continue
  note "release $version ($commit) -> $current"
  old_bin=$(old_install "$version" "$commit")
  ok $? "$version's library and install script, built from ${commit:0:7}, in a copy of PostgreSQL"; bail
  is "$(PATH="$old_bin:$PATH" pg_config --pkglibdir)" "$(dirname "$old_bin")/lib" "(a copy whose \$libdir is its own)"

  # --- the old version, filled ---------------------------------------------------
  scripts/cluster remove ops-upgrade >/dev/null 2>&1
  PATH="$old_bin:$PATH" scripts/cluster start ops-upgrade "$port" "$db" --fast 2>&1 | sed 's/^/    /'
  url=$(scripts/cluster url ops-upgrade "$port" "$db")
  PATH="$old_bin:$PATH" DATABASE_URL=$url scripts/migrate 2>&1 | sed 's/^/    /'
  is "$(psql "$url" -XAtc "SELECT extversion || ' ' || (multistore.health()::jsonb->>'libraryVersion') FROM pg_extension WHERE extname = 'multistore'")" \
     "$version $version" "multistore $version created, running its own library"; bail
  # the release's own sample data, then the calls of its API (fill.sql and fill-<v>.sql up to it)
  psql "$url" -X -q -o /dev/null -v ON_ERROR_STOP=1 -f "$work/src-$version/sql/seed.sql" && fill "$url" "$version"
  ok $? "filled through $version's SQL API ($version's sql/seed.sql, tests/ops/fill*.sql: every table)"; bail
  psql "$url" -X -qAt -o /dev/null -c "SELECT multistore.jobs_schedule()" -c "SELECT multistore.reservations_expire(), multistore.orders_expire()"
  ok $? "its pg_cron jobs scheduled"
  jobs_before=$(cron_jobs "$url")
  # each table's rows over the columns it has now, by statements the updated database must answer too
  psql "$url" -XAt -v ON_ERROR_STOP=1 > "$work/rows-$version.sql" <<'SQL'
SELECT format('SELECT %L, count(*), md5(coalesce(string_agg(r::text, E''\n'' ORDER BY r::text), '''')) FROM (SELECT %s FROM %s) r;',
              c.oid::regclass::text, string_agg(quote_ident(a.attname), ', ' ORDER BY a.attname), c.oid::regclass)
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
 WHERE c.relnamespace IN ('multistore'::regnamespace, 'multistore_internal'::regnamespace) AND c.relkind = 'r'
 GROUP BY c.oid ORDER BY 1
SQL
  rows_before=$(psql "$url" -XAtq -v ON_ERROR_STOP=1 -c 'SET timezone = UTC' -f "$work/rows-$version.sql")
  note "$(echo "$rows_before" | wc -l) tables, $(echo "$rows_before" | awk -F'|' '{n += $2} END {print n}') rows"

  # --- the current installation on the same data directory, then make migrate ---------
  scripts/cluster stop ops-upgrade >/dev/null
  scripts/cluster start ops-upgrade "$port" "$db" >/dev/null 2>&1
  DATABASE_URL=$url scripts/migrate 2>&1 | sed 's/^/    /'
  ok "${PIPESTATUS[0]}" "make migrate (ALTER EXTENSION multistore UPDATE) on the current installation"
  is "$(psql "$url" -XAtc "SELECT extversion || ' ' || (multistore.health()::jsonb->>'libraryVersion') FROM pg_extension WHERE extname = 'multistore'")" \
     "$current $current" "now multistore $current, with its library"
  rows_after=$(psql "$url" -XAtq -v ON_ERROR_STOP=1 -c 'SET timezone = UTC' -f "$work/rows-$version.sql" 2>&1)
  if [ "$rows_after" = "$rows_before" ]; then
    ok 0 "(a) no row lost or changed: every table, over the columns it had, has the same count and md5"
  else
    ok 1 "(a) no row lost or changed"
    diff <(echo "$rows_before") <(echo "$rows_after") | sed 's/^/  # /'
  fi
  # make migrate schedules what the new version adds (jobs_schedule is idempotent): the old jobs stay as they were
  jobs_after=$(cron_jobs "$url")
  is "$(comm -23 <(echo "$jobs_before" | sort) <(echo "$jobs_after" | sort))" "" \
     "(c) the pg_cron jobs are still scheduled, unchanged (and the new version's added: $(comm -13 <(echo "$jobs_before" | sort) <(echo "$jobs_after" | sort) | cut -d'|' -f1 | tr '\n' ' '))"
  [ -n "$jobs_before" ]
  ok $? "(there were jobs to keep: $(echo "$jobs_before" | wc -l))"

  # --- the same as a fresh install? -----------------------------------------------------
  psql "$url" -XAtq -c "DROP DATABASE IF EXISTS multistore_fresh" -c "CREATE DATABASE multistore_fresh" 2>/dev/null
  fresh=$(scripts/cluster url ops-upgrade "$port" multistore_fresh)
  psql "$fresh" -XAtq -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" -c "CREATE EXTENSION multistore CASCADE"
  ok $? "a fresh install of $current in a new database"
  psql "$url" -X -q -f tests/ops/schema.sql > "$work/schema-upgraded-from-$version.txt" 2>&1
  psql "$fresh" -X -q -f tests/ops/schema.sql > "$work/schema-fresh.txt" 2>&1
  if diff -q "$work/schema-fresh.txt" "$work/schema-upgraded-from-$version.txt" >/dev/null; then
    ok 0 "(b) the updated schema equals the fresh one ($(wc -l < "$work/schema-fresh.txt") lines: functions, tables, columns, indexes, constraints, grants, comments, pg_dump registrations)"
  else
    ok 1 "(b) the updated schema equals the fresh one"
    echo "  # lines of the fresh install (-) and of the updated database (+) that differ"
    echo "  # (full listings: .run/ops-upgrade-work/schema-*.txt; fix: sql/multistore--$version--$current.sql or a later script)"
    diff -U0 "$work/schema-fresh.txt" "$work/schema-upgraded-from-$version.txt" | grep -v '^@@' | sed 's/^/  # /'
  fi
  [ "$(psql "$url" -XAtc "SELECT count(*) FROM pg_extension_update_paths('multistore') WHERE source = '$version' AND target = '$current' AND path IS NOT NULL")" = 1 ]
  ok $? "PostgreSQL knows an update path $version -> $current"

  # --- and it serves ----------------------------------------------------------------
  proxy_url=$(DATABASE_URL=$url scripts/proxy-role multistore_proxy)
  start_proxy "$proxy_port" "$work/proxy.log" DATABASE_URL="$proxy_url"
  ok $? "a proxy starts on the updated database"
  node tests/ops/journey.mjs "http://127.0.0.1:$proxy_port" restored | sed 's/^/    /'
  ok "${PIPESTATUS[0]}" "the API serves what $version's API wrote (logins, orders, cart, stock)"
  stop_proxy
done < tests/ops/releases

ops_done
