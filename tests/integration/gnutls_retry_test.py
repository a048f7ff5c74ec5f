#!/usr/bin/env python3
"""A GnuTLS write retried with no buffer (bpf/tls.bpf.c, tls_retries), in
a network namespace the test creates. GnuTLS's API lets a caller whose
gnutls_record_send returned GNUTLS_E_AGAIN retry with
gnutls_record_send(session, NULL, 0): GnuTLS sends the record it cached
and returns how many bytes of the first call's buffer that was. The
helper (tests/helpers/gnutls_retry.c, linked with Debian's libgnutls) is
an HTTPS server and client in one program: N keep-alive GETs, each
answered with BODY bytes from a non-blocking socket with a small send
buffer, every E_AGAIN retried that way (the helper counts them: the
oracle that the path ran). Without the retry's bytes the response's
body is not skipped to its end and the next responses are lost in it
(before the fix: 0 of 20 server-side requests counted). Asserted:
- server and client side, by method: exactly N GETs each, tls="true";
- nothing lost or guessed: no response without its request, no request
  without response, no pipeline overflow, no connection unclassified;
- tls_retries refused no update, and holds no entry after the last
  retry sent (redline_bpf_map_entries counts its keys); no retry came
  without its failed call seen (tls_retry_unseen).
The same on the sys_exit path (gnutls_retry_test_fallback)."""
import os
import subprocess
import sys
import tempfile
import shutil
import time

sys.path.insert(0, os.path.dirname(__file__))
from rltest import (Agent, check, enter_netns, label_deltas,  # noqa: E402
                    require_bpf, value)

N, BODY = 20, 262144
COMM = "rl_gnutls_retry"
UNPARSED = "redline_http_unparsed_total"


def main():
    require_bpf()
    enter_netns("RL_GNUTLS_RETRY_NETNS")
    helper = os.environ["RL_GNUTLS_RETRY"]
    tmp = tempfile.mkdtemp(prefix="rl-gnutls-retry-")
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    p = None
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                        "-subj", "/CN=localhost"], check=True,
                       capture_output=True, timeout=120)
        with Agent("--probes=l7", "--tls", "--tls-late-attach",
                   "--refresh-interval=1") as agent:
            p = subprocess.Popen([helper, cert, key, str(N), str(BODY)],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 text=True)
            check(p.stdout.readline().strip() == "ready", "helper started")
            # Its exec is seen, its maps scanned at the next refresh: two.
            deadline = time.time() + 15
            while (value(agent.scrape(), "redline_tls_library_files",
                         library="gnutls") < 1 and time.time() < deadline):
                time.sleep(0.2)
            time.sleep(2.2)
            m0 = agent.scrape()
            out, _ = p.communicate("go\n", timeout=120)
            f = dict(kv.partition("=")[::2] for kv in out.split()[1:])
            check(p.returncode == 0 and f.get("requests") == str(N) and
                  f.get("retries", "0").isdigit() and int(f["retries"]) > 0,
                  f"helper: exit {p.returncode}, {out.strip()!r} (want "
                  f"requests={N} and retries > 0)")
            deadline = time.time() + 15
            while True:
                m1 = agent.scrape()
                srv = label_deltas(m1, m0, "redline_http_server_requests_"
                                   "total", "method", comm=COMM, tls="true")
                if srv.get("GET", 0) >= N or time.time() > deadline:
                    break
                time.sleep(0.3)
            time.sleep(1.2)  # a refresh more: anything extra shows too
            m1 = agent.scrape()
            for side in ("server", "client"):
                fam = f"redline_http_{side}_requests_total"
                got = label_deltas(m1, m0, fam, "method", comm=COMM,
                                   tls="true")
                check(got == {"GET": N}, f"{fam}: {got} == {{'GET': {N}}} "
                      f"({f.get('retries')} writes retried with no buffer)")
            for kind in ("response_without_request", "request_without_"
                         "response", "pipeline_overflow", "unclassified",
                         "tls_unmapped", "tls_stale", "tls_retry_unseen"):
                d = value(m1, UNPARSED, kind=kind) - value(m0, UNPARSED,
                                                           kind=kind)
                check(d == 0, f"nothing lost or guessed: {kind} +{d:.0f}")
            errs = sum(v for (name, labels), v in m1.items()
                       if name == "redline_bpf_map_update_errors_total" and
                       ("map", "tls_retries") in labels)
            left = value(m1, "redline_bpf_map_entries", map="tls_retries")
            check(errs == 0 and left == 0, f"tls_retries: {errs:.0f} update "
                  f"errors, {left:.0f} entries left (want 0, 0)")
            print(f"ok: {N} requests, {f['retries']} writes retried with no "
                  f"buffer, counted exactly on both sides")
    finally:
        if p and p.poll() is None:
            p.kill()
            p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
