"""
The Python stand-in VeighNa client of the chaos test: vnpy.rpc.RpcClient (REQ + SUB) against our server.
    python3 chaos_client.py REQ_ADDRESS SUB_ADDRESS
Reads one command per line on stdin and answers one JSON line on stdout:
    check VT_SYMBOL...   subscribes (again: a restarted server forgot), queries orders, trades, positions and
                         accounts, and reports the last time (epoch s) a tick of each symbol arrived.
A VeighNa REQ socket is stuck after a lost reply (vnpy#3792), so a call that times out replaces the client, as a
careful VeighNa user does; {"ok": false, "error": ...} then tells the test to ask again.
"""
import json
import sys
import threading
import time

from vnpy.rpc import RemoteException, RpcClient
from vnpy.trader.constant import Exchange
from vnpy.trader.object import SubscribeRequest

req_address, sub_address = sys.argv[1], sys.argv[2]
last_tick: dict = {}
lock = threading.Lock()


class Client(RpcClient):
    def callback(self, topic, data):
        if getattr(data, "type", "") == "eTick.":
            with lock:
                last_tick[data.data.vt_symbol] = time.time()

    def on_disconnected(self):
        pass  # VeighNa prints; the test's stdout is JSON only


def new_client() -> Client:
    client = Client()
    client.subscribe_topic("")
    client.start(req_address, sub_address)
    return client


def server_gateway(client, vt_symbol):
    contract = client.get_contract(vt_symbol, timeout=3000)
    return contract.gateway_name if contract else None


client = new_client()
for line in sys.stdin:
    words = line.split()
    if not words or words[0] != "check":
        continue
    try:
        for vt_symbol in words[1:]:
            symbol, exchange = vt_symbol.rsplit(".", 1)
            gateway = server_gateway(client, vt_symbol)
            if gateway:
                client.subscribe(SubscribeRequest(symbol, Exchange(exchange)), gateway, timeout=3000)
        orders = {o.vt_orderid: [o.status.value, o.traded] for o in client.get_all_orders(timeout=3000)}
        trades = sorted(t.vt_tradeid for t in client.get_all_trades(timeout=3000))
        positions = {p.vt_positionid: p.volume for p in client.get_all_positions(timeout=3000)}
        accounts = sorted(a.vt_accountid for a in client.get_all_accounts(timeout=3000))
        with lock:
            ticks = dict(last_tick)
        answer = {"ok": True, "orders": orders, "trades": trades, "positions": positions, "accounts": accounts,
                  "ticks": ticks}
    except RemoteException as error:
        old = client
        old.stop()
        client = new_client()
        answer = {"ok": False, "error": str(error)[:200]}
    print(json.dumps(answer), flush=True)
