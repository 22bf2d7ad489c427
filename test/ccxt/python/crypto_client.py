"""
A VeighNa client (vnpy.rpc.RpcClient, REQ + SUB) trading a crypto spot pair through `rpcservice serve` with a
ccxt gateway: contracts, a subscribed tick, a resting order cancelled, a marketable order filled, accounts and
history. Prints one JSON report and exits.
    python3 crypto_client.py REQ_ADDRESS SUB_ADDRESS SYMBOL
"""
import json
import os
import sys
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from vnpy.rpc import RpcClient
from vnpy.trader.constant import Direction, Exchange, Interval, OrderType, Product, Status
from vnpy.trader.object import AccountData, BarData, ContractData, HistoryRequest, OrderRequest, SubscribeRequest

req_address, sub_address, symbol = sys.argv[1], sys.argv[2], sys.argv[3]
report: dict = {"errors": []}


class Client(RpcClient):
    def callback(self, topic, data):
        pass


def wait_for(condition, timeout=30.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            if condition():
                return True
        except AttributeError:
            pass
        time.sleep(0.05)
    return False


client = Client()
client.subscribe_topic("")
client.start(req_address, sub_address)
try:
    contracts = client.get_all_contracts()
    contract = next(c for c in contracts if c.symbol == symbol)
    report["contract"] = {"vt_symbol": contract.vt_symbol, "exchange": contract.exchange.name,
                          "product": contract.product.name, "pricetick": contract.pricetick,
                          "min_volume": contract.min_volume, "is_ContractData": isinstance(contract, ContractData)}
    gateway = contract.gateway_name
    vt_symbol = contract.vt_symbol

    client.subscribe(SubscribeRequest(contract.symbol, contract.exchange), gateway)
    wait_for(lambda: client.get_tick(vt_symbol) is not None and client.get_tick(vt_symbol).ask_price_5 > 0)
    tick = client.get_tick(vt_symbol)
    report["tick"] = [tick.bid_price_1, tick.ask_price_1, tick.bid_price_5, tick.ask_price_5]

    resting = OrderRequest(contract.symbol, contract.exchange, Direction.LONG, OrderType.LIMIT, 0.01,
                           tick.bid_price_5 - 100, reference="py")
    resting_id = client.send_order(resting, gateway)
    wait_for(lambda: client.get_order(resting_id).status == Status.NOTTRADED)
    order = client.get_order(resting_id)
    client.cancel_order(order.create_cancel_request(), gateway)
    report["resting"] = wait_for(lambda: client.get_order(resting_id).status == Status.CANCELLED)

    marketable = OrderRequest(contract.symbol, contract.exchange, Direction.LONG, OrderType.LIMIT, 0.01,
                              tick.ask_price_1, reference="py")
    filled_id = client.send_order(marketable, gateway)
    wait_for(lambda: any(t.vt_orderid == filled_id for t in client.get_all_trades()))
    trades = [t for t in client.get_all_trades() if t.vt_orderid == filled_id]
    report["fill"] = [[t.price, t.volume, t.direction.name] for t in trades]
    report["filled_status"] = client.get_order(filled_id).status.name

    wait_for(lambda: any(a.accountid == "spot:BTC" and a.balance > 1 for a in client.get_all_accounts()))
    report["accounts"] = sorted([a.accountid, a.balance] for a in client.get_all_accounts()
                                if isinstance(a, AccountData))

    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    bars = client.query_history(HistoryRequest(contract.symbol, contract.exchange, now - timedelta(hours=2), now,
                                               Interval.MINUTE), gateway, timeout=30000)
    report["bars"] = len(bars) if bars and all(isinstance(b, BarData) for b in bars) else 0
except Exception:
    import traceback
    report["errors"].append(traceback.format_exc())
finally:
    print(json.dumps(report, ensure_ascii=False), flush=True)
    os._exit(0)
