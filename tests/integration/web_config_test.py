#!/usr/bin/env python3
"""--web-config-file as a scraper sees it, with real curl and openssl: a
self-signed CA and server certificate, an htpasswd bcrypt hash, TLS 1.3
only, basic auth on everything but /healthz, client certificates; bad
configs stop `redline run` with one line naming the file and field."""
import os
import shutil
import ssl
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from rltest import Agent, check, free_port, redline_bin, require_bpf  # noqa

USER, PASSWORD = "prometheus", "correct horse"


def sh(*cmd, cwd):
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def make_pki(d):
    """ca.crt signs server.crt (127.0.0.1, localhost) and client.crt;
    rogue.crt signs itself."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
          "-nodes"]
    sh("openssl", "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt",
       "-days", "2", "-subj", "/CN=redline test CA", cwd=d)
    for name, ext in (("server", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
                      ("client", "extendedKeyUsage=clientAuth")):
        sh("openssl", "req", *ec, "-keyout", f"{name}.key",
           "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=d)
        with open(os.path.join(d, f"{name}.ext"), "w") as f:
            f.write(ext + "\n")
        sh("openssl", "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt",
           "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
           "-extfile", f"{name}.ext", "-out", f"{name}.crt", cwd=d)
    sh("openssl", "req", "-x509", *ec, "-keyout", "rogue.key",
       "-out", "rogue.crt", "-days", "2", "-subj", "/CN=client", cwd=d)


def bcrypt(password):
    out = subprocess.run(["htpasswd", "-nbBC", "10", USER, password],
                         check=True, capture_output=True, text=True).stdout
    return out.strip().split(":", 1)[1]


def curl(url, *args):
    """(HTTP status or 0, curl exit code, headers+body)."""
    r = subprocess.run(["curl", "-sS", "-i", "--max-time", "10",
                        "-w", "\n%{http_code}", *args, url],
                       capture_output=True, text=True)
    out, _, code = r.stdout.rpartition("\n")
    return int(code or 0), r.returncode, out + r.stderr


def body(response):
    # text=True has turned the header lines' CRLF into LF.
    return response.split("\n\n", 1)[1] if "\n\n" in response else ""


def write(d, name, text):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def tls_context(d, client=False):
    ctx = ssl.create_default_context(cafile=os.path.join(d, "ca.crt"))
    if client:
        ctx.load_cert_chain(os.path.join(d, "client.crt"),
                            os.path.join(d, "client.key"))
    return ctx


def bad_config(d, name, text, want):
    """`redline run` exits non-zero at once with one line naming `want`."""
    path = write(d, name, text)
    r = subprocess.run([redline_bin(), "run", f"--listen=127.0.0.1:{free_port()}",
                        f"--web-config-file={path}"],
                       capture_output=True, text=True, timeout=30)
    lines = r.stderr.strip().splitlines()
    check(r.returncode != 0 and len(lines) == 1 and
          all(w in lines[0] for w in [path] + want),
          f"{name}: exit {r.returncode}, one line naming {want}: {r.stderr!r}")


def main():
    require_bpf()
    for tool in ("openssl", "curl", "htpasswd", "promtool"):
        check(shutil.which(tool) is not None,
              f"{tool} installed (scripts/install-deps.sh)")
    d = tempfile.mkdtemp(prefix="rl-web-")
    try:
        make_pki(d)
        cacert = ["--cacert", os.path.join(d, "ca.crt")]
        auth = ["-u", f"{USER}:{PASSWORD}"]

        # Default: no web config, plain HTTP as before.
        with Agent("--probes=syscalls") as agent:
            code, rc, _ = curl(agent.url("/metrics"))
            check(code == 200, f"no --web-config-file: plain http 200 ({code})")

        # Paths relative to the config file's directory.
        cfg = write(d, "web.yml", f"""\
tls_server_config:
  cert_file: server.crt
  key_file: server.key
  min_version: TLS13
http_server_config:
  headers:
    X-Content-Type-Options: nosniff
basic_auth_users:
  {USER}: {bcrypt(PASSWORD)}
