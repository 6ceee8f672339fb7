#!/usr/bin/python3
"""Lock contention on one DID number (issue 8, finding 13), reproducibly.

    CC_BUILD_DIR=$PWD/build /usr/bin/python3 t/bench/did_contention.py \
        [--seconds 30] [--clients 4]

Starts a private MariaDB + httpd on free loopback ports (t/integration/ccenv.py, the
integration suite's `test` profile, LogLevel info), makes a tenant, and lets --clients
keep-alive clients create and delete the same DID number for --seconds
(cchelpers.did_churn: POST it; the winner DELETEs its DID, the others look the number
up and DELETE it).  Prints the count of each (method, status), the deadlocks MariaDB
detected, the lock conflicts and re-runs the error log shows, and what is inconsistent
in the database; exits 1 on any 5xx answer or inconsistency.  Bounded: --seconds (at most 300) plus start-up; nothing
leaves the loopback interface, and the environment is removed at the end
(CC_KEEP_TMP=1 keeps it).
"""

import argparse
import os
import re
import secrets
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from ccenv import CCEnv, Tenant  # noqa: E402
from cchelpers import did_churn, did_churn_problems, innodb_deadlocks  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--clients", type=int, default=4)
    args = ap.parse_args()
    if not 0 < args.seconds <= 300 or not 1 <= args.clients <= 32:
        ap.error("--seconds must be in (0, 300] and --clients in 1..32")
    os.environ.setdefault("CC_TEST_LOG_LEVEL", "info")
    env = CCEnv()
    try:
        env.start()
        tenant = Tenant(env)
        number = f"+1{secrets.randbelow(10**12):012d}"
        counts, done = did_churn(env.base_url, tenant.admin_token, number,
                                 clients=args.clients, seconds=args.seconds)
        problems = did_churn_problems(env, tenant.id, number, done)
        deadlocks = innodb_deadlocks(env)
        log = env.error_log_text()
    finally:
        env.stop()
    print(f"{args.clients} clients, {args.seconds:g} s, one number:")
    for (method, status), n in sorted(counts.items()):
        print(f"  {method:6} {status}: {n}")
    total = sum(counts.values())
    errors = sum(n for (_, status), n in counts.items() if status >= 500)
    print(f"  answers: {total}, of them 5xx: {errors}")
    print(f"  deadlocks the server detected: {deadlocks}")
    # CC00204: a statement's lock conflict (a warning before handlers were run again,
    # now at debug); CC00107: a handler run again; CC00108: a conflict answered 503.
    for logno, what in (("CC00204", "lock conflicts logged at info or above"),
                        ("CC00107", "handlers run again"),
                        ("CC00108", "lock conflicts answered 503")):
        print(f"  {what} ({logno}): {len(re.findall(logno, log))}")
    runs = re.findall(r"CC00107: .* on run (\d+) of", log)
    if runs:
        print("  run that lost, when run again: " + ", ".join(
            f"run {n}: {runs.count(n)}" for n in sorted(set(runs))))
    for p in problems:
        print(f"  INCONSISTENT: {p}")
    print("  database: " + ("consistent" if not problems else "INCONSISTENT"))
    return 1 if errors or problems else 0


if __name__ == "__main__":
    sys.exit(main())
