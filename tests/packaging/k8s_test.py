#!/usr/bin/env python3
"""Kubernetes and container-image packaging checks. Offline and unprivileged:
no cluster, no container engine, no network.

- `kubectl kustomize packaging/kubernetes/base` renders, and the committed
  all-in-one packaging/kubernetes/redline.yaml holds the same objects
  (scripts/gen-k8s.sh regenerates it). kustomize versions differ only in
  object order and the ConfigMap's hash suffix, which are ignored, so any
  kubectl from 1.20 (Debian 12's kubernetes-client) on works.
- Every object decodes client-side (`kubectl patch --local`, which needs no
  API server; `kubectl apply/create --dry-run=client` cannot run without
  one: they fetch API discovery first).
- Least privilege, structurally: hostPID, uid 0 with exactly CAP_BPF and
  CAP_PERFMON, no privilege escalation, read-only root and mounts, only the
  BTF and cgroup host paths, probes on /healthz, resources set; the
  ClusterRole is exactly get on nodes/pods.
- The PrometheusRule is exactly `redline rules --format=prometheus-operator`
  of the shipped slo.yaml, and promtool accepts its rules.
- The optional components render and do what they say (kubectl >= 1.21).
- Schema validation against the Kubernetes OpenAPI and Prometheus Operator
  CRD schemas (tests/packaging/schema, after `npm ci` there).
- packaging/docker/Dockerfile: stages, copied paths, user, entrypoint and
  command agree with the DaemonSet; every Debian package the image build
  installs exists (apt-cache).

Environment: REDLINE_BIN (default build/agent/redline), KUBECTL (default
kubectl on PATH). Without kubectl it skips (exit 77) unless
REDLINE_REQUIRE_BPF=1, where that is a failure; REDLINE_REQUIRE_SCHEMA=1
makes a missing schema validator (node, npm ci) a failure too."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
K8S = os.path.join(ROOT, "packaging", "kubernetes")
BASE = os.path.join(K8S, "base")
DOCKER = os.path.join(ROOT, "packaging", "docker")
SCHEMA = os.path.join(ROOT, "tests", "packaging", "schema")
NS = "redline"
CONFIG_PATH = "/etc/redline/redline.yaml"
PORT = 10433
HASHED = re.compile(r"\b(redline-config)-[a-z0-9]{10}\b")


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            print(f"ok   {what}")
        else:
            self.failed += 1
            print(f"FAIL {what}" + (f": {detail}" if detail else ""))
        return ok

    def note(self, what):
        print(f"skip {what}")


C = Checks()


def env_flag(name):
    return os.environ.get(name) == "1"


def kubectl_path():
    k = os.environ.get("KUBECTL") or shutil.which("kubectl")
    return k if k and os.access(k, os.X_OK) else None


KUBECTL = kubectl_path()
# Never talk to a cluster: an empty kubeconfig.
KENV = dict(os.environ, KUBECONFIG=os.devnull)


def kubectl(*args, cwd=None):
    return subprocess.run([KUBECTL, *args], capture_output=True, text=True,
                          env=KENV, cwd=cwd, timeout=120)


def kubectl_minor():
    r = kubectl("version", "--client", "-o", "json")
    try:
        return int(re.match(r"\d+", json.loads(r.stdout)["clientVersion"]
                            ["minor"]).group(0))
    except (ValueError, KeyError, AttributeError):
        return None


def decode(yaml_text):
    """YAML documents -> objects, decoded by kubectl itself, offline: a
    no-op local patch prints each object as JSON."""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(yaml_text)
    try:
        r = kubectl("patch", "--local", "-f", f.name, "--type", "merge",
                    "-p", "{}", "-o", "json")
    finally:
        os.unlink(f.name)
    if r.returncode != 0:
        raise ValueError(r.stderr.strip()[-800:])
    objs, dec, i, s = [], json.JSONDecoder(), 0, r.stdout
    while True:
        while i < len(s) and s[i].isspace():
            i += 1
        if i >= len(s):
            break
        o, i = dec.raw_decode(s, i)
        objs.extend(o["items"] if o.get("kind") == "List" else [o])
    return objs


def key(o):
    m = o.get("metadata", {})
    return (o.get("kind"), m.get("namespace", ""),
            HASHED.sub(r"\1-HASH", m.get("name", "")))


def normalized(objs):
    return {key(o): json.loads(HASHED.sub(r"\1-HASH", json.dumps(o)))
            for o in objs}


def render(path):
    r = kubectl("kustomize", path)
    if r.returncode != 0:
        raise ValueError(r.stderr.strip()[-800:])
    return r.stdout


def one(objs, kind):
    found = [o for o in objs if o["kind"] == kind]
    C.check(len(found) == 1, f"exactly one {kind}", f"found {len(found)}")
    return found[0] if found else {}


def project_version():
    with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
        m = re.search(r"project\(redline VERSION ([0-9.]+)", f.read())
    return m.group(1) if m else None


QUANTITY = {"m": 1e-3, "": 1, "k": 1e3, "M": 1e6, "G": 1e9,
            "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}


def quantity(q):
    m = re.fullmatch(r"([0-9.]+)(m|k|M|G|Ki|Mi|Gi|)", str(q))
    return float(m.group(1)) * QUANTITY[m.group(2)] if m else None


# --- rendering ---------------------------------------------------------

def check_render():
    try:
        rendered = render(BASE)
    except ValueError as e:
        C.check(False, "kubectl kustomize packaging/kubernetes/base", str(e))
        return None
    C.check(True, "kubectl kustomize packaging/kubernetes/base")
    try:
        objs = decode(rendered)
    except ValueError as e:
        C.check(False, "rendered objects decode client-side", str(e))
        return None
    C.check(bool(objs), f"rendered objects decode client-side "
            f"({len(objs)} objects)")
    with open(os.path.join(K8S, "redline.yaml")) as f:
        committed_text = f.read()
    try:
        committed = decode(committed_text)
    except ValueError as e:
        C.check(False, "packaging/kubernetes/redline.yaml decodes", str(e))
        return objs
    a, b = normalized(objs), normalized(committed)
    stale = sorted("/".join(k) for k in set(a) | set(b)
                   if a.get(k) != b.get(k))
    C.check(not stale, "packaging/kubernetes/redline.yaml is the rendered "
            "base", f"differs in {stale}: run scripts/gen-k8s.sh")
    C.check(committed and committed[0]["kind"] == "Namespace",
            "redline.yaml creates the Namespace first")
    return objs


# --- structure ---------------------------------------------------------

def check_namespace(objs):
    ns = one(objs, "Namespace")
    labels = ns.get("metadata", {}).get("labels", {})
    C.check(ns.get("metadata", {}).get("name") == NS
            and labels.get("pod-security.kubernetes.io/enforce")
            == "privileged",
            "Namespace redline, Pod Security 'privileged' (hostPID, "
            "hostPath, BPF capabilities are outside 'baseline')")
    scoped = [o for o in objs if o["kind"] not in
              ("Namespace", "ClusterRole", "ClusterRoleBinding")]
    wrong = [key(o) for o in scoped if o["metadata"].get("namespace") != NS]
    C.check(not wrong, "every namespaced object is in namespace redline",
            str(wrong))


def check_rbac(objs):
    C.check(not [o for o in objs if o["kind"] in ("Role", "RoleBinding")],
            "no namespaced Role/RoleBinding")
    sa = one(objs, "ServiceAccount")
    role = one(objs, "ClusterRole")
    binding = one(objs, "ClusterRoleBinding")
    C.check(role.get("rules") == [{"apiGroups": [""],
                                   "resources": ["nodes/pods"],
                                   "verbs": ["get"]}],
            "ClusterRole: exactly get on nodes/pods (kubelet GET /pods, "
            "fine-grained; never nodes/proxy)", json.dumps(role.get("rules")))
    C.check(binding.get("roleRef") == {
        "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
        "name": role.get("metadata", {}).get("name")}
        and binding.get("subjects") == [{
            "kind": "ServiceAccount", "name": sa["metadata"]["name"],
            "namespace": NS}],
        "ClusterRoleBinding: that role to the redline ServiceAccount only")
    return sa


def check_daemonset(objs, sa):
    ds = one(objs, "DaemonSet")
    tpl = ds.get("spec", {}).get("template", {})
    pod = tpl.get("spec", {})
    psc = pod.get("securityContext", {})
    C.check(pod.get("hostPID") is True, "hostPID: true")
    C.check(not pod.get("hostNetwork") and not pod.get("hostIPC"),
            "no hostNetwork, no hostIPC (listens in the pod network)")
    C.check(pod.get("serviceAccountName") == sa["metadata"]["name"]
            and pod.get("automountServiceAccountToken") is not False,
            "runs as the redline ServiceAccount, token mounted (kubelet)")
    C.check(pod.get("priorityClassName") == "system-node-critical",
            "priorityClassName system-node-critical")
    rq = [o for o in objs if o["kind"] == "ResourceQuota"]
    C.check(any({"scopeName": "PriorityClass", "operator": "In",
                 "values": ["system-node-critical"]} in
                q["spec"].get("scopeSelector", {}).get("matchExpressions",
                                                       []) for q in rq),
            "ResourceQuota admits system-node-critical pods (GKE)")
    C.check({"operator": "Exists"} in pod.get("tolerations", []),
            "tolerates every taint (runs on all nodes)")
    C.check(pod.get("nodeSelector") == {"kubernetes.io/os": "linux"},
            "nodeSelector kubernetes.io/os=linux")
    C.check(not pod.get("initContainers")
            and len(pod.get("containers", [])) == 1,
            "one container, no init containers")
    c = (pod.get("containers") or [{}])[0]
    sc = c.get("securityContext", {})
    caps = sc.get("capabilities", {})
    C.check(caps == {"add": ["BPF", "PERFMON"], "drop": ["ALL"]},
            "capabilities: drop ALL, add exactly BPF and PERFMON",
            json.dumps(caps))
    C.check(not sc.get("privileged") and not psc.get("privileged"),
            "not privileged")
    C.check(sc.get("allowPrivilegeEscalation") is False,
            "allowPrivilegeEscalation: false (no_new_privs)")
    C.check(sc.get("readOnlyRootFilesystem") is True,
            "readOnlyRootFilesystem: true")
    uid = sc.get("runAsUser", psc.get("runAsUser"))
    C.check(uid == 0 and not sc.get("runAsNonRoot", psc.get("runAsNonRoot")),
            "runs as uid 0 (capabilities reach non-root users only "
            "through ambient sets, which Kubernetes does not grant)")
    seccomp = sc.get("seccompProfile", psc.get("seccompProfile", {}))
    C.check(seccomp.get("type") == "RuntimeDefault",
            "seccompProfile RuntimeDefault")
    ports = c.get("ports", [])
    C.check(len(ports) == 1 and ports[0].get("name") == "metrics"
            and ports[0].get("containerPort") == PORT
            and ports[0].get("protocol", "TCP") == "TCP",
            f"one port, metrics {PORT}/TCP")
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        get = c.get(probe, {}).get("httpGet", {})
        C.check(get.get("path") == "/healthz"
                and get.get("port") in ("metrics", PORT),
                f"{probe}: GET /healthz on the metrics port")
    res = c.get("resources", {})
    req, lim = res.get("requests", {}), res.get("limits", {})
    ok = all(r in req and r in lim for r in ("cpu", "memory"))
    ok = ok and all(quantity(req[r]) is not None and quantity(lim[r])
                    is not None and quantity(req[r]) <= quantity(lim[r])
                    for r in ("cpu", "memory"))
    C.check(ok, "cpu and memory requests and limits set, requests <= "
            "limits", json.dumps(res))
    C.check(c.get("args") == ["run", f"--config={CONFIG_PATH}"],
            f"args: run --config={CONFIG_PATH}", json.dumps(c.get("args")))
    host_ip = [e for e in c.get("env", []) if e.get("name") == "HOST_IP"]
    C.check(len(host_ip) == 1 and host_ip[0].get("valueFrom", {})
            .get("fieldRef", {}).get("fieldPath") == "status.hostIP",
            "env HOST_IP from status.hostIP (kubelet address)")
    version = project_version()
    C.check(c.get("image", "").rsplit(":", 1)[-1] == version,
            f"image tag is the project version {version}", c.get("image"))

    # Volumes: read-only everywhere; host paths only BTF and cgroup.
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    mounts = c.get("volumeMounts", [])
    C.check(mounts and all(m.get("readOnly") is True for m in mounts),
            "every volumeMount is readOnly")
    C.check(len(mounts) == len(vols)
            and {m["name"] for m in mounts} == set(vols),
            "every volume is mounted once")
    host = {v["hostPath"]["path"]: n for n, v in vols.items()
            if "hostPath" in v}
    C.check(set(host) == {"/sys/kernel/btf", "/sys/fs/cgroup"},
            "hostPath volumes: exactly /sys/kernel/btf and /sys/fs/cgroup "
            "(no /proc: hostPID's procfs is the host's)", str(sorted(host)))
    by_name = {m["name"]: m for m in mounts}
    for path in ("/sys/kernel/btf", "/sys/fs/cgroup"):
        m = by_name.get(host.get(path), {})
        C.check(m.get("mountPath") == path and m.get("readOnly") is True,
                f"{path} mounted read-only at {path}")
    others = [n for n, v in vols.items()
              if "hostPath" not in v and "configMap" not in v]
    C.check(not others, "no other volumes (nothing is written: no "
            "emptyDir)", str(others))
    cms = [v["configMap"]["name"] for v in vols.values() if "configMap" in v]
    cm_mounts = [by_name[n]["mountPath"] for n, v in vols.items()
                 if "configMap" in v]
    C.check(cm_mounts == ["/etc/redline"], "config mounted at /etc/redline")
    cm = [o for o in objs if o["kind"] == "ConfigMap"
          and o["metadata"]["name"] in cms]
    C.check(len(cm) == 1, "the config volume's ConfigMap is in the "
            "rendered objects", str(cms))
    if cm:
        check_config(cm[0])
    return ds


def check_config(cm):
    data = cm.get("data", {})
    C.check(set(data) == {"redline.yaml", "slo.yaml"},
            "ConfigMap holds redline.yaml and slo.yaml", str(sorted(data)))
    with open(os.path.join(BASE, "config", "slo.yaml")) as f:
        C.check(data.get("slo.yaml") == f.read(),
                "ConfigMap slo.yaml is base/config/slo.yaml")
    conf = data.get("redline.yaml", "")
    keys = dict(re.findall(r"^([a-z-]+):\s*(.*?)\s*$", conf, re.M))
    C.check(keys.get("listen", "").strip("\"'") in (f"[::]:{PORT}",
                                                    f":{PORT}"),
            f"config listens on all addresses, port {PORT} (pod network, "
            "IPv4 and IPv6)", keys.get("listen"))
    C.check(keys.get("slo-config") == "/etc/redline/slo.yaml",
            "config's slo-config is the mounted slo.yaml")


def check_service_and_monitor(objs, ds):
    pod_labels = ds["spec"]["template"]["metadata"]["labels"]
    svc = one(objs, "Service")
    spec = svc.get("spec", {})
    sel = spec.get("selector", {})
    C.check(spec.get("clusterIP") == "None", "Service is headless")
    C.check(sel and all(pod_labels.get(k) == v for k, v in sel.items()),
            "Service selects the agent pods")
    C.check([(p.get("name"), p.get("port"), p.get("targetPort"))
             for p in spec.get("ports", [])] == [("metrics", PORT,
                                                  "metrics")],
            "Service port metrics -> container port metrics")
    sm = one(objs, "ServiceMonitor")
    ml = sm.get("spec", {}).get("selector", {}).get("matchLabels", {})
    svc_labels = svc.get("metadata", {}).get("labels", {})
    C.check(ml and all(svc_labels.get(k) == v for k, v in ml.items()),
            "ServiceMonitor selects the Service")
    check_endpoints(sm.get("spec", {}).get("endpoints", []),
                    "ServiceMonitor")


def check_endpoints(eps, what):
    C.check(len(eps) == 1 and eps[0].get("port") == "metrics"
            and eps[0].get("path", "/metrics") == "/metrics",
            f"{what} scrapes port metrics, /metrics")
    rl = eps[0].get("relabelings", []) if eps else []
    drops = [r.get("regex", "") for r in rl
             if r.get("action", "").lower() == "labeldrop"]
    C.check(any(all(re.fullmatch(d, l) for l in
                    ("namespace", "pod", "container")) for d in drops),
            f"{what} drops the agent pod's namespace/pod/container target "
            "labels (the series carry the observed workload's)")
    C.check(any(r.get("targetLabel") == "instance" and r.get("sourceLabels")
                == ["__meta_kubernetes_pod_node_name"] for r in rl),
            f"{what}: instance = node name")


# --- PrometheusRule ----------------------------------------------------

def check_rule(objs, redline):
    rule = one(objs, "PrometheusRule")
    slo = os.path.join(BASE, "config", "slo.yaml")
    r = subprocess.run([redline, "rules", f"--slo-config={slo}",
                        "--format=prometheus-operator"],
                       capture_output=True, text=True, timeout=60)
    if not C.check(r.returncode == 0, "redline rules accepts the shipped "
                   "slo.yaml", r.stderr.strip()):
        return
    with open(os.path.join(BASE, "prometheusrule.yaml")) as f:
        C.check(f.read() == r.stdout, "base/prometheusrule.yaml is `redline "
                "rules --format=prometheus-operator` of base/config/slo.yaml",
                "run scripts/gen-k8s.sh")
    try:
        expected = decode(r.stdout)
    except ValueError as e:
        C.check(False, "redline rules output decodes", str(e))
        return
    C.check(len(expected) == 1 and rule.get("spec") == expected[0]["spec"]
            and rule["metadata"]["name"] == expected[0]["metadata"]["name"],
            "rendered PrometheusRule spec equals the generated one")
    promtool = shutil.which("promtool")
    if not promtool:
        C.note("promtool check rules (no promtool: Debian package "
               "prometheus)")
        return
    with tempfile.NamedTemporaryFile("w", suffix=".json",
                                     delete=False) as f:
        json.dump(rule.get("spec", {}), f)  # JSON is YAML
    try:
        p = subprocess.run([promtool, "check", "rules", f.name],
                           capture_output=True, text=True, timeout=120)
    finally:
        os.unlink(f.name)
    C.check(p.returncode == 0, "promtool check rules accepts the "
            "PrometheusRule's groups", (p.stdout + p.stderr).strip()[-400:])


# --- components --------------------------------------------------------

def render_with(components):
    """The base plus components, through a throwaway overlay (kustomize
    wants relative paths)."""
    tmp = tempfile.mkdtemp(prefix="rl-k8s-")
    try:
        rel = os.path.relpath(K8S, tmp)
        with open(os.path.join(tmp, "kustomization.yaml"), "w") as f:
            f.write(f"resources:\n- {rel}/base\ncomponents:\n")
            f.writelines(f"- {rel}/components/{c}\n" for c in components)
        return decode(render(tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check_components(base_objs):
    minor = kubectl_minor()
    if minor is not None and minor < 21:
        C.note(f"components (kubectl 1.{minor}: kustomize components need "
               "kubectl >= 1.21)")
        return []
    out = []
    base = normalized(base_objs)
    try:
        pm = render_with(["podmonitor"])
    except ValueError as e:
        C.check(False, "components/podmonitor renders", str(e))
    else:
        kinds = [o["kind"] for o in pm]
        C.check("PodMonitor" in kinds and "ServiceMonitor" not in kinds,
                "components/podmonitor: a PodMonitor replaces the "
                "ServiceMonitor")
        mon = [o for o in pm if o["kind"] == "PodMonitor"]
        ds = [o for o in pm if o["kind"] == "DaemonSet"]
        if mon and ds:
            labels = ds[0]["spec"]["template"]["metadata"]["labels"]
            ml = mon[0]["spec"]["selector"]["matchLabels"]
            C.check(mon[0]["metadata"].get("namespace") == NS
                    and all(labels.get(k) == v for k, v in ml.items()),
                    "PodMonitor in namespace redline selects the agent pods")
            check_endpoints(mon[0]["spec"].get("podMetricsEndpoints", []),
                            "PodMonitor")
            out += mon
    try:
        kp = render_with(["kubelet-nodes-proxy"])
    except ValueError as e:
        C.check(False, "components/kubelet-nodes-proxy renders", str(e))
    else:
        role = [o for o in kp if o["kind"] == "ClusterRole"]
        C.check(role and role[0]["rules"] == [
            {"apiGroups": [""], "resources": ["nodes/pods"],
             "verbs": ["get"]},
            {"apiGroups": [""], "resources": ["nodes/proxy"],
             "verbs": ["get"]}],
            "components/kubelet-nodes-proxy: adds get nodes/proxy, "
            "nothing else")
    try:
        sa = render_with(["sys-admin"])
    except ValueError as e:
        C.check(False, "components/sys-admin renders", str(e))
    else:
        got = normalized(sa)
        changed = sorted("/".join(k) for k in set(got) | set(base)
                         if got.get(k) != base.get(k))
        ds = [o for o in sa if o["kind"] == "DaemonSet"]
        caps = (ds[0]["spec"]["template"]["spec"]["containers"][0]
                ["securityContext"]["capabilities"]) if ds else None
        C.check(changed == ["DaemonSet/redline/redline"]
                and caps == {"add": ["BPF", "PERFMON", "SYS_ADMIN"],
                             "drop": ["ALL"]},
                "components/sys-admin: only the DaemonSet changes, adding "
                "SYS_ADMIN to BPF and PERFMON", f"{changed} {caps}")
    return out


# --- schema ------------------------------------------------------------

def check_schema(objs):
    node = shutil.which("node")
    modules = os.path.join(SCHEMA, "node_modules", "kubernetes-models")
    if not node or not os.path.isdir(modules):
        what = ("schema validation (needs node and `npm ci` in "
                "tests/packaging/schema)")
        if env_flag("REDLINE_REQUIRE_SCHEMA"):
            C.check(False, what, "REDLINE_REQUIRE_SCHEMA=1")
        else:
            C.note(what)
        return
    with tempfile.NamedTemporaryFile("w", suffix=".json",
                                     delete=False) as f:
        json.dump(objs, f)
    try:
        r = subprocess.run([node, os.path.join(SCHEMA, "validate.mjs"),
                            f.name], capture_output=True, text=True,
                           cwd=SCHEMA, timeout=120)
    finally:
        os.unlink(f.name)
    bad = [l for l in r.stdout.splitlines() if not l.startswith("ok ")]
    C.check(r.returncode == 0 and not bad,
            f"{len(objs)} objects valid against the Kubernetes and "
            "Prometheus Operator schemas (kubernetes-models)",
            "; ".join(bad) + r.stderr.strip()[-400:])


# --- Dockerfile --------------------------------------------------------

def dockerfile_instructions(path):
    with open(path) as f:
        lines = f.read().splitlines()
    out, cur = [], ""
    for line in lines:
        if not cur and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if cur and line.lstrip().startswith("#"):
            continue  # comment inside a continued instruction
        if line.endswith("\\"):
            cur += line[:-1] + " "
            continue
        cur += line
        cmd, _, rest = cur.strip().partition(" ")
        out.append((cmd.upper(), rest.strip()))
        cur = ""
    return out


def deps_packages():
    with open(os.path.join(ROOT, "scripts", "install-deps.sh")) as f:
        m = re.search(r"PKGS=\((.*?)\n\)", f.read(), re.S)
    words = []
    for line in (m.group(1) if m else "").splitlines():
        words += line.split("#", 1)[0].split()
    return words


def check_dockerfile(ds):
    path = os.path.join(DOCKER, "Dockerfile")
    ins = dockerfile_instructions(path)
    froms = [a for c, a in ins if c == "FROM"]
    C.check(froms == ["debian:bookworm AS build", "debian:bookworm-slim"],
            "Dockerfile: debian:bookworm builder, debian:bookworm-slim "
            "runtime", str(froms))
    last_from = max(i for i, (c, _) in enumerate(ins) if c == "FROM")
    runtime = ins[last_from:]
    ok = True
    for c, a in ins:
        if c not in ("COPY", "ADD") or "--from=" in a:
            continue
        srcs = [w for w in a.split() if not w.startswith("--")][:-1]
        for s in srcs:
            if s != "." and not os.path.exists(os.path.join(ROOT, s)):
                ok = C.check(False, f"Dockerfile {c} source {s} exists "
                             "(context: repository root)")
    C.check(ok, "Dockerfile copies only paths that exist in the repository")
    runs = " ".join(a for c, a in ins if c == "RUN")
    deps = os.path.join(ROOT, "scripts", "install-deps.sh")
    C.check("scripts/install-deps.sh" in runs and os.access(deps, os.X_OK),
            "builder installs with scripts/install-deps.sh (executable)")
    C.check(re.search(r"cpack -G DEB", runs) is not None
            and "-G Ninja" in runs, "builder: CMake/Ninja, cpack -G DEB")
    for c, a in ins:
        if c != "RUN":
            continue
        for m in re.finditer(r"apt-get install([^&;|]*)", a):
            C.check("--no-install-recommends" in m.group(1)
                    and re.search(r"(^|\s)-y\b", m.group(1)) is not None,
                    "apt-get install -y --no-install-recommends",
                    m.group(0))
        if "apt-get update" in a:
            C.check("rm -rf /var/lib/apt/lists/*" in a,
                    "apt lists removed in the RUN that fetched them")
    rt_runs = [a for c, a in runtime if c == "RUN"]
    user_at = next((i for i, a in enumerate(rt_runs)
                    if "useradd" in a), None)
    deb_at = next((i for i, a in enumerate(rt_runs)
                   if re.search(r"apt-get install .*redline_\*\.deb", a)),
                  None)
    C.check(user_at is not None and deb_at is not None and user_at < deb_at
            and re.search(r"useradd .*--uid 10433\b", rt_runs[user_at])
            and re.search(r"groupadd .*--gid 10433\b", rt_runs[user_at]),
            "runtime creates user redline 10433:10433, then installs the "
            ".deb with apt-get")
    postinst = os.path.join(ROOT, "packaging", "deb", "postinst")
    text = open(postinst).read() if os.path.exists(postinst) else ""
    guard = text.find("getent passwd redline")
    C.check(guard >= 0 and guard < text.find("adduser"),
            "the .deb's postinst keeps an existing redline user (adduser "
            "--system exits 1 for the image's uid 10433, outside 100-999)")
    user = [a for c, a in runtime if c == "USER"]
    C.check(user and re.fullmatch(r"10433(:10433)?", user[-1]),
            "USER 10433 (numeric)", str(user))
    expose = [a for c, a in runtime if c == "EXPOSE"]
    C.check(expose == [str(PORT)], f"EXPOSE {PORT}", str(expose))
    ep = [json.loads(a) for c, a in runtime if c == "ENTRYPOINT"]
    cmd = [json.loads(a) for c, a in runtime if c == "CMD"]
    C.check(ep == [["/usr/bin/redline"]], "ENTRYPOINT [/usr/bin/redline]")
    args = ds["spec"]["template"]["spec"]["containers"][0].get("args")
    C.check(cmd == [["run", f"--config={CONFIG_PATH}"]] and cmd[0] == args,
            "CMD run --config=... equals the DaemonSet's args")
    version = project_version()
    C.check(f"ARG VERSION={version}" in [f"{c} {a}" for c, a in runtime]
            and any("org.opencontainers.image.version" in a
                    for c, a in runtime if c == "LABEL"),
            f"OCI labels, version {version}")
    ign = os.path.join(DOCKER, "Dockerfile.dockerignore")
    entries = []
    if os.path.exists(ign):
        with open(ign) as f:
            entries = [l.strip() for l in f if l.strip()
                       and not l.startswith("#")]
    C.check({".git", "build"} <= set(entries),
            "Dockerfile.dockerignore keeps .git and build/ out of the "
            "context")
    check_apt(ins)


def check_apt(ins):
    named = []
    for c, a in ins:
        if c == "RUN":
            for m in re.finditer(r"apt-get install([^&;|]*)", a):
                named += [w for w in m.group(1).split()
                          if not w.startswith("-") and "/" not in w]
    pkgs = sorted(set(named + deps_packages()))
    lists = "/var/lib/apt/lists"
    have_lists = os.path.isdir(lists) and any(
        "_Packages" in n for n in os.listdir(lists))
    if not shutil.which("apt-cache") or not have_lists:
        C.note("Debian packages exist (no apt-cache or no package lists: "
               "apt-get update)")
        return
    # One call (each apt-cache start reads every package list).
    r = subprocess.run(["apt-cache", "show", "--no-all-versions", *pkgs],
                       capture_output=True, text=True, timeout=120)
    found = set(re.findall(r"^Package: (\S+)$", r.stdout, re.M))
    missing = [p for p in pkgs if p not in found]
    C.check(pkgs and not missing, f"the {len(pkgs)} Debian packages the "
            "image build installs exist (apt-cache show)", str(missing))


def main():
    if KUBECTL is None:
        if env_flag("REDLINE_REQUIRE_BPF"):
            print("FAIL: REDLINE_REQUIRE_BPF=1 but kubectl is not installed")
            return 1
        print("SKIP: kubectl is not installed")
        return SKIP
    redline = os.environ.get("REDLINE_BIN",
                             os.path.join(ROOT, "build", "agent", "redline"))
    r = kubectl("version", "--client")
    print(f"kubectl: {KUBECTL}: {' '.join(r.stdout.split())}")
    objs = check_render()
    if objs:
        check_namespace(objs)
        sa = check_rbac(objs)
        ds = check_daemonset(objs, sa)
        check_service_and_monitor(objs, ds)
        if C.check(os.access(redline, os.X_OK), f"REDLINE_BIN {redline} "
                   "is executable"):
            check_rule(objs, redline)
        extra = check_components(objs)
        check_schema(objs + extra)
        check_dockerfile(ds)
    print(f"{C.passed} passed, {C.failed} failed")
    return 1 if C.failed else 0


if __name__ == "__main__":
    sys.exit(main())