""")
        with Agent("--probes=syscalls", f"--web-config-file={cfg}",
                   ssl_context=tls_context(d)) as agent:
            url = agent.url("/metrics")
            check(url.startswith("https://"), url)
            code, _, out = curl(url, *cacert)
            check(code == 401 and
                  'WWW-Authenticate: Basic realm="redline"' in out,
                  f"no credentials: 401 with a Basic challenge ({code})")
            code, _, _ = curl(url, *cacert, "-u", f"{USER}:wrong")
            check(code == 401, f"wrong password: 401 ({code})")
            code, _, _ = curl(url, *cacert, "-u", f"nobody:{PASSWORD}")
            check(code == 401, f"unknown user: 401 ({code})")
            code, _, out = curl(url, *cacert, *auth)
            check(code == 200 and "X-Content-Type-Options: nosniff" in out,
                  f"right credentials over verified TLS: 200 ({code})")
            pt = subprocess.run(["promtool", "check", "metrics"],
                                input=body(out), capture_output=True,
                                text=True)
            check(pt.returncode == 0 and "redline_" in body(out),
                  f"promtool check metrics: clean {pt.stdout}{pt.stderr}")
            local = url.replace("127.0.0.1", "localhost")
            code, _, _ = curl(local, *cacert, *auth)
            check(code == 200, f"DNS name localhost verifies too ({code})")
            code, _, out = curl(agent.url("/api/v1/snapshot"), *cacert, *auth)
            check(code == 200, f"/api/v1/snapshot with credentials ({code})")
            code, _, _ = curl(agent.url("/api/v1/snapshot"), *cacert)
            check(code == 401, f"/api/v1/snapshot without: 401 ({code})")
            code, _, out = curl(agent.url("/healthz"), *cacert)
            check(code == 200 and body(out) == "ok\n",
                  f"/healthz open for probes, says only ok ({code})")
            code, rc, out = curl(url.replace("https://", "http://"), *auth)
            check(code == 0 and rc != 0,
                  f"plain http to the TLS port: no HTTP answer (curl {rc})")
            code, rc, _ = curl(url, *cacert, *auth, "--tls-max", "1.2")
            check(code == 0 and rc != 0,
                  f"TLS 1.2 client vs min_version TLS13 refused (curl {rc})")
            code, rc, _ = curl(url, *auth)
            check(code == 0 and rc != 0,
                  f"a client not trusting the CA refuses the server ({rc})")
            # redline top --connect: user info in the URL, percent-encoded;
            # OpenSSL's default verify paths honour SSL_CERT_FILE.
            env = dict(os.environ, SSL_CERT_FILE=os.path.join(d, "ca.crt"))
            secret = PASSWORD.replace(" ", "%20")
            for pw, want_rc in ((secret, 0), ("wrong%20horse", 2)):
                top = subprocess.run(
                    [redline_bin(), "top", "-b", "-n", "1", "-d", "0.5",
                     f"--connect=https://{USER}:{pw}@127.0.0.1:{agent.port}"],
                    env=env, capture_output=True, text=True, timeout=30)
                check(top.returncode == want_rc and
                      (want_rc != 0 or top.stdout.startswith("redline top")) and
                      (want_rc == 0 or "HTTP 401" in top.stderr) and
                      pw not in top.stderr,
                      f"top --connect with password {pw!r}: exit {want_rc} "
                      f"({top.returncode}: {top.stderr.strip()})")

        # Client certificates signed by the CA, and nothing else.
        mtls = write(d, "mtls.yml", """\
tls_server_config:
  cert_file: server.crt
  key_file: server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: ca.crt
""")
        with Agent("--probes=syscalls", f"--web-config-file={mtls}",
                   ssl_context=tls_context(d, client=True)) as agent:
            url = agent.url("/metrics")
            code, rc, _ = curl(url, *cacert)
            check(code == 0 and rc != 0,
                  f"RequireAndVerifyClientCert: no client cert refused ({rc})")
            code, rc, _ = curl(url, *cacert,
                               "--cert", os.path.join(d, "rogue.crt"),
                               "--key", os.path.join(d, "rogue.key"))
            check(code == 0 and rc != 0,
                  f"a client certificate the CA did not sign refused ({rc})")
            code, _, _ = curl(url, *cacert,
                              "--cert", os.path.join(d, "client.crt"),
                              "--key", os.path.join(d, "client.key"))
            check(code == 200, f"CA-signed client certificate: 200 ({code})")

        bad_config(d, "unknown.yml",
                   "tls_server_config:\n  cert_file: server.crt\n"
                   "  key_file: server.key\n  ca_file: ca.crt\n",
                   [":4:3:", "tls_server_config.ca_file", "unknown key"])
        bad_config(d, "nokey.yml",
                   "tls_server_config:\n  cert_file: server.crt\n"
                   "  key_file: missing.key\n",
                   [":3:13:", "tls_server_config.key_file", "missing.key"])
        bad_config(d, "mismatch.yml",
                   "tls_server_config:\n  cert_file: server.crt\n"
                   "  key_file: client.key\n",
                   ["tls_server_config.key_file", "does not match"])
        bad_config(d, "plain.yml", "basic_auth_users:\n  alice: secret\n",
                   [":2:10:", "basic_auth_users.alice", "not a bcrypt hash"])
    finally:
        shutil.rmtree(d, ignore_errors=True)
    print("web_config_test: all passed")


if __name__ == "__main__":
    main()
