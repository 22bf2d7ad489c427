"""A libzmq peer driven by the node tests (pyzmq, an implementation independent of zeromq.js).

Usage: pyzmq_peer.py MODE ENDPOINT [JSON_OPTIONS]
Prints one JSON object per line on stdout; the first is {"ready": endpoint}. Reads commands on stdin in the
modes that need them. Every receive has a timeout so a broken test can never leave this process hanging.
"""
import json
import sys

import zmq

mode, endpoint = sys.argv[1], sys.argv[2]
opts = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
ctx = zmq.Context()


def out(obj):
    print(json.dumps(obj), flush=True)


def make(kind):
    s = ctx.socket(kind)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.RCVTIMEO, int(opts.get("timeout_ms", 10000)))
    if "curve_server_secret" in opts:
        s.curve_server = True
        s.curve_secretkey = opts["curve_server_secret"].encode()
    elif "curve_server_key" in opts:
        s.curve_serverkey = opts["curve_server_key"].encode()
        s.curve_publickey = opts["curve_public"].encode()
        s.curve_secretkey = opts["curve_secret"].encode()
    if "heartbeat_ivl" in opts:
        s.setsockopt(zmq.HEARTBEAT_IVL, opts["heartbeat_ivl"])
        s.setsockopt(zmq.HEARTBEAT_TIMEOUT, opts["heartbeat_timeout"])
    if "routing_id" in opts:
        s.setsockopt(zmq.ROUTING_ID, opts["routing_id"].encode())
    if opts.get("bind"):
        s.bind(endpoint)
        out({"ready": s.getsockopt_string(zmq.LAST_ENDPOINT)})
    else:
        s.connect(endpoint)
        out({"ready": endpoint})
    return s


def text(frames):
    return [f.decode("latin1") for f in frames]


try:
    if mode == "rep":
        s = make(zmq.REP)
        while True:
            msg = s.recv_multipart()
            s.send_multipart([b"echo"] + msg)
            if msg == [b"quit"]:
                break
    elif mode == "router":
        s = make(zmq.ROUTER)
        while True:
            ident, *msg = s.recv_multipart()
            s.send_multipart([ident, b"echo", ident] + msg)
            if msg == [b"quit"]:
                break
    elif mode in ("req", "dealer"):
        s = make(zmq.REQ if mode == "req" else zmq.DEALER)
        for i in range(int(opts.get("count", 3))):
            s.send_multipart([b"call", str(i).encode(), b"x" * int(opts.get("size", 0))])
            out({"reply": text(s.recv_multipart())})
        out({"done": True})
    elif mode == "sub":
        s = make(zmq.SUB)
        for topic in opts.get("topics", [""]):
            s.setsockopt(zmq.SUBSCRIBE, topic.encode())
        for _ in range(int(opts.get("count", 1))):
            out({"message": text(s.recv_multipart())})
        out({"done": True})
    elif mode == "pub":
        s = make(zmq.PUB)
        for line in sys.stdin:
            cmd = json.loads(line)
            if cmd == "quit":
                break
            s.send_multipart([f.encode("latin1") for f in cmd])
    elif mode == "xpub":
        s = make(zmq.XPUB)
        for _ in range(int(opts.get("count", 1))):
            frame = s.recv()
            out({"subscription": frame[0], "topic": frame[1:].decode("latin1")})
        out({"done": True})
    else:
        raise SystemExit("unknown mode " + mode)
except zmq.Again:
    out({"error": "timeout"})
    sys.exit(2)
