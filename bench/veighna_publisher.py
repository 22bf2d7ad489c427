"""
A VeighNa-style server for bench/relay.bench.ts: the stand-in vnpy.rpc.RpcServer (test/python) publishing ticks as
VeighNa's RpcEngine does (every event twice: eTick. and eTick.<vt_symbol>), on request.
    python3 veighna_publisher.py     prints {"rep", "pub"}, serves until killed
Functions: burst(rate, count) publishes `count` ticks at `rate` per second in 1 ms slices, then an eBenchEnd
event, and returns the rate it reached; subscribe(req, gateway_name) does nothing (the call the bench times).
"""
import json
import socket
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from vnpy.event import Event
from vnpy.rpc import RpcServer
from vnpy.trader.constant import Exchange, Product
from vnpy.trader.object import ContractData, TickData

CHINA_TZ = ZoneInfo("Asia/Shanghai")
server = RpcServer()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def publish_tick(seq: int) -> None:
    tick = TickData(gateway_name="CTP", symbol="rb2501", exchange=Exchange.SHFE, datetime=datetime.now(CHINA_TZ),
                    last_price=3500 + seq % 10, volume=seq, bid_price_1=3499, ask_price_1=3501, bid_volume_1=10,
                    ask_volume_1=12)
    tick.extra = {"seq": seq, "t": time.time() * 1000}
    server.publish("", Event("eTick.", tick))
    server.publish("", Event("eTick." + tick.vt_symbol, tick))


def burst(rate, count):
    per_slice = max(1, round(rate / 1000))
    sent = 0
    started = time.perf_counter()
    while sent < count:
        due = min(count, int((time.perf_counter() - started) * rate) + per_slice)
        while sent < due:
            sent += 1
            publish_tick(sent)
        time.sleep(0.001)
    achieved = count / (time.perf_counter() - started)
    server.publish("", Event("eBenchEnd", None))
    return achieved


def subscribe(req, gateway_name):
    return None


# The contract makes the relay route `subscribe` here (a relay forwards only what some upstream contract lists).
CONTRACT = ContractData(gateway_name="CTP", symbol="rb2501", exchange=Exchange.SHFE, name="rb2501", product=Product.FUTURES,
                        size=10, pricetick=1)


def get_all_contracts(): return [CONTRACT]
def get_all_accounts(): return []
def get_all_positions(): return []
def get_all_orders(): return []
def get_all_trades(): return []


for f in [burst, subscribe, get_all_contracts, get_all_accounts, get_all_positions, get_all_orders, get_all_trades]:
    server.register(f)

rep, pub = f"tcp://127.0.0.1:{free_port()}", f"tcp://127.0.0.1:{free_port()}"
server.start(rep, pub)
print(json.dumps({"rep": rep, "pub": pub}), flush=True)
