#!/usr/bin/env python3
"""make bench, reporting part (issue 9): single-client timings on the seeded CDRs.

    cdr_bench.py BASE_URL TOKEN HTTPD_PID

- the first CDR page and a cursor page 200 pages deep (default, ascending and filtered
  orders): the deep page must cost what the first does (no OFFSET);
- /cdrs/stats for every group_by over the month (skipped while the route is missing);
- the CSV export of the month: rows/s, and how much httpd's memory (the resident size of
  the parent and its children, sampled every 20 ms) grows during it.
Loopback only; every request has a timeout.  Prints one line per figure.
"""

import csv
import io
import os
import statistics
import sys
import threading
import time

import requests

from procmem import rss_kib

MONTH = {"from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z"}
REPEAT = 15


def timed(session, url, **kw):
    t0 = time.perf_counter()
    r = session.get(url, timeout=120, **kw)
    elapsed = time.perf_counter() - t0
    r.raise_for_status()
    return r, elapsed


def median_ms(session, url, repeat=REPEAT, **kw):
    times = [timed(session, url, **kw)[1] for _ in range(repeat)]
    return statistics.median(times) * 1000


def deep_cursor(session, base, params, pages):
    """The cursor of page `pages` + 1 (walked from the first page)."""
    r, _ = timed(session, f"{base}/api/v1/cdrs", params=params)
    cursor = r.json()["next_cursor"]
    for _ in range(pages - 1):
        r, _ = timed(session, f"{base}/api/v1/cdrs",
                     params={**{k: v for k, v in params.items() if k != "sort"},
                             "after": cursor})
        cursor = r.json()["next_cursor"]
    return cursor


def main():
    base, token, parent = sys.argv[1], sys.argv[2], int(sys.argv[3])
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {token}"
    lines = []
    # BENCH_CDR_PARTS="pages stats csv" (the default: all three) picks what is measured.
    parts = set(os.environ.get("BENCH_CDR_PARTS", "pages stats csv").split())

    for label, params in (("default -calldate", {}),
                          ("ascending calldate", {"sort": "calldate"}),
                          ("filtered direction=inbound", {"direction": "inbound"})):
        if "pages" not in parts:
            break
        params = {**params, "page_size": 20}
        first = median_ms(s, f"{base}/api/v1/cdrs", repeat=3, params=params)
        cursor = deep_cursor(s, base, params, 200)
        deep = median_ms(s, f"{base}/api/v1/cdrs",
                         params={**{k: v for k, v in params.items() if k != "sort"},
                                 "after": cursor})
        lines.append(f"cdrs first page ({label}): {first:.1f} ms; page 201 via cursor: "
                     f"{deep:.1f} ms")

    probe = s.get(f"{base}/api/v1/cdrs/stats", params={**MONTH, "group_by": "day"},
                  timeout=120) if "stats" in parts else None
    if probe is None:
        pass
    elif probe.status_code == 200:
        for group in ("hour", "day", "queue", "agent", "did", "disposition"):
            ms = median_ms(s, f"{base}/api/v1/cdrs/stats", params={**MONTH, "group_by": group})
            lines.append(f"cdrs/stats group_by={group} over the month: {ms:.1f} ms")
        ms = median_ms(s, f"{base}/api/v1/cdrs/stats",
                       params={**MONTH, "group_by": "day", "tz": "Europe/Berlin"})
        lines.append(f"cdrs/stats group_by=day tz=Europe/Berlin over the month: {ms:.1f} ms")
    else:
        lines.append(f"cdrs/stats: not measured ({probe.status_code})")

    if "csv" not in parts:
        print("\n".join(lines))
        return
    peak = [0]
    done = threading.Event()
    before = rss_kib(parent)

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_kib(parent))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.perf_counter()
    r = s.get(f"{base}/api/v1/cdrs", params=MONTH, headers={"Accept": "text/csv"},
              stream=True, timeout=600)
    r.raise_for_status()
    nbytes = 0
    tail = b""
    rows = -1                                     # the header row
    for chunk in r.iter_content(1 << 16):
        nbytes += len(chunk)
        rows += chunk.count(b"\n")
        tail = chunk[-4096:]
    elapsed = time.perf_counter() - t0
    done.set()
    sampler.join()
    last = list(csv.reader(io.StringIO(tail.decode("utf-8", "replace"))))[-1]
    lines.append(f"CSV export of the month: {rows} rows, {nbytes / 1e6:.0f} MB in "
                 f"{elapsed:.1f} s = {rows / elapsed:,.0f} rows/s; httpd resident memory "
                 f"{before / 1024:.0f} MiB before, peak +{(peak[0] - before) / 1024:.1f} MiB "
                 f"during it (last row id {last[0]})")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
