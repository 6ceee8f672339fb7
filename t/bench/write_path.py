#!/usr/bin/env python3
"""make bench, write-path part (issue 15): what each part of a write's record costs a create.

    write_path.py save DIR       keep the database's cc_record and event trigger in DIR
    write_path.py VARIANT DIR    print the SQL that puts VARIANT in place

A DID create is BEGIN, INSERT ... RETURNING, then one CALL cc_record (sql/029) that writes
the audit entry, counts the DID against max_dids (the tenant's row), inserts the event
(numbered from the event_seq row by trg_events_number) and commits.  The variants leave
parts of that out, for measurement only (never atomic, never exact, never served):

- full:          the procedure and the trigger as saved (what the API runs); event_seq
                 is moved up to the highest event id first (numbers given while the
                 trigger was off);
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


def show_create(what, name, column):
    """The CREATE statement SHOW CREATE gives (--raw: its newlines as they are)."""
    out = subprocess.run(DB_SHELL + ["--raw", "-N", "-B", "-e", f"SHOW CREATE {what} {name}"],
                         check=True, capture_output=True, text=True).stdout
    fields = out.split("\t")
    if len(fields) < column + 1 or not fields[column].lstrip().upper().startswith("CREATE"):
        sys.exit(f"write_path.py: unexpected SHOW CREATE {what} {name} output")
    return fields[column].strip()


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.split("\n\n")[1])
    variant, outdir = sys.argv[1], sys.argv[2]
    proc_file = os.path.join(outdir, "cc_record.sql")
    trigger_file = os.path.join(outdir, "trg_events_number.sql")
    if variant == "save":
        with open(proc_file, "w") as f:
            f.write(show_create("PROCEDURE", "cc_record", 2))
        with open(trigger_file, "w") as f:
            f.write(show_create("TRIGGER", "trg_events_number", 2))
        return
    if variant not in VARIANTS:
        sys.exit(f"write_path.py: no variant {variant!r} ({', '.join(VARIANTS)})")
    subs, trigger = VARIANTS[variant]
    proc = open(proc_file).read()
    for old, new in subs:
        if old not in proc:
            sys.exit(f"write_path.py: {old!r} is no longer in cc_record")
        proc = proc.replace(old, new)
    print("DROP TRIGGER IF EXISTS trg_events_number;")
    print("DROP PROCEDURE IF EXISTS cc_record;")
    print("DELIMITER //")
    print(proc + " //")
    if trigger:
        print("UPDATE event_seq SET n = GREATEST(n, (SELECT COALESCE(MAX(id), 0) FROM events))"
              " WHERE id = 1 //")
        print(open(trigger_file).read() + " //")
    print("DELIMITER ;")


if __name__ == "__main__":
    main()
