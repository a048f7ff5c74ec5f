#!/usr/bin/env python3
"""The Grafana dashboard (packaging/grafana/redline.json) against the agent
that feeds it, in a network namespace the test creates (loopback only):
- the JSON is a dashboard Grafana can import: unique panel ids, every panel
  with a datasource, a unit and at least one PromQL target, no overlapping
  panels, every template variable it uses defined;
- every metric its expressions (panels and variable queries) name is a
  family in a live scrape of the agent, while workloads make every family
  appear (syscalls, CPU, disk I/O, TCP with drops and a refused connect,
  HTTP with 5xx, Redis with error replies, PostgreSQL, memcached, MariaDB
  and DNS (unbound) with errors, HTTP/2 (nginx h2c, h2load) with 503s, gRPC
  (grpc_echo.py) with UNAVAILABLE, CPU burners sharing a CPU and one in a
  cgroup with a 20% CPU quota, two SLOs; grafana_load.py); the main
  families are on the dashboard;
- a real Prometheus scrapes the agent (--syscall-histograms=top:5) every
  second; after ~20 s every expression, its variables substituted as
  Grafana would, is evaluated by /api/v1/query at the last good scrape
  (the workloads stopped, queries four at a time): all parse and run,
  every one returns series (the core panels, syscalls/s, CPU and HTTP
  requests/s, checked by name), and each option of the custom variables
  ("Group by", "Top N") runs too. A family missing from the scrape
  prints redline_http_unparsed_total (why requests went uncounted).
REDLINE_GRAFANA_DASHBOARD overrides the dashboard path (to check that a
broken dashboard fails)."""
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from grafana_load import Workloads  # noqa
from rltest import (Agent, check, enter_netns, free_port,  # noqa
                    require_bpf)

HERE = os.path.dirname(os.path.abspath(__file__))
DASHBOARD = os.environ.get("REDLINE_GRAFANA_DASHBOARD", os.path.join(
    HERE, "..", "..", "packaging", "grafana", "redline.json"))
# Grafana's built-in variables, as an instant query at "now" sees them.
BUILTINS = {"__rate_interval": "1m", "__interval": "15s",
            "__interval_ms": "15000", "__range": "1m", "__range_s": "60",
            "__range_ms": "60000", "__auto": "", "__dashboard": "redline"}
MUST_USE = ("redline_syscalls_total", "redline_syscall_errors_total",
            "redline_syscall_duration_seconds", "redline_cpu_seconds_total",
            "redline_runqueue_latency_seconds",
            "redline_disk_io_duration_seconds",
            "redline_tcp_retransmits_total",
            "redline_http_server_requests_total", "redline_slo_burn_rate",
            "redline_redis_client_requests_total",
            "redline_postgresql_client_requests_total",
            "redline_mysql_client_requests_total",
            "redline_dns_client_requests_total",
            "redline_http2_server_requests_total",
            "redline_grpc_server_requests_total",
            "redline_offcpu_seconds_total",
            "redline_runqueue_wait_by_culprit_seconds_total",
            "redline_cpu_throttled_seconds_total",
            "redline_bpf_map_drops_total")
# An expression over only one of these must return series.
CORE = ("redline_syscalls_total", "redline_cpu_seconds_total",
        "redline_http_server_requests_total",
        "redline_redis_client_requests_total")

SLO_CONFIG = """slos:
  - name: gf-http
    selector: {comm: rl_gf_srv}
    sli: {kind: http_availability}
    objective: 99
  - name: gf-openat
    selector: {comm: rl_sysstorm}
    sli: {kind: syscall_errors, syscalls: [openat]}
    objective: 99.9
"""

# ---------------------------------------------------------------- dashboard

def walk_panels(panels):
    for p in panels:
        yield p
        yield from walk_panels(p.get("panels", []))


VAR_REF = re.compile(r"\$\{(\w+)(?::[^}]*)?\}|\$(\w+)|\[\[(\w+)(?::[^\]]*)?\]\]")


def var_refs(text):
    return {a or b or c for a, b, c in VAR_REF.findall(text or "")}


def var_query(v):
    q = v.get("query")
    if isinstance(q, dict):
        q = q.get("query", "")
    return q or ""


