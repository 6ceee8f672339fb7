"""A process tree's resident memory from /proc, for the benchmarks (cdr_bench.py samples
httpd's during a CSV export; events_bench.py before and with 1,000 streams).  No process
is spawned per sample: the samplers run beside what they measure, on the same cores (a
pgrep per sample cost cdr_bench some 2.5 s of CPU per 1M-row export)."""

import os
import subprocess


def tree(parent):
    """parent and its child processes, as strings."""
    kids = []
    try:
        for task in os.listdir(f"/proc/{parent}/task"):
            with open(f"/proc/{parent}/task/{task}/children") as f:
                kids += f.read().split()
    except OSError:
        kids = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True,
                              text=True).stdout.split()
    return [str(parent)] + kids


def _field(path, name):
    """A "Name:  N kB" line's N from a /proc file (0 when absent or gone)."""
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(name):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def memory(parent):
    """(processes, sum of VmRSS in KiB, sum of Pss in KiB) of parent's tree."""
    pids = tree(parent)
    return (len(pids), sum(_field(f"/proc/{p}/status", "VmRSS:") for p in pids),
            sum(_field(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids))


def rss_kib(parent):
    """The sum of VmRSS in KiB of parent's tree (Pss is not read: sampled every 20 ms)."""
    return sum(_field(f"/proc/{p}/status", "VmRSS:") for p in tree(parent))
