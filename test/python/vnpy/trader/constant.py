"""Stand-in for vnpy.trader.constant (vnpy 4.3): the enums at their real module path.

As in vnpy, values are translated once, at import: with VNPY_LANGUAGE=en they are the values of vnpy's English
catalogue (a wheel install under LANG=en), otherwise the untranslated Chinese ones.
"""
import os
from enum import Enum

_ENGLISH = {
    '多': 'Long',
    '空': 'Short',
    '净': 'Net',
    '开': 'Open',
    '平': 'Close',
    '平今': 'Close Today',
    '平昨': 'Close Yesterday',
    '提交中': 'Submitting',
    '未成交': 'Not Traded',
    '部分成交': 'Part Traded',
    '全部成交': 'All Traded',
    '已撤销': 'Cancelled',
    '拒单': 'Rejected',
    '股票': 'Stock',
    '期货': 'Futures',
    '期权': 'Option',
    '指数': 'Index',
    '外汇': 'Forex',
    '现货': 'Spot',
    '债券': 'Bond',
    '权证': 'Warrant',
    '价差': 'Spread',
    '基金': 'Fund',
    '互换': 'Swap',
    '限价': 'Limit',
    '市价': 'Market',
    '询价': 'RFQ',
    '看涨期权': 'Call',
    '看跌期权': 'Put',
}


def _(text: str) -> str:
    return _ENGLISH.get(text, text) if os.environ.get("VNPY_LANGUAGE", "").startswith("en") else text


class Direction(Enum):
    LONG = _('多')
    SHORT = _('空')
    NET = _('净')


class Offset(Enum):
    NONE = ''
    OPEN = _('开')
    CLOSE = _('平')
    CLOSETODAY = _('平今')
    CLOSEYESTERDAY = _('平昨')


class Status(Enum):
    SUBMITTING = _('提交中')
    NOTTRADED = _('未成交')
    PARTTRADED = _('部分成交')
    ALLTRADED = _('全部成交')
    CANCELLED = _('已撤销')
    REJECTED = _('拒单')


class Product(Enum):
    EQUITY = _('股票')
    FUTURES = _('期货')
    OPTION = _('期权')
    INDEX = _('指数')
    FOREX = _('外汇')
    SPOT = _('现货')
    ETF = 'ETF'
    BOND = _('债券')
    WARRANT = _('权证')
    SPREAD = _('价差')
    FUND = _('基金')
    CFD = 'CFD'
    SWAP = _('互换')


class OrderType(Enum):
    LIMIT = _('限价')
    MARKET = _('市价')
    STOP = 'STOP'
    FAK = 'FAK'
    FOK = 'FOK'
    RFQ = _('询价')
    ETF = 'ETF'


class OptionType(Enum):
    CALL = _('看涨期权')
    PUT = _('看跌期权')


class Exchange(Enum):
    CFFEX = 'CFFEX'
    SHFE = 'SHFE'
    CZCE = 'CZCE'
    DCE = 'DCE'
    INE = 'INE'
    GFEX = 'GFEX'
    SSE = 'SSE'
    SZSE = 'SZSE'
    BSE = 'BSE'
    SHHK = 'SHHK'
    SZHK = 'SZHK'
    SGE = 'SGE'
    WXE = 'WXE'
    CFETS = 'CFETS'
    XBOND = 'XBOND'
    SMART = 'SMART'
    NYSE = 'NYSE'
    NASDAQ = 'NASDAQ'
    ARCA = 'ARCA'
    EDGEA = 'EDGEA'
    ISLAND = 'ISLAND'
    BATS = 'BATS'
    IEX = 'IEX'
    AMEX = 'AMEX'
    TSE = 'TSE'
    NYMEX = 'NYMEX'
    COMEX = 'COMEX'
    GLOBEX = 'GLOBEX'
    IDEALPRO = 'IDEALPRO'
    CME = 'CME'
    ICE = 'ICE'
    SEHK = 'SEHK'
    HKFE = 'HKFE'
    SGX = 'SGX'
    CBOT = 'CBOT'
    CBOE = 'CBOE'
    CFE = 'CFE'
    DME = 'DME'
    EUREX = 'EUX'
    APEX = 'APEX'
    LME = 'LME'
    BMD = 'BMD'
    TOCOM = 'TOCOM'
    EUNX = 'EUNX'
    KRX = 'KRX'
    OTC = 'OTC'
    IBKRATS = 'IBKRATS'
    LOCAL = 'LOCAL'
    GLOBAL = 'GLOBAL'


class Currency(Enum):
    USD = 'USD'
    HKD = 'HKD'
    CNY = 'CNY'
    CAD = 'CAD'


class Interval(Enum):
    MINUTE = '1m'
    HOUR = '1h'
    DAILY = 'd'
    WEEKLY = 'w'
    TICK = 'tick'
