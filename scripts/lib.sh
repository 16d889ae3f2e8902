# scripts/lib.sh: what the scripts share.  Sourced, never run.
#
# Paths, step messages, the environment (.env, env.example), secrets, and
# running PostgreSQL's programs as an unprivileged user when we are root.

set -euo pipefail

MS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MS_RUN="$MS_ROOT/.run"
PG_BINDIR=$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)

# Fixed, documented ports: the make run cluster, the make test cluster, the
# proxy that make test starts.  None is 5432, so a system PostgreSQL can stay.
MS_RUN_PGPORT=${MS_RUN_PGPORT:-54329}
MS_TEST_PGPORT=${MS_TEST_PGPORT:-54339}
MS_TEST_HTTP_PORT=${MS_TEST_HTTP_PORT:-4100}

step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
note() { printf '    %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# load_env: variables already set win; then .env; then env.example.
# An empty value in a file counts as unset.
load_env() {
  local file line key value
  for file in "$MS_ROOT/.env" "$MS_ROOT/env.example"; do
    [ -f "$file" ] || continue
    while IFS= read -r line || [ -n "$line" ]; do
      line=${line%%$'\r'}
      [[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
      [[ "$line" =~ ^[[:space:]]*(export[[:space:]]+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || continue
      key=${BASH_REMATCH[2]}
      value=${BASH_REMATCH[3]}
      value=${value%\"}; value=${value#\"}; value=${value%\'}; value=${value#\'}
      [ -n "$value" ] || continue
      [ -n "${!key+x}" ] && continue
      export "$key=$value"
    done < "$file"
  done
}

# ensure_secret NAME: keep NAME when set; else use (or create once) a random
# one in .run/secrets/NAME and say where it is.
ensure_secret() {
  local name=$1 file="$MS_RUN/secrets/$1"
  if [ -n "${!name:-}" ]; then return; fi
  if [ ! -s "$file" ]; then
    mkdir -p "$MS_RUN/secrets"
    (umask 077; openssl rand -hex 32 > "$file")
    note "$name was unset: generated a random one into $file"
  fi
  export "$name=$(cat "$file")"
}

# The OS user that runs PostgreSQL: ourselves, or "postgres" when we are root.
pg_os_user() {
  if [ "$(id -u)" = 0 ]; then echo postgres; else id -un; fi
}

# as_pg CMD...: runs a command as that user.
# (from /, which it can always enter: the clone may live where it cannot)
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}
