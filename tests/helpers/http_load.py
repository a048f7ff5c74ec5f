#!/usr/bin/env python3
"""HTTP/1.x workloads for tests/integration/http_test.py (stdlib only).

  serve PORT [DELAY_MS]      threaded HTTP/1.1 server (keep-alive): GET and
                             HEAD of any path answer 200 after DELAY_MS,
                             /status/NNN answers NNN, /sleep/MS after MS
                             more; prints "listening"
  serve-peek PORT            serve, but each connection's first bytes
                             are peeked (recv MSG_PEEK) before they are
                             read; prints "listening"
  pipeline PORT CONNS DEPTH  CONNS keep-alive connections, each sending
                             DEPTH requests (GET, HEAD alternating) in one
                             write, then reading DEPTH responses; prints
                             "GET=n HEAD=m"
  loop PORT RPS               GET / at RPS requests/s, keep-alive, forever
  junk PORT                  random bytes on a new connection
  split PORT                 one GET whose request line arrives in two
                             writes 300 ms apart
  echo PORT                  raw TCP echo server; prints "listening"
  echo-client PORT N         N random messages to the echo server
Addresses are 127.0.0.1; tests run it inside their own network namespace.
"""
import http.server
import os
import socket
import socketserver
import sys
import time

HOST = "127.0.0.1"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: without this, Nagle holds the
    # body until the peer's delayed ACK (40 ms), which would be the
    # latency measured instead of DELAY_MS.
    disable_nagle_algorithm = True
    delay = 0.0

    def log_message(self, *args):
        pass

    def _answer(self, body):
        if self.delay:
            time.sleep(self.delay)
        code = 200
        if self.path.startswith("/status/"):
            code = int(self.path.rsplit("/", 1)[1])
        elif self.path.startswith("/sleep/"):
            time.sleep(int(self.path.rsplit("/", 1)[1]) / 1000.0)
        payload = b"ok\n"
        self.send_response(code)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if body:
            self.wfile.write(payload)

    def do_GET(self):
        self._answer(True)

    def do_HEAD(self):
        self._answer(False)


class PeekHandler(Handler):
    def handle(self):
        # The same bytes come twice: MSG_PEEK, then the read that takes
        # them (an API gateway sniffing a protocol does this).
        self.connection.recv(64, socket.MSG_PEEK)
        super().handle()


def serve(port, delay_ms=0, handler=Handler):
    Handler.delay = delay_ms / 1000.0
    http.server.ThreadingHTTPServer.daemon_threads = True
    # socketserver's default backlog of 5 overflows when nginx opens its
    # upstream connections at once: the dropped SYN costs a 1 s retransmit.
    http.server.ThreadingHTTPServer.request_queue_size = 128
    srv = http.server.ThreadingHTTPServer((HOST, port), handler)
    print("listening", flush=True)
    srv.serve_forever()


def serve_peek(port):
    serve(port, 0, PeekHandler)


def read_response(f, head):
    """Reads one response from a buffered socket file; returns the status."""
    status = int(f.readline().split()[1])
    length = 0
    while True:
        line = f.readline()
        if line in (b"\r\n", b""):
            break
        name, _, val = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(val)
    if not head and length:
        f.read(length)
    return status


def pipeline(port, conns, depth):
    counts = {"GET": 0, "HEAD": 0}
    for _ in range(conns):
        methods = ["GET" if i % 2 == 0 else "HEAD" for i in range(depth)]
        batch = b"".join(f"{m} /p HTTP/1.1\r\nHost: t\r\n\r\n".encode()
                         for m in methods)
        with socket.create_connection((HOST, port)) as s:
            s.sendall(batch)  # one write: the server reads them together
            f = s.makefile("rb")
            for m in methods:
                assert read_response(f, m == "HEAD") == 200
                counts[m] += 1
    print(" ".join(f"{k}={v}" for k, v in counts.items()), flush=True)


def loop(port, rps):
    """GET / at rps requests/s on a keep-alive connection, until killed."""
    import http.client
    conn = None
    period = 1.0 / rps
    next_t = time.monotonic()
    while True:
        try:
            if conn is None:
                conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", "/")
            conn.getresponse().read()
        except (OSError, http.client.HTTPException):
            conn = None
        next_t += period
        time.sleep(max(0.0, next_t - time.monotonic()))


def junk(port):
    with socket.create_connection((HOST, port)) as s:
        s.sendall(b"\x16\x03\x01" + os.urandom(200) + b"\r\n\r\n")
        s.settimeout(2)
        try:
            while s.recv(4096):
                pass
        except OSError:
            pass


def split(port, at="2"):
    """One request whose line is written in two parts, the first `at`
    bytes long (1-3: redline joins them; 4, "GET ", method unknown)."""
    line = b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    with socket.create_connection((HOST, port)) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(line[:int(at)])
        time.sleep(0.3)
        s.sendall(line[int(at):])
        s.settimeout(5)
        while s.recv(4096):
            pass


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            data = self.request.recv(4096)
            if not data:
                return
            self.request.sendall(data)


def echo(port):
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    srv = socketserver.ThreadingTCPServer((HOST, port), Echo)
    print("listening", flush=True)
    srv.serve_forever()


def echo_client(port, n):
    with socket.create_connection((HOST, port)) as s:
        for i in range(n):
            # Includes bytes that look like HTTP, but not at a message start.
            msg = os.urandom(40) + b" GET / HTTP/1.1\r\n"
            s.sendall(msg)
            got = b""
            while len(got) < len(msg):
                got += s.recv(4096)


def main():
    cmd, args = sys.argv[1], [int(a) for a in sys.argv[2:]]
    {"serve": serve, "serve-peek": serve_peek, "pipeline": pipeline, "junk": junk, "split": split,
     "loop": loop,
     "echo": echo, "echo-client": echo_client}[cmd](*args)


if __name__ == "__main__":
    main()