def exprs_of(dash):
    """[(where, expr)] for panel targets and query-variable queries."""
    out = []
    for p in walk_panels(dash["panels"]):
        for t in p.get("targets", []):
            out.append((f"panel {p['id']} \"{p.get('title')}\" {t.get('refId')}",
                        t.get("expr", "")))
    for v in dash["templating"]["list"]:
        if v["type"] == "query":
            out.append((f"variable ${v['name']}", var_query(v)))
    return out


def check_structure(dash):
    check(dash.get("uid") == "redline-overview" and dash.get("title") == "redline"
          and dash.get("tags"), "dashboard uid redline-overview, title, tags")
    check(isinstance(dash.get("schemaVersion"), int) and dash["schemaVersion"] >= 36,
          f"schemaVersion {dash.get('schemaVersion')} >= 36")
    variables = dash["templating"]["list"]
    names = [v["name"] for v in variables]
    check(len(names) == len(set(names)), f"template variables unique: {names}")
    ds_vars = {v["name"] for v in variables if v["type"] == "datasource"
               and v.get("query") == "prometheus"}
    check(ds_vars, "a Prometheus datasource variable is defined")
    for v in variables:
        if v["type"] == "query":
            check(var_query(v).startswith("label_values(") and
                  v.get("datasource", {}).get("uid") in {f"${{{d}}}" for d in ds_vars} |
                  {f"${d}" for d in ds_vars},
                  f"variable ${v['name']}: label_values on the datasource variable")
    check("$__rate_interval" in json.dumps(dash), "rates use $__rate_interval")

    all_panels = list(walk_panels(dash["panels"]))
    ids = [p.get("id") for p in all_panels]
    dup = sorted({i for i in ids if ids.count(i) > 1 or i is None}, key=str)
    problems, used, cells = [], set(), {}
    if dup:
        problems.append(f"panel ids not unique: {dup}")
    for p in all_panels:
        used |= var_refs(p.get("title")) | var_refs(p.get("description"))
        g = p.get("gridPos", {})
        if not (g.get("w", 0) > 0 and g.get("h", 0) > 0 and
                0 <= g.get("x", -1) and g["x"] + g["w"] <= 24 and g.get("y", -1) >= 0):
            problems.append(f"panel {p.get('id')}: bad gridPos {g}")
        elif not (p["type"] == "row" and p.get("collapsed")):
            for x in range(g["x"], g["x"] + g["w"]):
                for y in range(g["y"], g["y"] + g["h"]):
                    if (x, y) in cells:
                        problems.append(f"panel {p['id']} overlaps panel {cells[(x, y)]}")
                        break
                    cells[(x, y)] = p["id"]
                else:
                    continue
                break
        if p["type"] == "row":
            continue
        ds = p.get("datasource") or {}
        if ds.get("uid") not in {f"${{{d}}}" for d in ds_vars} | {f"${d}" for d in ds_vars}:
            problems.append(f"panel {p['id']} \"{p.get('title')}\": datasource {ds}")
        if not p.get("title"):
            problems.append(f"panel {p['id']}: no title")
        if not p.get("fieldConfig", {}).get("defaults", {}).get("unit"):
            problems.append(f"panel {p['id']} \"{p.get('title')}\": no unit")
        targets = p.get("targets") or []
        if not targets:
            problems.append(f"panel {p['id']} \"{p.get('title')}\": no target")
        refs = [t.get("refId") for t in targets]
        if len(refs) != len(set(refs)):
            problems.append(f"panel {p['id']}: duplicate refIds {refs}")
        for t in targets:
            if not t.get("expr", "").strip():
                problems.append(f"panel {p['id']} {t.get('refId')}: empty expr")
            tds = t.get("datasource")
            if tds and tds.get("uid") != ds.get("uid"):
                problems.append(f"panel {p['id']} {t.get('refId')}: datasource {tds}")
            used |= var_refs(t.get("expr")) | var_refs(t.get("legendFormat"))
    for v in variables:
        used |= var_refs(var_query(v))
    undefined = sorted(used - set(names) - set(BUILTINS))
    if undefined:
        problems.append(f"template variables used but not defined: {undefined}")
    for p in problems:
        print(f"  {p}")
    check(not problems, f"{len(all_panels)} panels well-formed: unique ids, "
          f"datasource, unit, targets, layout; variables used "
          f"{sorted(used)} are defined ({len(problems)} problems)")


STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
METRIC = re.compile(r"(?<![A-Za-z0-9_:$])((?:redline|process)_[A-Za-z0-9_:]*)")


def metric_names(expr):
    return set(METRIC.findall(STRING.sub('""', expr)))


def family_of(name, types):
    if name in types:
        return name
    for suffix in ("_bucket", "_sum", "_count"):
        base = name[:-len(suffix)]
        if name.endswith(suffix) and types.get(base) in ("histogram", "summary"):
            return base
    return None


# ---------------------------------------------------------------- Prometheus

def prom_query(port, q, at=None, timeout=10):
    args = {"query": q}
    if at is not None:
        args["time"] = f"{at:.3f}"
    data = urllib.parse.urlencode(args).encode()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/query",
                                    data=data, timeout=timeout) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        try:
            return json.load(e)
        except ValueError:
            return {"status": "error", "error": f"HTTP {e.code}"}


LABEL_VALUES = re.compile(r"^\s*label_values\((?:(.*),\s*)?(\w+)\s*\)\s*$", re.S)


def substitute(expr, values):
    def rep(m):
        name = m.group(1) or m.group(2) or m.group(3)
        return values.get(name, BUILTINS.get(name, m.group(0)))
    return VAR_REF.sub(rep, expr)


def run_queries(port, queries, at):
    """prom_query of each query at `at`, four at a time (a test's worth
    of Grafana panels and variable options is hundreds), in order; prints
    the slowest. A query may take seconds on a loaded host."""
    def timed(q):
        t0 = time.time()
        res = prom_query(port, q, at, timeout=60)
        return res, time.time() - t0
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        out = list(pool.map(timed, queries))
    slow = sorted(zip((t for _, t in out), queries), reverse=True)[:3]
    for t, q in slow:
        print(f"info: {t:.2f} s for {' '.join(q.split())[:150]}")
    return [res for res, _ in out]


def label_values(port, query, values, at):
    """Values Grafana would list for a label_values() variable query."""
    m = LABEL_VALUES.match(query)
    if not m:
        return None, f"not label_values(): {query}"
    selector, label = m.group(1), m.group(2)
    if selector is None:
        with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/api/v1/label/{label}/values",
                timeout=10) as r:
            return sorted(json.load(r)["data"]), None
    res = prom_query(port, substitute(selector, values), at)
    if res.get("status") != "success":
        return None, res.get("error")
    return sorted({s["metric"][label] for s in res["data"]["result"]
                   if label in s["metric"]}), None


def regex_value(vals):
    """A multi-value variable with these values selected, as Grafana writes
    it into a PromQL regex matcher."""
    esc = [re.escape(v).replace("\\", "\\\\") for v in vals]
    return esc[0] if len(esc) == 1 else "(" + "|".join(esc) + ")"


def variable_values(port, dash, at):
    """Current values of every variable; fails on an empty query variable."""
    values, options = {}, {}
    for v in dash["templating"]["list"]:
        if v["type"] == "datasource":
            continue
        if v["type"] == "custom":
            opts = [o.strip() for o in v["query"].split(",") if o.strip()]
            cur = v.get("current", {}).get("value") or opts[0]
            values[v["name"]], options[v["name"]] = cur, opts
            continue
        vals, err = label_values(port, var_query(v), values, at)
        check(err is None and vals, f"variable ${v['name']}: "
              f"{var_query(v)} -> {len(vals or [])} values {(vals or [])[:6]} "
              f"{err or ''}")
        # "All" is the default selection: its allValue (.*). The instance
        # filter gets the agent's real address instead, escaped as Grafana
        # does for a selected value, so that filter is exercised too.
        if v.get("includeAll") and v.get("allValue") and v["name"] != "instance":
            values[v["name"]] = v["allValue"]
        else:
            values[v["name"]] = regex_value(vals)
    return values, options


