# shellcheck shell=bash
# Shared by scripts/backup and scripts/restore (sourced, not run).

die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

warn() {
  printf 'warning: %s\n' "$*" >&2
}

require_tools() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || die "'$tool' is needed but not installed (PostgreSQL client tools, coreutils)."
  done
}

# Percent-decoding as in URLs; a literal backslash is protected from printf's escapes first.
url_decode() {
  local value=${1//\\/\\\\}
  printf '%b' "${value//%/\\x}"
}

# Split a Django-style DATABASE_URL (postgres://, postgresql://, pgsql://, psql://, postgis://)
# into what libpq needs. Sets:
#   DB_SERVER  postgresql://user@host:port (no password, no database)
#   DB_QUERY   "?sslmode=..." or empty
#   DB_URL     DB_SERVER/database DB_QUERY
#   DB_NAME    the database name, decoded
# A password is moved into PGPASSWORD, so that it does not show in the process list as part of
# pg_dump's or psql's command line.
# shellcheck disable=SC2034  # the DB_* variables are for the scripts that source this file
parse_database_url() {
  local url=$1 scheme rest authority path userinfo host raw_name
  [[ $url == *://* ]] || die "not a database URL: expected postgres://user@host:port/name"
  scheme=${url%%://*}
  case $scheme in
    postgres | postgresql | pgsql | psql | postgis) ;;
    *) die "only PostgreSQL databases can be backed up or restored, not '$scheme'." ;;
  esac
  rest=${url#*://}
  authority=${rest%%/*}
  path=${rest#"$authority"}
  if [[ $authority == *@* ]]; then
    userinfo=${authority%@*}
    host=${authority##*@}
    if [[ $userinfo == *:* ]]; then
      PGPASSWORD=$(url_decode "${userinfo#*:}")
      export PGPASSWORD
      userinfo=${userinfo%%:*}
    fi
    authority="$userinfo@$host"
  fi
  raw_name=${path#/}
  raw_name=${raw_name%%\?*}
  [[ -n $raw_name ]] || die "the database URL names no database: $scheme://$authority/<name>"
  DB_SERVER="postgresql://$authority"
  DB_QUERY=""
  [[ $path != *\?* ]] || DB_QUERY="?${path#*\?}"
  DB_URL="$DB_SERVER/$raw_name$DB_QUERY"
  DB_NAME=$(url_decode "$raw_name")
}

# psql for scripts: no ~/.psqlrc, bare values, stop at the first error.
run_psql() {
  local url=$1
  shift
  psql --no-psqlrc --quiet --tuples-only --no-align --set=ON_ERROR_STOP=1 --dbname="$url" "$@"
}
