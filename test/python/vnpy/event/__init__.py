from .engine import Event, EVENT_TIMER
