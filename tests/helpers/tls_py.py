#!/usr/bin/env python3
"""Python's own ssl (the interpreter's libssl: SSL_read_ex/SSL_write_ex)
for tls_test: `serve PORT CERT KEY ROOT` prints "listening" and serves
HTTP/1.1 keep-alive over TLS (/slow: /index.html after 3 ms); `get PORT N M [wait]` makes N requests for
/index.html and M for /missing on one connection, prints the statuses
(with `wait`: first prints "ready", libssl loaded, and waits for a line
on stdin)."""
import http.client
import http.server
import ssl
import sys
import time


class Quiet(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body are two writes: without this, Nagle holds the body
    # until the client's delayed ACK (40 ms), and that is the latency.
    disable_nagle_algorithm = True

    def log_message(self, *a):
        pass

    def do_GET(self):
        if self.path == "/slow":
            time.sleep(0.003)
            self.path = "/index.html"
        super().do_GET()


def serve(port, cert, key, root):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    handler = lambda *a: Quiet(*a, directory=root)  # noqa: E731
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print("listening", flush=True)
    srv.serve_forever()


def get(port, n, m, wait=False):
    if wait:
        print("ready", flush=True)
        sys.stdin.readline()
    ctx = ssl._create_unverified_context()
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx)
    out = []
    for path in ["/index.html"] * n + ["/missing"] * m:
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        out.append(r.status)
    print(" ".join(map(str, out)))


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(int(sys.argv[2]), *sys.argv[3:6])
    else:
        get(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]),
            sys.argv[5:] == ["wait"])
