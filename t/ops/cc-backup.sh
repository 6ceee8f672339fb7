#!/usr/bin/env bash
# Backups of the Callcenter database, for operators (README "Backups and restore").
#
#   cc-backup.sh [options] backup DIR            hot physical backup (mariadb-backup), prepared
#   cc-backup.sh [options] backup --logical DIR  mariadb-dump --single-transaction into DIR
#   cc-backup.sh [options] restore DIR DATADIR   physical: DIR's files into an empty DATADIR
#                                                (the server of DATADIR stopped)
#   cc-backup.sh [options] restore --logical DIR logical: DIR's dump into the running server
#                                                (its callcenter database absent or empty)
#   cc-backup.sh [options] check                 the server's schema_migrations against the
#                                                sql/ files: exit 0 only when equal
#
# Options (before the command):
#   --defaults-file FILE  the MariaDB option file to connect with (its [client] socket or
#                         port); default: the tools' own (/etc/mysql/my.cnf on Debian)
#   --user USER           the account to connect as (default: the tools' default; on a
#                         Debian server, root over the socket)
#   --database NAME       the application database (default callcenter)
#   --sql-dir DIR         the migrations `check` compares with (default: this checkout's sql/)
#   --chown USER          restore (physical): chown the restored files to USER (mysql)
#
# The physical backup is hot: InnoDB keeps serving reads and writes; commits wait only for
# the short BACKUP STAGE BLOCK_COMMIT at its end, which is its consistency point.  It is
# prepared at once (the redo log applied), so an unusable backup is found when it is taken,
# and DIR is ready for `restore`.  Every backup writes DIR/cc-backup.info (method, times,
# size, server version, schema version, binlog position when the server keeps a binlog).
# Nothing here prints a password; give credentials in the option file, not on the command line.
set -eu
set -o pipefail

SELF=$(basename "$0")
SQL_DIR=$(cd "$(dirname "$0")/../.." && pwd)/sql
DEFAULTS=()
USER_OPT=()
DB=callcenter
CHOWN=

die() { echo "$SELF: $*" >&2; exit 1; }
say() { echo "$SELF: $*" >&2; }

usage()
{
    sed -n '2,/^set -eu/p' "$0" | sed -e '/^set -eu/d' -e 's/^# \{0,1\}//' >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case $1 in
        --defaults-file) [ $# -ge 2 ] || usage; DEFAULTS=("--defaults-file=$2"); shift 2 ;;
        --user)          [ $# -ge 2 ] || usage; USER_OPT=("--user=$2"); shift 2 ;;
        --database)      [ $# -ge 2 ] || usage; DB=$2; shift 2 ;;
        --sql-dir)       [ $# -ge 2 ] || usage; SQL_DIR=$2; shift 2 ;;
        --chown)         [ $# -ge 2 ] || usage; CHOWN=$2; shift 2 ;;
        -h|--help)       usage ;;
        --*)             die "unknown option $1" ;;
        *)               break ;;
    esac
done
[ $# -ge 1 ] || usage
case $DB in ''|*[!A-Za-z0-9_]*) die "--database: letters, digits and _ only" ;; esac

# The mariadb client (the option file must come first).
sql() { mariadb "${DEFAULTS[@]}" "${USER_OPT[@]}" -N -B "$@"; }

now() { date -u +%Y-%m-%dT%H:%M:%SZ; }
secs() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

schema_version()
{
    sql "$DB" -e 'SELECT MAX(version) FROM schema_migrations' 2>/dev/null || echo unknown
}

empty_dir_or_absent()
{
    [ ! -e "$1" ] || { [ -d "$1" ] && [ -z "$(ls -A "$1")" ]; }
}

write_info()   # dir method started t0 t1 binlog
{
    local dir=$1 bytes
    bytes=$(du -sb "$dir" | cut -f1)
    {
        echo "method=$2"
        echo "database=$DB"
        echo "started=$3"
        echo "finished=$(now)"
        echo "seconds=$(elapsed "$4" "$5")"
        echo "bytes=$bytes"
        echo "server_version=$(sql -e 'SELECT VERSION()')"
        echo "schema_version=$SCHEMA"
        echo "binlog_position=$6"
    } >"$dir/cc-backup.info"
    say "$2 backup of $DB in $dir: $bytes bytes in $(elapsed "$4" "$5") s (schema $SCHEMA${6:+, binlog $6})"
}

backup_physical()
{
    local dir=$1 datadir started t0 t1 binlog=
    command -v mariadb-backup >/dev/null || die "no mariadb-backup (Debian package mariadb-backup)"
    empty_dir_or_absent "$dir" || die "$dir exists and is not empty"
    mkdir -p "$dir"
    chmod 700 "$dir"
    # The server's own data directory (the option file may not name it).
    datadir=$(sql -e 'SELECT @@datadir') || die "cannot connect to the server"
    SCHEMA=$(schema_version)
    started=$(now); t0=$(secs)
    # --log-copy-interval: the redo log copier looks every 50 ms, not every second (the
    # default).  At BLOCK_COMMIT the backup waits for it to reach the last commit, and
    # every commit waits meanwhile: about a second with the default, under load.
    mariadb-backup "${DEFAULTS[@]}" --backup "${USER_OPT[@]}" --datadir="$datadir" \
        --log-copy-interval=50 --target-dir="$dir/data" >"$dir/backup.log" 2>&1 \
        || { tail -n 20 "$dir/backup.log" >&2; die "mariadb-backup --backup failed (log: $dir/backup.log)"; }
    t1=$(secs)
    # Apply the redo log copied during the backup: the files become the consistent state
    # of the consistency point, ready to copy back.
    mariadb-backup --no-defaults --prepare --target-dir="$dir/data" >"$dir/prepare.log" 2>&1 \
        || { tail -n 20 "$dir/prepare.log" >&2; die "mariadb-backup --prepare failed (log: $dir/prepare.log)"; }
    [ -s "$dir/data/xtrabackup_binlog_info" ] \
        && binlog=$(awk '{ print $1 ":" $2 }' "$dir/data/xtrabackup_binlog_info")
    write_info "$dir" physical "$started" "$t0" "$t1" "$binlog"
}

