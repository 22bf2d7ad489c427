"""pyzmq side of bench/zmtp.bench.ts. Modes (first line printed is always {"ready": endpoint}):
  rep ENDPOINT                      REP echo server
  req ENDPOINT SIZE COUNT WARMUP    REQ client, prints {"p50", "p99"} in microseconds
  router ENDPOINT                   ROUTER echo server
  dealer ENDPOINT SECONDS INFLIGHT  DEALER client with INFLIGHT requests outstanding, prints {"rate"}
  xpub ENDPOINT TOTAL SUBSCRIBERS   lossless publisher (XPUB_NODROP), prints {"start"} then {"done"}
  sub ENDPOINT                      subscriber, prints {"received", "lost"} at the END message
"""
import json
import struct
import sys
import time

import zmq

mode, endpoint = sys.argv[1], sys.argv[2]
ctx = zmq.Context()


def out(obj):
    print(json.dumps(obj), flush=True)


def socket(kind, bind):
    s = ctx.socket(kind)
    s.setsockopt(zmq.LINGER, 0)
    if kind == zmq.XPUB:
        s.setsockopt(zmq.XPUB_NODROP, 1)
        s.setsockopt(zmq.XPUB_VERBOSE, 1)
    if bind:
        s.bind(endpoint)
        out({"ready": s.getsockopt_string(zmq.LAST_ENDPOINT)})
    else:
        s.connect(endpoint)
        out({"ready": endpoint})
    s.setsockopt(zmq.RCVTIMEO, 60000)
    return s


try:
    if mode in ("rep", "router"):
        s = socket(zmq.REP if mode == "rep" else zmq.ROUTER, True)
        if mode == "rep":
            while True:
                s.send(s.recv())
        else:
            while True:
                s.send_multipart(s.recv_multipart())
    elif mode == "req":
        size, count, warmup = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
        s = socket(zmq.REQ, False)
        payload = b"x" * size
        samples = []
        for i in range(count + warmup):
            t = time.perf_counter_ns()
            s.send(payload)
            s.recv()
            if i >= warmup:
                samples.append((time.perf_counter_ns() - t) / 1000.0)
        samples.sort()
        out({"p50": samples[len(samples) // 2], "p99": samples[int(len(samples) * 0.99)]})
    elif mode == "dealer":
        seconds, inflight = float(sys.argv[3]), int(sys.argv[4])
        s = socket(zmq.DEALER, False)
        payload = b"x" * 64
        next_id = 0
        for _ in range(inflight):
            s.send_multipart([struct.pack(">I", next_id), payload])
            next_id += 1
        outstanding, completed = inflight, 0
        start = time.perf_counter()
        deadline = start + seconds
        stopping = False
        while outstanding > 0:
            s.recv_multipart()
            outstanding -= 1
            completed += 1
            if not stopping and (completed & 1023) == 0 and time.perf_counter() > deadline:
                stopping = True
            if not stopping:
                s.send_multipart([struct.pack(">I", next_id & 0xFFFFFFFF), payload])
                next_id += 1
                outstanding += 1
        out({"rate": completed / (time.perf_counter() - start)})
    elif mode == "xpub":
        total, subscribers = int(sys.argv[3]), int(sys.argv[4])
        s = socket(zmq.XPUB, True)
        for _ in range(subscribers):
            s.recv()
        out({"start": True})
        payload = bytearray(200)
        for seq in range(total):
            struct.pack_into(">I", payload, 0, seq)
            s.send(payload)
        s.send(b"END")
        out({"done": True})
        s.setsockopt(zmq.RCVTIMEO, 5000)
        try:
            s.recv()  # keep the socket open until the subscribers leave (or the parent kills us)
        except zmq.Again:
            pass
    elif mode == "sub":
        s = socket(zmq.SUB, False)
        s.setsockopt(zmq.SUBSCRIBE, b"")
        expected = received = lost = 0
        while True:
            frame = s.recv()
            if frame == b"END":
                break
            seq = struct.unpack_from(">I", frame, 0)[0]
            if seq != expected:
                lost += seq - expected
            expected = seq + 1
            received += 1
        out({"received": received, "lost": lost})
    else:
        raise SystemExit("unknown mode " + mode)
except zmq.Again:
    out({"error": "timeout"})
    sys.exit(2)
