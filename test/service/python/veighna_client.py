"""
An unmodified-VeighNa-style client (vnpy.rpc.RpcClient, REQ + SUB) against our server: calls every one of the
17 RpcService functions and records every event type it receives. Prints one JSON report and exits.
    python3 veighna_client.py REQ_ADDRESS SUB_ADDRESS
"""
import json
import os
import sys
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from vnpy.event import Event
from vnpy.rpc import RemoteException, RpcClient
from vnpy.trader.constant import Direction, Interval, Offset, OrderType, Product, Status
from vnpy.trader.object import (AccountData, BarData, CancelRequest, ContractData, HistoryRequest, OrderData,
                                OrderRequest, PositionData, SubscribeRequest, TickData, TradeData)

req_address, sub_address = sys.argv[1], sys.argv[2]
events: list[Event] = []
report: dict = {"calls": {}, "errors": []}


class Client(RpcClient):
    def callback(self, topic, data):
        events.append(data)


def wait_for(condition, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            if condition():
                return True
        except AttributeError:  # the object is not there yet (None)
            pass
        time.sleep(0.02)
    return False


def record(name, value, ok):
    report["calls"][name] = bool(ok)
    if not ok:
        report["errors"].append(f"{name}: {value!r}")


client = Client()
client.subscribe_topic("")
client.start(req_address, sub_address)
try:
    contracts = client.get_all_contracts()
    record("get_all_contracts", contracts, contracts and all(isinstance(c, ContractData) for c in contracts))
    future = next(c for c in contracts if c.product == Product.FUTURES)
    gateway = future.gateway_name
    vt_symbol = future.vt_symbol
    record("get_contract", None, isinstance(client.get_contract(vt_symbol), ContractData))

    record("subscribe", None, client.subscribe(SubscribeRequest(future.symbol, future.exchange), gateway) is None)
    wait_for(lambda: client.get_tick(vt_symbol) is not None)
    tick = client.get_tick(vt_symbol)
    record("get_tick", tick, isinstance(tick, TickData) and tick.vt_symbol == vt_symbol)
    ticks = client.get_all_ticks()
    record("get_all_ticks", ticks, any(isinstance(t, TickData) for t in ticks))

    resting = OrderRequest(future.symbol, future.exchange, Direction.LONG, OrderType.LIMIT, 1,
                           tick.limit_down, Offset.OPEN, reference="py")
    vt_orderid = client.send_order(resting, gateway)
    record("send_order", vt_orderid, isinstance(vt_orderid, str) and vt_orderid.startswith(gateway + "."))
    wait_for(lambda: client.get_order(vt_orderid).status == Status.NOTTRADED)
    order = client.get_order(vt_orderid)
    record("get_order", order, isinstance(order, OrderData) and order.vt_orderid == vt_orderid)
    active = client.get_all_active_orders()
    record("get_all_active_orders", active, any(o.vt_orderid == vt_orderid for o in active))
    filtered = client.get_all_active_orders("no_such.SHFE")  # a 3.x client's filter argument
    record("get_all_active_orders(vt_symbol)", filtered, filtered == [])
    record("cancel_order", None, client.cancel_order(order.create_cancel_request(), gateway) is None)
    wait_for(lambda: client.get_order(vt_orderid).status == Status.CANCELLED)

    marketable = OrderRequest(future.symbol, future.exchange, Direction.LONG, OrderType.LIMIT, 1,
                              tick.limit_up, Offset.OPEN)
    filled_id = client.send_order(marketable, gateway)
    wait_for(lambda: any(t.vt_orderid == filled_id for t in client.get_all_trades()))
    trades = client.get_all_trades()
    trade = next((t for t in trades if t.vt_orderid == filled_id), None)
    record("get_all_trades", trades, isinstance(trade, TradeData))
    record("get_trade", None, trade is not None and isinstance(client.get_trade(trade.vt_tradeid), TradeData))
    orders = client.get_all_orders()
    record("get_all_orders", orders, any(o.vt_orderid == filled_id for o in orders))
    positions = client.get_all_positions()
    record("get_all_positions", positions, any(isinstance(p, PositionData) for p in positions))
    position = next(p for p in positions if p.vt_symbol == vt_symbol)
    record("get_position", None, isinstance(client.get_position(position.vt_positionid), PositionData))
    accounts = client.get_all_accounts()
    record("get_all_accounts", accounts, accounts and isinstance(accounts[0], AccountData))
    record("get_account", None, isinstance(client.get_account(accounts[0].vt_accountid), AccountData))

    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    bars = client.query_history(HistoryRequest(future.symbol, future.exchange, now - timedelta(hours=2), now,
                                               Interval.MINUTE), gateway, timeout=15000)
    record("query_history", bars, bars and all(isinstance(b, BarData) for b in bars))

    try:
        client.no_such_function()
        report["unknown_function"] = "no error"
    except RemoteException as e:
        report["unknown_function"] = str(e).strip().splitlines()[-1]
    try:
        client.send_order("not an order", gateway)
        report["wrong_args"] = "no error"
    except RemoteException as e:
        report["wrong_args"] = str(e).strip().splitlines()[-1]

    wait_for(lambda: any(e.type.startswith("eTrade.") for e in events))
    time.sleep(0.5)
    report["event_types"] = sorted({e.type if e.type.endswith(".") or e.type == "eLog" or e.type == "eRpcLog"
                                    else e.type.split(".")[0] + ".<id>" for e in events})
    report["events_are_Event"] = all(isinstance(e, Event) for e in events)
    seqs = [getattr(e, "seq", None) for e in events]
    report["seq_increasing"] = all(isinstance(s, int) for s in seqs) and seqs == sorted(seqs)
    report["epochs"] = sorted({getattr(e, "epoch", None) for e in events})
    report["heartbeat"] = client._last_received_ping
except Exception:
    import traceback
    report["errors"].append(traceback.format_exc())
finally:
    print(json.dumps(report, ensure_ascii=False), flush=True)
    os._exit(0)  # VeighNa's receive thread sits in a 30 s poll; don't wait for it
