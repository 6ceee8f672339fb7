#!/usr/bin/env python3
"""make bench, write-path part (issue 15): what each part of a write's record costs a create.

    write_path.py save DIR       keep the database's cc_record and event trigger in DIR
                                 (write_path_saved.json)
    write_path.py VARIANT DIR    print the SQL that puts VARIANT in place
    write_path.py check DIR      exit status 1 unless both are as saved again

A DID create is BEGIN, INSERT ... RETURNING, then one CALL cc_record (sql/029) that writes
the audit entry, counts the DID against max_dids (the tenant's row), inserts the event
(numbered from the event_seq row by trg_events_number) and commits.  The variants leave
parts of that out, for measurement only (never atomic, never exact, never served):

- full:          the procedure and the trigger as saved (what the API runs); event_seq
                 is moved up past every id given while the trigger was off, and the
                 tenants' dids_count counted again (creates the variants left uncounted);
- no_event_seq:  events numbered by AUTO_INCREMENT (no trigger: no counter row held
                 from the event insert to the commit);
- no_quota:      no tenant row updated;
- no_hot_rows:   neither: the audit entry and the event are written, no row every
                 create of the tenant (or of the platform) waits for;
- nothing:       the CALL only commits: the insert and the round trips alone.

The SQL is made from the database's own SHOW CREATE text (so it follows the latest
migration); a variant whose text is no longer found is an error.  The database is the
one t/env/db.sh reaches (the environment bench.sh exports).
"""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DB_SHELL = [os.path.join(ROOT, "t", "env", "db.sh"), "shell"]

AUDIT = ("IF p_audit THEN", "IF p_audit AND FALSE THEN")
QUOTA = ("IF p_dids_delta > 0 THEN", "IF FALSE THEN")
EVENT = ("IF p_event_type IS NOT NULL THEN", "IF FALSE THEN")
VARIANTS = {
    "full": ([], True),
    "no_event_seq": ([], False),
    "no_quota": ([QUOTA], True),
    "no_hot_rows": ([QUOTA], False),
    "nothing": ([AUDIT, QUOTA, EVENT], True),
}


def show_create(what, name):
    """SHOW CREATE's sql_mode, CREATE statement and character_set_client (--raw: the
    statement's newlines as they are; the migrations' bodies hold no tabs)."""
    out = subprocess.run(DB_SHELL + ["--raw", "-N", "-B", "-e", f"SHOW CREATE {what} {name}"],
                         check=True, capture_output=True, text=True).stdout
    fields = out.split("\t")
    if len(fields) < 4 or not fields[2].lstrip().upper().startswith("CREATE"):
        sys.exit(f"write_path.py: unexpected SHOW CREATE {what} {name} output")
    return {"sql_mode": fields[1], "create": fields[2].strip(), "charset": fields[3]}


def created(saved, body):
    """The CREATE of body under the settings it was saved with, in the // delimiter."""
    return (f"SET SESSION sql_mode = '{saved['sql_mode']}' //\n"
            f"SET NAMES {saved['charset']} //\n{body} //")


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.split("\n\n")[1])
    variant, outdir = sys.argv[1], sys.argv[2]
    saved_file = os.path.join(outdir, "write_path_saved.json")
    if variant == "save":
        with open(saved_file, "w") as f:
            json.dump({"proc": show_create("PROCEDURE", "cc_record"),
                       "trigger": show_create("TRIGGER", "trg_events_number")}, f)
        return
    if variant != "check" and variant not in VARIANTS:
        sys.exit(f"write_path.py: no variant {variant!r} ({', '.join(VARIANTS)})")
    with open(saved_file) as f:
        saved = json.load(f)
    if variant == "check":
        if (show_create("PROCEDURE", "cc_record") != saved["proc"]
                or show_create("TRIGGER", "trg_events_number") != saved["trigger"]):
            sys.exit("write_path.py: cc_record or trg_events_number is not as saved")
        return
    # Everything is read and checked before anything is printed: a variant that cannot
    # be made prints nothing (and the caller's file stays empty: nothing is run).
    subs, trigger = VARIANTS[variant]
    proc = saved["proc"]["create"]
    for old, new in subs:
        if old not in proc:
            sys.exit(f"write_path.py: {old!r} is no longer in cc_record")
        proc = proc.replace(old, new)
    out = ["DROP TRIGGER IF EXISTS trg_events_number;",
           "DROP PROCEDURE IF EXISTS cc_record;",
           "DELIMITER //",
           created(saved["proc"], proc)]
    if trigger:
        # Past every id given while the trigger was off (sql/026's start), then the
        # trigger.  (A job's event between the two would take AUTO_INCREMENT's next id,
        # which the counter then gives again: the bench runs no such job meanwhile.)
        out.append("UPDATE event_seq SET n = GREATEST(n, COALESCE((SELECT MAX(id) FROM"
                   " events), 0), COALESCE((SELECT AUTO_INCREMENT - 1 FROM"
                   " information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
                   " AND TABLE_NAME = 'events'), 0)) WHERE id = 1 //")
        out.append(created(saved["trigger"], saved["trigger"]["create"]))
    if variant == "full":
        # The creates of the quota-less variants were not counted: as t/bench/seed.sql.
        out.append("UPDATE tenants t SET dids_count = (SELECT COUNT(*) FROM dids d"
                   " WHERE d.tenant_id = t.id) //")
    out.append("DELIMITER ;")
    print("\n".join(out))


if __name__ == "__main__":
    main()
