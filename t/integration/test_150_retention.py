"""mod_cc_auth's retention job (mod_watchdog, CCAuthRetentionInterval: 1 s in tests).

It purges refresh token families whose every token expired longer than a day ago
(a family still in use keeps its old rotated tokens: reuse detection needs them) and
login_throttle rows whose window (900 s here) has passed, with no request to trigger it: the tests plant rows in the database and
only watch the database until they are gone.
"""

import hashlib
import os
import re
import secrets
import time

from cchelpers import db_exec, db_rows

GRACE = 86400            # CC_AUTH_RETENTION_GRACE
WINDOW = 900             # CCLoginWindow of the test config
WAIT = 15.0              # seconds the job gets (it runs every second)
BATCH = 1000             # the job deletes in batches of this many rows


def _hash():
    return hashlib.sha256(secrets.token_bytes(32)).hexdigest()


def _tokens(cc, tenant, user_id, n, expires_sql, rotated=False, revoked=False, family=None):
    """Insert n refresh tokens of one family (a new one unless given); returns their
    hashes."""
    family = family or _family()
    hashes = [_hash() for _ in range(n)]
    with cc.db() as conn, conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO refresh_tokens (tenant_id, user_id, family_id, token_hash, "
            f"created_at, expires_at, rotated_at, revoked_at) VALUES (%s, %s, %s, %s, "
            f"{expires_sql} - INTERVAL 30 DAY, {expires_sql}, "
            f"{'UTC_TIMESTAMP() - INTERVAL 40 DAY' if rotated else 'NULL'}, "
            f"{'UTC_TIMESTAMP() - INTERVAL 40 DAY' if revoked else 'NULL'})",
            [(tenant.id, user_id, family, h) for h in hashes])
    return hashes


def _family():
    return f"{secrets.token_hex(4)}-0000-4000-8000-{secrets.token_hex(6)}"


def _left_tokens(cc, hashes):
    if not hashes:
        return 0
    marks = ", ".join(["%s"] * len(hashes))
    (row,) = db_rows(cc, f"SELECT COUNT(*) AS n FROM refresh_tokens "
                         f"WHERE token_hash IN ({marks})", tuple(hashes))
    return row["n"]


def _left_throttle(cc, pattern):
    (row,) = db_rows(cc, "SELECT COUNT(*) AS n FROM login_throttle WHERE email LIKE %s",
                     (pattern,))
    return row["n"]


def _access_log_size(cc):
    try:
        return os.path.getsize(cc.access_log)
    except OSError:
        return None


def _wait(predicate, timeout=WAIT, step=0.2):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True