backup_logical()
{
    local dir=$1 started t0 t1 binlog= extra=()
    empty_dir_or_absent "$dir" || die "$dir exists and is not empty"
    mkdir -p "$dir"
    chmod 700 "$dir"
    SCHEMA=$(schema_version)
    # With a binlog, the dump records its position (a comment) for point-in-time recovery.
    [ "$(sql -e 'SELECT @@log_bin')" = 1 ] && extra=(--master-data=2)
    started=$(now); t0=$(secs)
    # One REPEATABLE READ snapshot for every table (all InnoDB): no lock held while the
    # rows are read.  A DDL statement during the dump would break it: run none meanwhile.
    (umask 077 && mariadb-dump "${DEFAULTS[@]}" "${USER_OPT[@]}" --single-transaction \
        --quick --routines --triggers --events --hex-blob --default-character-set=utf8mb4 \
        "${extra[@]}" --databases "$DB" >"$dir/$DB.sql") \
        || die "mariadb-dump failed"
    t1=$(secs)
    tail -n 1 "$dir/$DB.sql" | grep -q '^-- Dump completed' || die "the dump is incomplete"
    binlog=$(sed -n "s/^-- CHANGE MASTER TO MASTER_LOG_FILE='\([^']*\)', MASTER_LOG_POS=\([0-9]*\).*/\1:\2/p" \
             "$dir/$DB.sql" | head -n 1)
    write_info "$dir" logical "$started" "$t0" "$t1" "$binlog"
}

restore_physical()
{
    local dir=$1 datadir=$2 t0
    [ -f "$dir/data/xtrabackup_checkpoints" ] || die "$dir holds no physical backup"
    grep -Eq '^backup_type = (log-applied|full-prepared)$' "$dir/data/xtrabackup_checkpoints" \
        || die "$dir/data is not prepared (cc-backup.sh backup prepares it)"
    empty_dir_or_absent "$datadir" || die "$datadir is not empty: restore into a fresh data directory"
    t0=$(secs)
    mariadb-backup --no-defaults --copy-back --target-dir="$dir/data" --datadir="$datadir" \
        >"$dir/restore.log" 2>&1 \
        || { tail -n 20 "$dir/restore.log" >&2; die "mariadb-backup --copy-back failed"; }
    [ -z "$CHOWN" ] || chown -R "$CHOWN:" "$datadir"
    say "restored $dir into $datadir in $(elapsed "$t0" "$(secs)") s; start the server on it"
}

restore_logical()
{
    local dir=$1 t0 tables
    [ -f "$dir/$DB.sql" ] || die "$dir holds no $DB.sql"
    tables=$(sql -e "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '$DB'") \
        || die "cannot connect to the server"
    [ "$tables" = 0 ] || die "database $DB already has $tables tables: restore into a fresh one"
    t0=$(secs)
    sql --default-character-set=utf8mb4 <"$dir/$DB.sql" || die "loading $dir/$DB.sql failed"
    say "restored $dir into database $DB in $(elapsed "$t0" "$(secs)") s"
}

check_schema()
{
    local want have
    want=$(find "$SQL_DIR" -maxdepth 1 -name '[0-9][0-9][0-9]_*.sql' -printf '%f\n' \
           | sed 's/\.sql$//' | sort)
    [ -n "$want" ] || die "no migrations in $SQL_DIR"
    have=$(sql "$DB" -e 'SELECT version FROM schema_migrations ORDER BY version') \
        || die "no schema_migrations in $DB"
    if [ "$want" != "$have" ]; then
        diff <(printf '%s\n' "$want") <(printf '%s\n' "$have") | sed -n 's/^< /missing: /p; s/^> /unknown: /p' >&2
        die "schema of $DB differs from $SQL_DIR (missing: run the migrations; unknown: newer than this code)"
    fi
    say "schema of $DB at $(printf '%s\n' "$have" | tail -n 1), as $SQL_DIR expects"
}

cmd=$1; shift
case $cmd in
    backup)
        if [ "${1:-}" = --logical ]; then
            [ $# -eq 2 ] || usage; backup_logical "$2"
        else
            [ $# -eq 1 ] || usage; backup_physical "$1"
        fi ;;
    restore)
        if [ "${1:-}" = --logical ]; then
            [ $# -eq 2 ] || usage; restore_logical "$2"
        else
            [ $# -eq 2 ] || usage; restore_physical "$1" "$2"
        fi ;;
    check)
        [ $# -eq 0 ] || usage; check_schema ;;
    *) usage ;;
esac
