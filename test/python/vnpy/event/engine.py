"""Stand-in for vnpy.event.engine: only the Event class travels over RPC."""
from typing import Any

EVENT_TIMER = "eTimer"


class Event:
    def __init__(self, type: str, data: Any = None) -> None:
        self.type: str = type
        self.data: Any = data