def test_job_purges_expired_tokens_and_stale_throttle_rows_without_a_request(cc, tenant):
    user = tenant.admin_user_id
    tag = secrets.token_hex(5)

    # Families expired longer than the grace, in every state a token has (one of more
    # rows than a batch).
    expired = (_tokens(cc, tenant, user, BATCH + 250, "UTC_TIMESTAMP() - INTERVAL 2 DAY")
               + _tokens(cc, tenant, user, 3, f"UTC_TIMESTAMP() - INTERVAL {GRACE + 60} "
                         "SECOND", rotated=True)
               + _tokens(cc, tenant, user, 3, "UTC_TIMESTAMP() - INTERVAL 90 DAY",
                         revoked=True))
    # Kept: still live, and expired but within the grace (reuse detection needs them).
    live = (_tokens(cc, tenant, user, 3, "UTC_TIMESTAMP() + INTERVAL 30 DAY")
            + _tokens(cc, tenant, user, 2, "UTC_TIMESTAMP() + INTERVAL 30 DAY",
                      rotated=True))
    grace = _tokens(cc, tenant, user, 3, f"UTC_TIMESTAMP() - INTERVAL {GRACE - 3600} SECOND",
                    rotated=True)
    # A family still being refreshed keeps its long-expired rotated tokens: presenting
    # one again must still revoke the family (theft detection).
    # (Its live token goes in first: the job runs every second, and a family of old
    # tokens only, even for a moment, is a dead one.)
    family = _family()
    grace += _tokens(cc, tenant, user, 1, "UTC_TIMESTAMP() + INTERVAL 20 DAY", family=family)
    grace += _tokens(cc, tenant, user, 2, "UTC_TIMESTAMP() - INTERVAL 40 DAY", rotated=True,
                     family=family)

    stale = [(key, f"stale-{tag}-{i}@example.com")
             for i, key in enumerate(["", tenant.id] * 20)]
    fresh = [(key, f"fresh-{tag}-{i}@example.com") for i, key in enumerate(["", tenant.id])]
    with cc.db() as conn, conn.cursor() as cur:
        cur.executemany("INSERT INTO login_throttle (tenant_key, email, failures, "
                        f"window_start) VALUES (%s, %s, 7, UTC_TIMESTAMP() - INTERVAL "
                        f"{WINDOW + 100} SECOND)", stale)
        # A live window: 600 s old, so it stays live for the whole wait.
        cur.executemany("INSERT INTO login_throttle (tenant_key, email, failures, "
                        "window_start) VALUES (%s, %s, 7, UTC_TIMESTAMP() - INTERVAL 600 "
                        "SECOND)", fresh)

    # From here on only the database is looked at: no request reaches httpd.  (The
    # access log line of the fixture's last request may trail its response a little.)
    time.sleep(0.5)
    served = _access_log_size(cc)
    try:
        gone = _wait(lambda: _left_tokens(cc, expired) == 0
                     and _left_throttle(cc, f"stale-{tag}-%") == 0)
        assert gone, (f"after {WAIT} s: {_left_tokens(cc, expired)} expired tokens and "
                      f"{_left_throttle(cc, f'stale-{tag}-%')} stale throttle rows left")
        assert _access_log_size(cc) == served, "a request was served while waiting"

        assert _left_tokens(cc, live) == len(live)
        assert _left_tokens(cc, grace) == len(grace)
        assert _left_throttle(cc, f"fresh-{tag}-%") == len(fresh)
        # The tenant's own session (its admin's login) is untouched as well.
        (row,) = db_rows(cc, "SELECT COUNT(*) AS n FROM refresh_tokens WHERE tenant_id = %s "
                             "AND expires_at > UTC_TIMESTAMP()", (tenant.id,))
        assert row["n"] >= 1 + len(live)
    finally:
        db_exec(cc, "DELETE FROM login_throttle WHERE email LIKE %s", (f"%-{tag}-%",))
        for hashes in (expired, live, grace):
            marks = ", ".join(["%s"] * len(hashes))
            db_exec(cc, f"DELETE FROM refresh_tokens WHERE token_hash IN ({marks})",
                    tuple(hashes))


def _conf_with(cc, value, inside_vhost=False):
    conf = re.sub(r"(?m)^CCAuthRetentionInterval .*$", "", cc.conf_text())
    line = f"CCAuthRetentionInterval {value}"
    if inside_vhost:
        return conf + f"\n<VirtualHost 127.0.0.1:1>\n    {line}\n</VirtualHost>\n"
    return conf + "\n" + line + "\n"


def test_retention_interval_directive(cc):
    assert "CCAuthRetentionInterval 1\n" in cc.conf_text()
    for ok in ("0", "3600", "86400"):
        rc, out = cc.config_test(_conf_with(cc, ok))
        assert rc == 0, out
    for bad in ("-1", "86401", "1h"):
        rc, out = cc.config_test(_conf_with(cc, bad))
        assert rc != 0 and "CCAuthRetentionInterval must be an integer from 0 to 86400" in out, out
    # One job per host runs with the main server's value: a vhost may not set its own.
    rc, out = cc.config_test(_conf_with(cc, "60", inside_vhost=True))
    assert rc != 0 and "CCAuthRetentionInterval" in out and "VirtualHost" in out, out
