"""A VeighNa RpcClient opting in to CURVE the way a Python user would: pyzmq's curve options on both sockets.

    curve_client.py REQ SUB SERVER_PUBLIC_KEY CLIENT_KEY_FILE [order] [late]   (CLIENT_KEY_FILE "-": no CURVE at all)

"late" waits half a second before the first call, so that a handshake bound to fail has failed by then.

Prints one JSON line: {"answered": bool, "contracts": int, "heartbeat": bool, "error": str}; with "order" also
"order": the vt_orderid of a resting buy it sent ("" if refused) and "order_error": the server's error text.
"""
import json
import sys
import threading
import time

import zmq

from vnpy.rpc import RpcClient
from vnpy.trader.constant import Direction, Offset, OrderType, Product
from vnpy.trader.object import OrderRequest


def read_secret(path: str) -> bytes:
    # The key file of `rpcservice keys generate`: comment lines, then the Z85 secret key on its own line.
    for line in open(path, encoding="ascii"):
        word = line.strip()
        if len(word) == 40:
            return word.encode()
    raise ValueError(f"no key in {path}")


class Client(RpcClient):
    def __init__(self) -> None:
        super().__init__()
        self.heartbeat = threading.Event()
        self.subscribe_topic("")

    def callback(self, topic, data) -> None:
        pass

    def run(self) -> None:
        # VeighNa's loop swallows heartbeats; note the first one so the test can tell the SUB socket works.
        while self._active:
            if self._socket_sub.poll(200):
                topic, _ = self._socket_sub.recv_pyobj(flags=zmq.NOBLOCK)
                if topic == "heartbeat":
                    self.heartbeat.set()
        self._socket_req.close(linger=0)
        self._socket_sub.close(linger=0)


def main() -> None:
    req, sub, server_key, key_file = sys.argv[1:5]
    flags = set(sys.argv[5:])
    with_order = "order" in flags
    client = Client()
    if key_file != "-":
        secret = read_secret(key_file)
        for socket in (client._socket_req, client._socket_sub):
            socket.curve_secretkey = secret
            socket.curve_publickey = zmq.curve_public(secret)
            socket.curve_serverkey = server_key.encode()
    client.start(req, sub)
    if "late" in flags:
        time.sleep(0.5)
    report = {"answered": False, "contracts": 0, "heartbeat": False, "error": ""}
    try:
        contracts = client.get_all_contracts(timeout=3000)
        report["contracts"] = len(contracts)
        report["answered"] = True
        report["heartbeat"] = client.heartbeat.wait(5)
        if with_order:
            future = next(c for c in contracts if c.product == Product.FUTURES)
            # At the lower price limit (the risk manager refuses a price outside the limits): it rests.
            tick = client.get_tick(future.vt_symbol, timeout=3000)
            price = tick.limit_down if tick and tick.limit_down else future.pricetick * 10
            request = OrderRequest(future.symbol, future.exchange, Direction.LONG, OrderType.LIMIT, 1, price, Offset.OPEN)
            report["order"] = ""
            report["order_error"] = ""
            try:
                report["order"] = client.send_order(request, future.gateway_name, timeout=3000)
            except Exception as error:  # RemoteException: the server's traceback text
                report["order_error"] = str(error)
    except Exception as error:  # RemoteException on timeout: what a refused client sees
        report["error"] = str(error)
    client.stop()
    client.join()
    client._context.term()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
