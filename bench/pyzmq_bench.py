"""pyzmq side of bench/zmtp.bench.ts: a REP echo server, or a REQ client that prints round-trip percentiles."""
import json
import sys
import time

import zmq

mode, endpoint = sys.argv[1], sys.argv[2]
ctx = zmq.Context()
if mode == "rep":
    s = ctx.socket(zmq.REP)
    s.setsockopt(zmq.LINGER, 0)
    s.bind(endpoint)
    print(json.dumps({"ready": s.getsockopt_string(zmq.LAST_ENDPOINT)}), flush=True)
    s.setsockopt(zmq.RCVTIMEO, 30000)
    try:
        while True:
            s.send(s.recv())
    except zmq.Again:
        pass
else:
    size, count, warmup = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    s = ctx.socket(zmq.REQ)
    s.setsockopt(zmq.LINGER, 0)
    s.connect(endpoint)
    payload = b"x" * size
    samples = []
    for i in range(count + warmup):
        t = time.perf_counter_ns()
        s.send(payload)
        s.recv()
        if i >= warmup:
            samples.append((time.perf_counter_ns() - t) / 1000.0)
    samples.sort()
    print(json.dumps({"p50": samples[len(samples) // 2], "p99": samples[int(len(samples) * 0.99)]}), flush=True)
