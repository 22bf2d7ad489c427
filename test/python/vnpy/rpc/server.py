"""vnpy/rpc/server.py, re-created faithfully from the reference (§1.5): REP + PUB, one request at a time."""
import threading
import traceback
from time import time
from typing import Any, Callable

import zmq

from .common import HEARTBEAT_INTERVAL, HEARTBEAT_TOPIC


class RpcServer:
    def __init__(self) -> None:
        self._functions: dict[str, Callable] = {}
        self._context: zmq.Context = zmq.Context()
        self._socket_rep: zmq.Socket = self._context.socket(zmq.REP)
        self._socket_pub: zmq.Socket = self._context.socket(zmq.PUB)
        self._active: bool = False
        self._thread: threading.Thread | None = None
        self._lock: threading.Lock = threading.Lock()
        self._heartbeat_at: float | None = None

    def is_active(self) -> bool:
        return self._active

    def start(self, rep_address: str, pub_address: str) -> None:
        if self._active:
            return
        self._socket_rep.bind(rep_address)
        self._socket_pub.bind(pub_address)
        self._active = True
        self._thread = threading.Thread(target=self.run)
        self._thread.start()
        self._heartbeat_at = time() + HEARTBEAT_INTERVAL

    def stop(self) -> None:
        if not self._active:
            return
        self._active = False

    def join(self) -> None:
        if self._thread and self._thread.is_alive():
            self._thread.join()
        self._thread = None

    def run(self) -> None:
        while self._active:
            if not self._socket_rep.poll(1000):
                self.check_heartbeat()
                continue
            self.check_heartbeat()
            req = self._socket_rep.recv_pyobj()
            name, args, kwargs = req
            try:
                func: Callable = self._functions[name]
                r: object = func(*args, **kwargs)
                rep: list = [True, r]
            except Exception as e:  # noqa: F841
                rep = [False, traceback.format_exc()]
            self._socket_rep.send_pyobj(rep)
        self._socket_pub.close()
        self._socket_rep.close()

    def publish(self, topic: str, data: Any) -> None:
        with self._lock:
            self._socket_pub.send_pyobj([topic, data])

    def register(self, func: Callable) -> None:
        self._functions[func.__name__] = func

    def check_heartbeat(self) -> None:
        now = time()
        if now >= self._heartbeat_at:
            self.publish(HEARTBEAT_TOPIC, now)
            self._heartbeat_at = now + HEARTBEAT_INTERVAL
