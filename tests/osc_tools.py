"""Test helpers for OSC: free ports, a feedback listener, a server on localhost, waiting."""
from __future__ import annotations

import socket
import threading
import time
from dataclasses import replace

from pythonosc.osc_message import OscMessage

from vj.osc import OscServer
from vj.setup import OscSetup


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(cond, timeout: float = 5.0, step: float = 0.005) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(step)
    return bool(cond())


class Listener:
    """A UDP port that records every OSC message it receives: (time, address, args)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.messages: list[tuple[float, str, list]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data, _ = self.sock.recvfrom(65535)
            except OSError:
                continue
            msg = OscMessage(data)
            self.messages.append((time.monotonic(), msg.address, msg.params))

    def at(self, address: str) -> list[list]:
        return [args for _, a, args in list(self.messages) if a == address]

    def last(self, address: str):
        got = self.at(address)
        return got[-1][0] if got else None

    def close(self) -> None:
        self._stop.set()
        self._thread.join(1)
        self.sock.close()


def start_server(store, **osc) -> OscServer:
    """An OSC server on a free localhost port; `osc` overrides OscSetup fields."""
    setup = replace(OscSetup(), listen="127.0.0.1", port=0, **osc)
    server = OscServer(store, setup)
    server.start()
    assert server.port, "the test server did not bind"
    return server