def start_prometheus(tmp, agent_port):
    cfg = os.path.join(tmp, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                "scrape_configs:\n  - job_name: redline\n"
                f"    static_configs:\n      - targets: ['127.0.0.1:{agent_port}']\n")
    port = free_port()
    proc = subprocess.Popen(
        ["prometheus", f"--config.file={cfg}", f"--storage.tsdb.path={tmp}/prom",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready",
                                        timeout=2):
                return proc, port
        except OSError:
            time.sleep(0.2)
    proc.kill()
    check(False, "Prometheus became ready in 20 s")


def target_health(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/targets",
                                timeout=10) as r:
        t = json.load(r)["data"]["activeTargets"]
    return [(x["health"], x["lastError"], round(x["lastScrapeDuration"], 3))
            for x in t]


def wait_scraped(port, want=10, limit=40):
    """Waits until Prometheus holds `want` good scrapes of the last minute
    (a scrape slower than the 1 s interval, on a loaded host, is lost)."""
    q = 'sum_over_time(up{job="redline"}[1m])'
    deadline = time.time() + limit
    while True:
        res = prom_query(port, q)["data"]["result"]
        got = float(res[0]["value"][1]) if res else 0
        if got >= want or time.time() > deadline:
            break
        time.sleep(1)
    check(got >= want, f"Prometheus holds {got:.0f} good scrapes of the last "
          f"minute (>= {want}); target {target_health(port)}")


def last_good_scrape(port, limit=15):
    """Time of the newest successful scrape. Every query is evaluated then:
    a failed scrape (slower than the 1 s timeout) marks all the target's
    series stale, and gauges would vanish from an instant query at now."""
    deadline = time.time() + limit
    while True:
        res = prom_query(port, 'max(timestamp(redline_build_info{job="redline"}))')
        if res["data"]["result"] or time.time() > deadline:
            break
        time.sleep(0.5)
    check(res["data"]["result"], "Prometheus has a recent successful scrape")
    at = float(res["data"]["result"][0]["value"][1])
    print(f"info: queries evaluated at the last good scrape, "
          f"{time.time() - at:.1f} s ago")
    return at


def scrape_types(agent):
    return {m.group(1): m.group(2) for m in re.finditer(
        r"^# TYPE (\S+) (\S+)$", agent.get(), re.M)}


# ---------------------------------------------------------------- main

def main():
    require_bpf()
    enter_netns("RL_GRAFANA_NETNS")
    t_start = time.time()
    for exe in ("prometheus", "iptables", "dd", "redis-server", "memcached",
                "mariadbd", "mariadb", "/usr/sbin/unbound", "nginx", "h2load"):
        check(shutil.which(exe) is not None, f"{exe} installed")

    try:
        with open(DASHBOARD) as f:
            dash = json.load(f)
    except ValueError as e:
        check(False, f"{DASHBOARD} is valid JSON: {e}")
    check(True, f"{os.path.relpath(DASHBOARD)} is valid JSON")
    check_structure(dash)
    exprs = exprs_of(dash)
    referenced = {}
    for where, e in exprs:
        for n in metric_names(e):
            referenced.setdefault(n, []).append(where)
    check(len(exprs) > 0, f"{len(exprs)} PromQL expressions (panels and "
          f"variables), {len(referenced)} metric names referenced")

    tmp = tempfile.mkdtemp(prefix="rl-grafana-")
    pg_tmp = tempfile.mkdtemp(prefix="rl-grafana-pg-")  # postgres-owned
    load, prom = Workloads(tmp, pg_tmp), None
    try:
        check(os.major(os.stat(tmp).st_dev) != 0,
              f"{tmp} is on a block device (O_DIRECT I/O reaches the disk)")
        cfg = os.path.join(tmp, "slo.yaml")
        with open(cfg, "w") as f:
            f.write(SLO_CONFIG)
        # Syscall histograms for each workload's top 5 syscalls (the rest
        # in syscall="[other]"), as on a busy host: over every syscall of
        # every process on this shared host (other builds included), the
        # syscall p99 panels took 12-23 s a query at load average 9.
        with Agent(f"--slo-config={cfg}", "--refresh-interval=1",
                   "--syscall-histograms=top:5") as agent:
            prom, pport = start_prometheus(tmp, agent.port)
            t_prom = time.time()
            load.start()

            # Every family the dashboard names must be in a live scrape.
            deadline = time.time() + 20
            while True:
                types = scrape_types(agent)
                fams = {n: family_of(n, types) for n in referenced}
                missing = sorted(n for n, f in fams.items() if f is None)
                if not missing or time.time() > deadline:
                    break
                time.sleep(1)
            for n in missing:
                print(f"  missing: {n} (used by {', '.join(referenced[n][:3])})")
            if missing:  # a request family: why its requests went uncounted
                print("  " + "\n  ".join(
                    line for line in agent.get().splitlines()
                    if line.startswith("redline_http_unparsed_total")))
            used = set(fams.values()) - {None}
            check(not missing, f"all {len(referenced)} metric names the "
                  f"dashboard references ({len(used)} families) are in a live "
                  f"scrape of {len(types)} families (missing: {missing})")
            not_used = sorted(set(MUST_USE) - used)
            check(not not_used, f"main families on the dashboard "
                  f"(missing: {not_used})")
            unused = sorted(set(types) - used)
            print(f"info: {len(used)} of {len(types)} exported families used; "
                  f"unused: {unused or 'none'}")
            check(not load.errors, f"background workloads ran {load.errors[:2]}")

            # Then everything through a real Prometheus.
            time.sleep(max(0.0, 20 - (time.time() - t_prom)))
            wait_scraped(pport)
            at = last_good_scrape(pport)
            values, options = variable_values(pport, dash, at)
            print("info: variables " + " ".join(f"{k}={v}" for k, v in values.items()))
            # Every query is evaluated at `at`: the workloads are done.
            # Stopped, they leave Prometheus the CPUs (two burners and a
            # quota-bound spinner hold one) for its hundreds of queries.
            t_stop = time.time()
            load.stop()
            print(f"info: workloads stopped in {time.time() - t_stop:.1f} s")
            failed, empty, core = [], [], {c: [] for c in CORE}
            t_queries = time.time()
            panel_exprs = [(w, e) for w, e in exprs
                           if not w.startswith("variable")]
            for (where, e), res in zip(panel_exprs, run_queries(
                    pport, [substitute(e, values) for _, e in panel_exprs],
                    at)):
                n = len(res.get("data", {}).get("result", []))
                if res.get("status") != "success":
                    failed.append(where)
                    print(f"  FAIL {where}: {res.get('errorType')}: "
                          f"{res.get('error')}\n    {substitute(e, values)}")
                    continue
                vals = [float(r["value"][1]) for r in res["data"]["result"]
                        if isinstance(r, dict)]
                print(f"  ok   {where}: {n} series"
                      + (f", max {max(vals):.4g}" if vals else ""))
                if n == 0:
                    empty.append(where)
                fam = {family_of(m, types) for m in metric_names(e)}
                if len(fam) == 1 and fam <= set(CORE):
                    core[fam.pop()].append((where, n))
            # Each other option of the custom variables, every expression
            # using it: all must run (series or not).
            jobs = [(name, opt, where, substitute(e, dict(values, **{name: opt})))
                    for name, opts in options.items() for opt in opts
                    if opt != values[name]
                    for where, e in panel_exprs if name in var_refs(e)]
            results = run_queries(pport, [j[3] for j in jobs], at)
            ran = {}
            for (name, opt, where, _), res in zip(jobs, results):
                bad = ran.setdefault((name, opt), [])
                if res.get("status") != "success":
                    bad.append(where)
                    print(f"  FAIL ${name}={opt} {where}: {res.get('error')}")
            for (name, opt), bad in ran.items():
                failed += bad
                uses = sum(1 for j in jobs if j[:2] == (name, opt))
                print(f"  {'ok  ' if not bad else 'FAIL'} ${name}={opt}: "
                      f"{uses - len(bad)}/{uses} expressions run")
            print(f"info: {len(panel_exprs) + len(jobs)} queries in "
                  f"{time.time() - t_queries:.1f} s")
            n_panel = sum(1 for w, _ in exprs if not w.startswith("variable"))
            check(not failed, f"Prometheus ran all {n_panel} panel expressions "
                  f"(and every option of {sorted(options)}): {len(failed)} failed")
            for fam, got in core.items():
                check(got and all(n > 0 for _, n in got),
                      f"core panels on {fam} return series: {got}")
            # The workloads above exercise every panel: an empty one has a
            # wrong label name or value, or a workload is missing here.
            check(not empty, f"every panel expression returns series under "
                  f"this workload (empty: {empty})")
    finally:
        load.stop()
        shutil.rmtree(pg_tmp, ignore_errors=True)
        if prom:
            prom.terminate()
            prom.wait(timeout=20)
        shutil.rmtree(tmp, ignore_errors=True)
    # Its wall time, to keep the workloads' start-up in check (one agent,
    # one Prometheus, about twenty servers and clients).
    print(f"info: took {time.time() - t_start:.1f} s")
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
