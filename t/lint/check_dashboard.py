#!/usr/bin/env python3
"""Lint: the Grafana dashboard (httpd-conf/grafana/callcenter.json) and the metrics
contract (the series list in shared/cc_metrics.h's header comment) must not drift.

- every metric name in the dashboard's PromQL (panel targets and template queries) is a
  declared series; a histogram only as <name>_bucket, _sum or _count;
- every label matcher of a selector names a label of that series (or instance / job,
  which Prometheus adds; le on a _bucket);
- every panel selector filters on the node variable (instance=~"$instance"), and every
  panel queries the ${datasource} variable; both variables exist;
- every declared series is shown by some panel (a new series gets a panel).

The PromQL is read by a small lexer (names, label matchers, grouping lists, strings,
ranges), enough for the expressions a dashboard holds.  A self-test plants each kind of
drift first and fails unless each is caught.  Exit 1 on any problem.
"""
import json
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HEADER = os.path.join(ROOT, "shared", "cc_metrics.h")
DASHBOARD = os.path.join(ROOT, "httpd-conf", "grafana", "callcenter.json")

HIST_SUFFIXES = ("_bucket", "_sum", "_count")
TARGET_LABELS = {"instance", "job"}       # added by Prometheus to every scraped series
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool",
            "and", "or", "unless", "offset", "atan2", "inf", "nan"}
GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}
AGGREGATORS = {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count",
               "count_values", "bottomk", "topk", "quantile"}

SERIES_RE = re.compile(r"^\s*\*\s+(cc_[a-z0-9_]+)(?:\{([^}]*)\})?\s+(counter|gauge|histogram)\b",
                       re.M)
TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<range>\[[^\]]*\])
  | (?P<num>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[a-z]*)
  | (?P<var>\$\{?[A-Za-z_][A-Za-z0-9_]*\}?)
  | (?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
  | (?P<op>=~|!~|!=|==|<=|>=|[-+*/%^<>=,(){}])
""", re.X)


def declared_series(text):
    """{name: (type, {labels})} from the header comment's series list."""
    series = {}
    for m in SERIES_RE.finditer(text):
        labels = set()
        for part in (m.group(2) or "").split(","):
            part = part.strip()
            if part:
                labels.add(part.split("=", 1)[0].strip())
        series[m.group(1)] = (m.group(3), labels)
    return series


def tokens(expr):
    pos, out = 0, []
    while pos < len(expr):
        m = TOKEN_RE.match(expr, pos)
        if not m:
            raise ValueError("cannot read %r at %d" % (expr, pos))
        pos = m.end()
        if m.lastgroup != "ws":
            out.append((m.lastgroup, m.group()))
    return out


def selectors(expr):
    """[(metric name, [matcher label names], has_braces)] of a PromQL expression."""
    toks = tokens(expr)
    out, i = [], 0
    while i < len(toks):
        kind, text = toks[i]
        nxt = toks[i + 1][1] if i + 1 < len(toks) else None
        if kind == "ident" and text in GROUPING and nxt == "(":
            i = toks.index(("op", ")"), i) + 1          # skip the label list
            continue
        if kind == "ident" and (nxt == "(" or (text in AGGREGATORS and nxt in GROUPING)):
            i += 1                                            # a function or aggregation
            continue
        if kind == "ident" and text in KEYWORDS:
            i += 1
            continue
        if (kind == "ident") or (kind == "op" and text == "{"):
            name = text if kind == "ident" else None
            if kind == "ident":
                i += 1
            labels, braces = [], False
            if i < len(toks) and toks[i] == ("op", "{"):
                braces = True
                i += 1
                while i < len(toks) and toks[i] != ("op", "}"):
                    if toks[i][0] == "ident" and i + 1 < len(toks) \
                            and toks[i + 1][1] in ("=", "!=", "=~", "!~"):
                        labels.append(toks[i][1])
                    i += 1
                i += 1
            out.append((name, labels, braces))
            continue
        i += 1
    return out


def expressions(dash):
    """[(where, expr, is_panel)]: every panel target's expr and every template query."""
    found = []

    def walk_panels(panels):
        for p in panels:
            for t in p.get("targets", []):
                if "expr" in t:
                    found.append(("panel %r" % p.get("title"), t["expr"], True))
            walk_panels(p.get("panels", []))

    walk_panels(dash.get("panels", []))
    for v in dash.get("templating", {}).get("list", []):
        q = v.get("query")
        if v.get("type") == "query":
            q = q.get("query") if isinstance(q, dict) else q
            m = re.fullmatch(r"\s*label_values\((.*),\s*[A-Za-z_]+\s*\)\s*", q or "")
            found.append(("variable %r" % v.get("name"), m.group(1) if m else q, False))
    return found


def check(dash, series):
    problems, shown = [], set()
    for where, expr, is_panel in expressions(dash):
        try:
            sels = selectors(expr)
        except (ValueError, IndexError) as e:
            problems.append("%s: %s" % (where, e))
            continue
        if not sels:
            problems.append("%s: no series in %r" % (where, expr))
        for name, labels, _ in sels:
            if name is None:
                problems.append("%s: a selector without a metric name in %r" % (where, expr))
                continue
            base, extra = name, set()
            if name not in series:
                base = next((name[:-len(s)] for s in HIST_SUFFIXES if name.endswith(s)), None)
                if base not in series or series[base][0] != "histogram":
                    problems.append("%s: %s is not a series of shared/cc_metrics.h" % (where, name))
                    continue
                if name.endswith("_bucket"):
                    extra = {"le"}
            elif series[name][0] == "histogram":
                problems.append("%s: %s is a histogram: use %s" % (where, name,
                                "/".join(name + s for s in HIST_SUFFIXES)))
                continue
            shown.add(base)
            allowed = series[base][1] | TARGET_LABELS | extra
            for label in labels:
                if label not in allowed:
                    problems.append("%s: %s has no label %r (it has %s)"
                                    % (where, name, label, ", ".join(sorted(allowed))))
            if is_panel and "instance" not in labels:
                problems.append('%s: %s without instance=~"$instance"' % (where, name))
    for p in _all_panels(dash.get("panels", [])):
        if p.get("type") == "row":
            continue
        uids = {(t.get("datasource") or p.get("datasource") or {}).get("uid")
                for t in p.get("targets", [])}
        if uids != {"${datasource}"}:
            problems.append("panel %r: queries %s, not ${datasource}" % (p.get("title"), uids))
    names = {v.get("name"): v for v in dash.get("templating", {}).get("list", [])}
    if names.get("datasource", {}).get("type") != "datasource":
        problems.append("no datasource variable (type datasource)")
    if names.get("instance", {}).get("type") != "query":
        problems.append("no instance variable (type query)")
    for name in sorted(set(series) - shown):
        problems.append("%s (shared/cc_metrics.h) is on no panel of the dashboard" % name)
    return problems


def _all_panels(panels):
    for p in panels:
        yield p
        yield from _all_panels(p.get("panels", []))


def self_test(dash, series):
    """Each planted drift must be caught (the check itself could rot into a no-op)."""
    def planted(expr):
        d = json.loads(json.dumps(dash))
        d["panels"].append({"type": "timeseries", "title": "planted",
                            "datasource": {"uid": "${datasource}"},
                            "targets": [{"expr": expr}]})
        return check(d, series)

    cases = {
        "an undeclared series": 'rate(cc_http_requests{instance=~"$instance"}[5m])',
        "a suffix on a counter": 'cc_db_acquires_total_bucket{instance=~"$instance"}',
        "a bare histogram": 'cc_db_acquire_wait_seconds{instance=~"$instance"}',
        "an undeclared label": 'cc_sms_deliveries_total{instance=~"$instance", status="x"}',
        "a selector without the node": 'sum by (job) (cc_job_runs_total{job="sms"})',
        "a series in an `or`": 'cc_event_stream_clients{instance=~"$instance"} or '
                               'cc_stream_clients{instance=~"$instance"}',
    }
    for what, expr in cases.items():
        if not planted(expr):
            return "self-test: %s (%s) was not caught" % (what, expr)
    d = json.loads(json.dumps(dash))
    d["panels"] = [p for p in d["panels"]
                   if "cc_sms_deliveries_total" not in json.dumps(p.get("targets", []))]
    if not any("cc_sms_deliveries_total" in p for p in check(d, series)):
        return "self-test: a series on no panel was not caught"
    if planted('histogram_quantile(0.99, sum by (le, route) (rate('
               'cc_http_request_duration_seconds_bucket{instance=~"$instance", '
               'route!="unmatched"}[$__rate_interval])))'):
        return "self-test: a correct expression was refused"
    return None


def main():
    try:
        with open(HEADER, encoding="utf-8") as f:
            series = declared_series(f.read())
        with open(DASHBOARD, encoding="utf-8") as f:
            dash = json.load(f)
    except (OSError, ValueError) as e:
        print("check_dashboard: FAIL: %s" % e)
        return 1
    if len(series) < 5:
        print("check_dashboard: FAIL: only %d series read from %s" % (len(series), HEADER))
        return 1
    err = self_test(dash, series)
    if err:
        print("check_dashboard: FAIL: " + err)
        return 1
    problems = check(dash, series)
    for p in problems:
        print("check_dashboard: FAIL: " + p)
    if problems:
        return 1
    print("ok (%d series, %d expressions)" % (len(series), len(expressions(dash))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
