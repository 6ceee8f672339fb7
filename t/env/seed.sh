#!/usr/bin/env bash
# Seed (idempotent): the platform tenant, its copies of every built-in role, the platform
# admin, and the JWT secret file.  Never changes an existing admin's password unless
# CC_ADMIN_PASSWORD is set and differs from it.
. "$(dirname "$0")/lib.sh"

cc_db_running || cc_die "database not running (t/env/db.sh start first)"

q() { cc_sql "$CC_DB_NAME" -N -B -e "$1"; }

# --- JWT secret: 48 random bytes, base64, one line, 0600 -----------------------------
if [ "$CC_JWT_SECRET_FILE" = "$CC_VAR_DIR/jwt-secret" ]; then
    if [ ! -s "$CC_JWT_SECRET_FILE" ]; then
        head -c 48 /dev/urandom | base64 -w0 | { cat; echo; } \
            | cc_write_secret "$CC_JWT_SECRET_FILE"
        echo "generated JWT secret $CC_JWT_SECRET_FILE"
    fi
else
    [ -r "$CC_JWT_SECRET_FILE" ] || cc_die "CC_JWT_SECRET_FILE=$CC_JWT_SECRET_FILE is not readable"
fi

# --- platform tenant ------------------------------------------------------------------
tid=$(q "SELECT id FROM tenants WHERE slug = 'platform'")
if [ -z "$tid" ]; then
    tid=$(cat /proc/sys/kernel/random/uuid)
    q "INSERT INTO tenants (id, name, slug, status, max_users, max_dids)
       VALUES ('$tid', 'Platform', 'platform', 'active', 1000000, 1000000)"
    echo "created tenant platform ($tid)"
fi

# Every built-in role, platform_admin included (it exists only in this tenant).  Roles
# added to builtin_roles by a later migration are copied on the next run.
q "INSERT INTO roles (tenant_id, name, description, builtin, permissions)
   SELECT '$tid', b.name, b.description, 1, b.permissions FROM builtin_roles b
   WHERE NOT EXISTS (SELECT 1 FROM roles r WHERE r.tenant_id = '$tid' AND r.name = b.name)"

# --- platform admin -------------------------------------------------------------------
email=$(cc_sql_quote "$CC_ADMIN_EMAIL")
pwfile=$CC_VAR_DIR/admin-password

hash_password()
{
    # htpasswd prints "user:$2y$..."; -i reads the password from stdin (not argv).
    printf '%s' "$1" | htpasswd -niB -C "$CC_BCRYPT_COST" admin | cut -d: -f2- | tr -d '\n'
}

password_matches()   # hash password
{
    local f rc=0
    f=$(mktemp)
    printf 'admin:%s\n' "$1" >"$f"
    printf '%s' "$2" | htpasswd -viB "$f" admin >/dev/null 2>&1 || rc=1
    rm -f "$f"
    return $rc
}

row=$(q "SELECT id, password_hash FROM users
         WHERE tenant_id = '$tid' AND live_email = $email")
if [ -z "$row" ]; then
    if [ -n "${CC_ADMIN_PASSWORD:-}" ]; then
        pw=$CC_ADMIN_PASSWORD
    else
        pw=$(cc_random_alnum 20)
        printf '%s\n' "$pw" | cc_write_secret "$pwfile"
        echo "generated platform admin password for $CC_ADMIN_EMAIL: $pw"
        echo "  (shown once; kept in $pwfile)"
    fi
    [ "${#pw}" -ge 10 ] || cc_die "CC_ADMIN_PASSWORD must have at least 10 characters"
    hash=$(cc_sql_quote "$(hash_password "$pw")")
    q "INSERT INTO users (tenant_id, email, name, password_hash, status)
       VALUES ('$tid', $email, 'Platform Admin', $hash, 'active')"
    echo "created platform admin $CC_ADMIN_EMAIL"
elif [ -n "${CC_ADMIN_PASSWORD:-}" ]; then
    uid=${row%%	*}
    old=${row#*	}
    if ! password_matches "$old" "$CC_ADMIN_PASSWORD"; then
        [ "${#CC_ADMIN_PASSWORD}" -ge 10 ] \
            || cc_die "CC_ADMIN_PASSWORD must have at least 10 characters"
        hash=$(cc_sql_quote "$(hash_password "$CC_ADMIN_PASSWORD")")
        q "UPDATE users SET password_hash = $hash, updated_at = UTC_TIMESTAMP()
           WHERE tenant_id = '$tid' AND id = $uid"
        rm -f "$pwfile"
        echo "reset the platform admin's password to CC_ADMIN_PASSWORD"
    fi
fi

uid=$(q "SELECT id FROM users WHERE tenant_id = '$tid' AND live_email = $email")
# Reads roles only: a trigger on user_roles updates users.role_names, and MariaDB
# refuses a statement that reads the table its trigger writes (ER 1442).
q "INSERT INTO user_roles (tenant_id, user_id, role_id)
   SELECT r.tenant_id, $uid, r.id FROM roles r
   WHERE r.tenant_id = '$tid' AND r.name = 'platform_admin'
     AND NOT EXISTS (SELECT 1 FROM user_roles ur
                     WHERE ur.tenant_id = '$tid' AND ur.user_id = $uid AND ur.role_id = r.id)"
