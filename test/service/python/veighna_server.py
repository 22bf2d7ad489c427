"""
A VeighNa-style server (vnpy.rpc.RpcServer, REP + PUB) with a tiny in-memory "CTP" gateway behind the 17
RpcService functions, publishing `["", Event]` as RpcEngine does. Our RpcGateway connects to it in the tests.
    python3 veighna_server.py [REP PUB [SESSION]]  (prints {"rep": ..., "pub": ...}, serves until killed)
Without addresses it picks free loopback ports; with them (a restart on the same addresses) it binds those.
SESSION (default 1) leads every order id, as CTP's front/session does, so a restarted server's ids are new ones.
"""
import json
import os
import socket
import sys
import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import vnpy.rpc.server
from vnpy.event import Event
from vnpy.rpc import RpcServer
from vnpy.trader.constant import Direction, Exchange, Interval, Product, Status
from vnpy.trader.object import AccountData, BarData, ContractData, PositionData, TickData, TradeData

# Tests that kill this server want its loss noticed within seconds: a faster heartbeat than VeighNa's 10 s.
if os.environ.get("VEIGHNA_HEARTBEAT_INTERVAL"):
    vnpy.rpc.server.HEARTBEAT_INTERVAL = float(os.environ["VEIGHNA_HEARTBEAT_INTERVAL"])

CHINA_TZ = ZoneInfo("Asia/Shanghai")
GATEWAY = "CTP"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


server = RpcServer()
contracts = {c.vt_symbol: c for c in [
    ContractData(gateway_name=GATEWAY, symbol="rb2501", exchange=Exchange.SHFE, name="螺纹钢2501",
                 product=Product.FUTURES, size=10, pricetick=1),
]}
accounts = {"CTP.0001": AccountData(gateway_name=GATEWAY, accountid="0001", balance=1_000_000)}
positions = {}
orders = {}
trades = {}
ticks = {}
subscribed = set()
counter = [0]
session = sys.argv[3] if len(sys.argv) > 3 else "1"
calls = {"send_order": 0}


def put(event_type, data, specific=None):
    server.publish("", Event(event_type, data))
    if specific:
        server.publish("", Event(event_type + specific, data))


def subscribe(req, gateway_name):
    subscribed.add(req.vt_symbol)


def send_order(req, gateway_name):
    counter[0] += 1
    calls["send_order"] += 1
    order = req.create_order_data(f"{session}_-{counter[0]}", GATEWAY)
    order.status = Status.NOTTRADED
    order.datetime = datetime.now(CHINA_TZ)
    orders[order.vt_orderid] = order
    put("eOrder.", order, order.vt_orderid)
    return order.vt_orderid


def cancel_order(req, gateway_name):
    order = orders.get(f"{GATEWAY}.{req.orderid}")
    if order and order.is_active():
        order.status = Status.CANCELLED
        put("eOrder.", order, order.vt_orderid)


def query_history(req, gateway_name):
    """One minute bar per minute of the request, up to 120."""
    bars = []
    start = req.start.replace(second=0, microsecond=0)
    for i in range(120):
        dt = start + timedelta(minutes=i)
        if req.end and dt > req.end:
            break
        price = 3500 + i
        bars.append(BarData(gateway_name=GATEWAY, symbol=req.symbol, exchange=req.exchange, datetime=dt,
                            interval=Interval.MINUTE, volume=10, open_price=price, high_price=price + 2,
                            low_price=price - 2, close_price=price + 1))
    return bars


def test_calls():
    """Test only: how many calls of each kind reached this server (a blocked order must never arrive)."""
    return dict(calls)


def get_tick(vt_symbol): return ticks.get(vt_symbol)
def get_order(vt_orderid): return orders.get(vt_orderid)
def get_trade(vt_tradeid): return trades.get(vt_tradeid)
def get_position(vt_positionid): return positions.get(vt_positionid)
def get_account(vt_accountid): return accounts.get(vt_accountid)
def get_contract(vt_symbol): return contracts.get(vt_symbol)
def get_all_ticks(): return list(ticks.values())
def get_all_orders(): return list(orders.values())
def get_all_trades(): return list(trades.values())
def get_all_positions(): return list(positions.values())
def get_all_accounts(): return list(accounts.values())
def get_all_contracts(): return list(contracts.values())
def get_all_active_orders(): return [o for o in orders.values() if o.is_active()]


for f in [subscribe, send_order, cancel_order, query_history, get_tick, get_order, get_trade, get_position,
          get_account, get_contract, get_all_ticks, get_all_orders, get_all_trades, get_all_positions,
          get_all_accounts, get_all_contracts, get_all_active_orders, test_calls]:
    server.register(f)


def market() -> None:
    """Ticks for subscribed contracts; an order priced at or above the ask fills."""
    price = 3500
    while True:
        time.sleep(0.05)
        for vt_symbol in list(subscribed):
            c = contracts[vt_symbol]
            price += 1
            tick = TickData(gateway_name=GATEWAY, symbol=c.symbol, exchange=c.exchange, datetime=datetime.now(CHINA_TZ),
                            last_price=price, bid_price_1=price - 1, ask_price_1=price + 1, limit_up=4000, limit_down=3000)
            ticks[vt_symbol] = tick
            put("eTick.", tick, vt_symbol)
            for order in list(orders.values()):
                if order.is_active() and order.vt_symbol == vt_symbol and order.price >= tick.ask_price_1:
                    order.status = Status.ALLTRADED
                    order.traded = order.volume
                    trade = TradeData(gateway_name=GATEWAY, symbol=c.symbol, exchange=c.exchange,
                                      orderid=order.orderid, tradeid=f"t{order.orderid}", direction=order.direction,
                                      price=tick.ask_price_1, volume=order.volume, datetime=datetime.now(CHINA_TZ))
                    trades[trade.vt_tradeid] = trade
                    put("eOrder.", order, order.vt_orderid)
                    put("eTrade.", trade, vt_symbol)
                    position = PositionData(gateway_name=GATEWAY, symbol=c.symbol, exchange=c.exchange,
                                            direction=Direction.LONG, volume=order.volume)
                    positions[position.vt_positionid] = position
                    put("ePosition.", position, vt_symbol)


if len(sys.argv) > 2:
    rep, pub = sys.argv[1], sys.argv[2]
else:
    rep, pub = f"tcp://127.0.0.1:{free_port()}", f"tcp://127.0.0.1:{free_port()}"
server.start(rep, pub)
threading.Thread(target=market, daemon=True).start()
print(json.dumps({"rep": rep, "pub": pub}), flush=True)
