"""vnpy/rpc/common.py, re-created from the reference (§1.1). Like VeighNa, importing it resets SIGINT."""
import signal

signal.signal(signal.SIGINT, signal.SIG_DFL)

HEARTBEAT_TOPIC = "heartbeat"
HEARTBEAT_INTERVAL = 10
HEARTBEAT_TOLERANCE = 30
