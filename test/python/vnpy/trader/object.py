"""Stand-in for vnpy.trader.object (vnpy 4.3): the dataclasses that travel over RPC, fields in VeighNa's order."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .constant import Direction, Exchange, Interval, Offset, OptionType, OrderType, Product, Status

INFO = 20
ACTIVE_STATUSES = {Status.SUBMITTING, Status.NOTTRADED, Status.PARTTRADED}


@dataclass
class BaseData:
    gateway_name: str
    extra: dict | None = field(default=None, init=False)


@dataclass
class TickData(BaseData):
    symbol: str
    exchange: Exchange
    datetime: datetime
    name: str = ""
    volume: float = 0
    turnover: float = 0
    open_interest: float = 0
    last_price: float = 0
    last_volume: float = 0
    limit_up: float = 0
    limit_down: float = 0
    open_price: float = 0
    high_price: float = 0
    low_price: float = 0
    pre_close: float = 0
    bid_price_1: float = 0
    bid_price_2: float = 0
    bid_price_3: float = 0
    bid_price_4: float = 0
    bid_price_5: float = 0
    ask_price_1: float = 0
    ask_price_2: float = 0
    ask_price_3: float = 0
    ask_price_4: float = 0
    ask_price_5: float = 0
    bid_volume_1: float = 0
    bid_volume_2: float = 0
    bid_volume_3: float = 0
    bid_volume_4: float = 0
    bid_volume_5: float = 0
    ask_volume_1: float = 0
    ask_volume_2: float = 0
    ask_volume_3: float = 0
    ask_volume_4: float = 0
    ask_volume_5: float = 0
    localtime: datetime | None = None

    def __post_init__(self) -> None:
        self.vt_symbol = f"{self.symbol}.{self.exchange.value}"


@dataclass
class BarData(BaseData):
    symbol: str
    exchange: Exchange
    datetime: datetime
    interval: Interval | None = None
    volume: float = 0
    turnover: float = 0
    open_interest: float = 0
    open_price: float = 0
    high_price: float = 0
    low_price: float = 0
    close_price: float = 0

    def __post_init__(self) -> None:
        self.vt_symbol = f"{self.symbol}.{self.exchange.value}"


@dataclass
class OrderData(BaseData):
    symbol: str
    exchange: Exchange
    orderid: str
    type: OrderType = OrderType.LIMIT
    direction: Direction | None = None
    offset: Offset = Offset.NONE
    price: float = 0
    volume: float = 0
    traded: float = 0
    status: Status = Status.SUBMITTING
    datetime: datetime | None = None
    reference: str = ""

    def __post_init__(self) -> None:
        self.vt_symbol = f"{self.symbol}.{self.exchange.value}"
        self.vt_orderid = f"{self.gateway_name}.{self.orderid}"

    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    def create_cancel_request(self) -> "CancelRequest":
        return CancelRequest(orderid=self.orderid, symbol=self.symbol, exchange=self.exchange)


@dataclass
class TradeData(BaseData):
    symbol: str
    exchange: Exchange
    orderid: str
    tradeid: str
    direction: Direction | None = None
    offset: Offset = Offset.NONE
    price: float = 0
    volume: float = 0
    datetime: datetime | None = None

    def __post_init__(self) -> None:
        self.vt_symbol = f"{self.symbol}.{self.exchange.value}"
        self.vt_orderid = f"{self.gateway_name}.{self.orderid}"
        self.vt_tradeid = f"{self.gateway_name}.{self.tradeid}"


@dataclass
class PositionData(BaseData):
    symbol: str
    exchange: Exchange
    direction: Direction
    volume: float = 0
    frozen: float = 0
    price: float = 0
    pnl: float = 0
    yd_volume: float = 0

    def __post_init__(self) -> None:
        self.vt_symbol = f"{self.symbol}.{self.exchange.value}"
        self.vt_positionid = f"{self.gateway_name}.{self.vt_symbol}.{self.direction.value}"


@dataclass
class AccountData(BaseData):
    accountid: str
    balance: float = 0
    frozen: float = 0

    def __post_init__(self) -> None:
        self.available = self.balance - self.frozen
        self.vt_accountid = f"{self.gateway_name}.{self.accountid}"


@dataclass
class LogData(BaseData):
    msg: str
    level: int = INFO

    def __post_init__(self) -> None:
        self.time = datetime.now()


@dataclass
class ContractData(BaseData):
    symbol: str
    exchange: Exchange
    name: str
    product: Product
    size: float
    pricetick: float
    min_volume: float = 1
    max_volume: float | None = None
    stop_supported: bool = False
    net_position: bool = False
    history_data: bool = False
    option_strike: float | None = None
    option_underlying: str | None = None
    option_type: OptionType | None = None
    option_listed: datetime | None = None
    option_expiry: datetime | None = None
    option_portfolio: str | None = None
    option_index: str | None = None

    def __post_init__(self) -> None:
        self.vt_symbol = f"{self.symbol}.{self.exchange.value}"


@dataclass
class QuoteData(BaseData):
    symbol: str
    exchange: Exchange
    quoteid: str
    bid_price: float = 0.0
    bid_volume: int = 0
    ask_price: float = 0.0
    ask_volume: int = 0
    bid_offset: Offset = Offset.NONE
    ask_offset: Offset = Offset.NONE
    status: Status = Status.SUBMITTING
    datetime: datetime | None = None
    reference: str = ""

    def __post_init__(self) -> None:
        self.vt_symbol = f"{self.symbol}.{self.exchange.value}"
        self.vt_quoteid = f"{self.gateway_name}.{self.quoteid}"


@dataclass
class SubscribeRequest:
    symbol: str
    exchange: Exchange

    def __post_init__(self) -> None:
        self.vt_symbol = f"{self.symbol}.{self.exchange.value}"


@dataclass
class OrderRequest:
    symbol: str
    exchange: Exchange
    direction: Direction
    type: OrderType
    volume: float
    price: float = 0
    offset: Offset = Offset.NONE
    reference: str = ""

    def __post_init__(self) -> None:
        self.vt_symbol = f"{self.symbol}.{self.exchange.value}"

    def create_order_data(self, orderid: str, gateway_name: str) -> OrderData:
        return OrderData(symbol=self.symbol, exchange=self.exchange, orderid=orderid, type=self.type,
                         direction=self.direction, offset=self.offset, price=self.price, volume=self.volume,
                         reference=self.reference, gateway_name=gateway_name)


@dataclass
class CancelRequest:
    orderid: str
    symbol: str
    exchange: Exchange

    def __post_init__(self) -> None:
        self.vt_symbol = f"{self.symbol}.{self.exchange.value}"


@dataclass
class HistoryRequest:
    symbol: str
    exchange: Exchange
    start: datetime
    end: datetime | None = None
    interval: Interval | None = None

    def __post_init__(self) -> None:
        self.vt_symbol = f"{self.symbol}.{self.exchange.value}"


@dataclass
class QuoteRequest:
    symbol: str
    exchange: Exchange
    bid_price: float
    bid_volume: int
    ask_price: float
    ask_volume: int
    bid_offset: Offset = Offset.NONE
    ask_offset: Offset = Offset.NONE
    reference: str = ""

    def __post_init__(self) -> None:
        self.vt_symbol = f"{self.symbol}.{self.exchange.value}"
