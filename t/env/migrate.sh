#!/usr/bin/env bash
# Apply sql/NNN_*.sql in order, each exactly once, recorded in schema_migrations.
# Forward-only: an applied file is never re-run (edit nothing applied; add a new number).
. "$(dirname "$0")/lib.sh"

cc_db_running || cc_die "database not running (t/env/db.sh start first)"

cc_sql "$CC_DB_NAME" <<'EOF'
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     VARCHAR(64) NOT NULL PRIMARY KEY,
    applied_at  DATETIME    NOT NULL DEFAULT UTC_TIMESTAMP()
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
EOF

applied=$(cc_sql "$CC_DB_NAME" -N -B -e 'SELECT version FROM schema_migrations')

# Two files with one number would apply in an arbitrary order: refuse.
dups=$(find "$CC_ROOT/sql" -maxdepth 1 -name '[0-9][0-9][0-9]_*.sql' -printf '%f\n' \
       | cut -c1-3 | sort | uniq -d)
[ -z "$dups" ] || cc_die "several migrations share the number(s): $dups"

count=0
for f in "$CC_ROOT"/sql/[0-9][0-9][0-9]_*.sql; do
    [ -e "$f" ] || continue
    version=$(basename "$f" .sql)
    [ "${#version}" -le 64 ] || cc_die "migration name longer than 64 characters: $version"
    if printf '%s\n' "$applied" | grep -qxF "$version"; then
        continue
    fi
    # DDL commits implicitly in MariaDB, so a failing file can leave part of its work
    # behind; it is then not recorded and the error says which file to fix.
    if ! cc_sql --default-character-set=utf8mb4 "$CC_DB_NAME" <"$f"; then
        cc_die "migration $version failed (not recorded)"
    fi
    cc_sql "$CC_DB_NAME" -e "INSERT INTO schema_migrations (version) VALUES ('$version')"
    echo "applied migration $version"
    count=$((count + 1))
done
[ "$count" -gt 0 ] || echo "migrations: up to date"
