#!/usr/bin/python3
"""A gRPC server and client for h2_test (Debian's python3-grpcio: run it
with /usr/bin/python3), no protoc: generic handlers, raw bytes.

`serve PORT` serves redline.test.Echo on 127.0.0.1:PORT in plaintext
(h2c, prior knowledge), prints "listening", and when its stdin closes
stops and prints its own tally, one JSON object {"method code": n} where
method is "redline.test.Echo/Say" or ".../Stream" and code the status
name (OK, NOT_FOUND, ...): the status it ended each call with.
  - Say (unary): answers the request bytes, or, if they name a status
    code ("NOT_FOUND"), aborts with that code;
  - Stream (server streaming): answers COUNT messages (the request is the
    decimal COUNT), then ends OK.

`call PORT N NOT_FOUND UNAVAILABLE STREAMS COUNT` makes, on one channel,
N unary Say calls of which NOT_FOUND abort with NOT_FOUND and UNAVAILABLE
with UNAVAILABLE (interleaved), then STREAMS Stream calls of COUNT
messages each, and prints the tally of what it received, as the server
does, plus "messages" (the streamed messages it read). Every call carries
a metadata header whose value must never show up in a label.

`steady PORT PAUSE` calls until killed, PAUSE seconds apart, on one
channel: rounds of 8 OK Say calls, one NOT_FOUND, one UNAVAILABLE and a
Stream call of 3 messages (grafana_test: every outcome, all the time)."""
import json
import sys
import threading
import time
from concurrent import futures

import grpc

SERVICE = "redline.test.Echo"
SECRET = ("x-rl-secret", "rl-header-secret-3f9a")


def ident(b):
    return b


def serve(port):
    tally, lock = {}, threading.Lock()

    def count(method, code):
        with lock:
            k = f"{SERVICE}/{method} {code}"
            tally[k] = tally.get(k, 0) + 1

    def say(request, context):
        code = request.decode(errors="replace")
        if code in grpc.StatusCode.__members__ and code != "OK":
            count("Say", code)
            context.abort(grpc.StatusCode[code], "as asked")
        count("Say", "OK")
        return request

    def stream(request, context):
        for i in range(int(request)):
            yield b"message %d" % i
        count("Stream", "OK")

    handler = grpc.method_handlers_generic_handler(SERVICE, {
        "Say": grpc.unary_unary_rpc_method_handler(
            say, request_deserializer=ident, response_serializer=ident),
        "Stream": grpc.unary_stream_rpc_method_handler(
            stream, request_deserializer=ident, response_serializer=ident),
    })
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4),
                         handlers=(handler,))
    if server.add_insecure_port(f"127.0.0.1:{port}") != port:
        sys.exit(f"could not listen on {port}")
    server.start()
    print("listening", flush=True)
    sys.stdin.read()
    server.stop(grace=2).wait()
    with lock:
        print(json.dumps(tally, sort_keys=True), flush=True)


def call(port, n, not_found, unavailable, streams, count):
    # The non-OK calls spread over the N: every k-th call.
    plan = ["OK"] * n
    bad = ["NOT_FOUND"] * not_found + ["UNAVAILABLE"] * unavailable
    step = n // max(1, len(bad))
    for i, code in enumerate(bad):
        plan[i * step + step // 2] = code
    tally, messages = {}, 0
    md = (SECRET,)
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        grpc.channel_ready_future(ch).result(timeout=10)
        say = ch.unary_unary(f"/{SERVICE}/Say", request_serializer=ident,
                             response_deserializer=ident)
        stream = ch.unary_stream(f"/{SERVICE}/Stream",
                                 request_serializer=ident,
                                 response_deserializer=ident)
        for want in plan:
            try:
                say(want.encode() if want != "OK" else b"hello",
                    metadata=md, timeout=10)
                got = "OK"
            except grpc.RpcError as e:
                got = e.code().name
            k = f"{SERVICE}/Say {got}"
            tally[k] = tally.get(k, 0) + 1
        for _ in range(streams):
            call = stream(str(count).encode(), metadata=md, timeout=10)
            try:
                for _ in call:
                    messages += 1
                got = call.code().name
            except grpc.RpcError as e:
                got = e.code().name
            k = f"{SERVICE}/Stream {got}"
            tally[k] = tally.get(k, 0) + 1
    tally["messages"] = messages
    print(json.dumps(tally, sort_keys=True), flush=True)


def steady(port, pause):
    with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
        grpc.channel_ready_future(ch).result(timeout=10)
        say = ch.unary_unary(f"/{SERVICE}/Say", request_serializer=ident,
                             response_deserializer=ident)
        stream = ch.unary_stream(f"/{SERVICE}/Stream",
                                 request_serializer=ident,
                                 response_deserializer=ident)
        while True:
            for want in [b"hello"] * 8 + [b"NOT_FOUND", b"UNAVAILABLE"]:
                try:
                    say(want, timeout=10)
                except grpc.RpcError:
                    pass
                time.sleep(pause)
            for _ in stream(b"3", timeout=10):
                pass
            time.sleep(pause)


if __name__ == "__main__":
    if sys.argv[1] == "serve":
        serve(int(sys.argv[2]))
    elif sys.argv[1] == "steady":
        steady(int(sys.argv[2]), float(sys.argv[3]))
    else:
        call(*map(int, sys.argv[2:8]))
