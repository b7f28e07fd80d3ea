"""Latest-wins, rate-limited delivery of changed values: the one feedback mechanism of every surface.

OSC feedback, MIDI LEDs and the browser's WebSocket all echo the store the same way: a writer (any
thread) marks a key as changed and returns at once; a sender thread delivers each pending key at
most `rate` times a second, reading the value only when it delivers, so the latest value wins and a
fader dragged at 1000 messages a second costs the network or the MIDI cable `rate` messages.
"""
from __future__ import annotations

import logging
import math
import threading
import time
from typing import Callable

from .ratelog import RateLimitedLog

log = logging.getLogger(__name__)


class Throttle:
    """Calls `deliver(keys)` on its own thread with the pending keys whose turn has come.

    `rate`: most deliveries per second per key. `poke()` wakes the thread now for work of the
    owner's own (answers to a query): `deliver` is then called, with no keys when none is due.
    Exceptions in `deliver` are logged (rate-limited) and delivery goes on.
    """

    def __init__(self, deliver: Callable[[list[str]], None], rate: float, name: str) -> None:
        self.deliver, self.name = deliver, name
        self.interval = 1.0 / rate
        self._pending: dict[str, None] = {}                  # ordered set of pending keys
        self._last: dict[str, float] = {}                    # key -> monotonic time of its last delivery
        self._deadline = math.inf                            # when the thread next wakes by itself
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors = RateLimitedLog(log, interval=10.0)

    def mark(self, key: str) -> None:
        """Key `key` changed (any thread; quick). Wakes the thread only when this key is due sooner than
        it planned, so a dragged fader wakes it `rate` times a second, not once per message."""
        with self._lock:
            if key in self._pending:
                return
            self._pending[key] = None
            due = self._last.get(key, -math.inf) + self.interval
            wake = due < self._deadline
            if wake:
                self._deadline = due
        if wake:
            self._wake.set()

    def poke(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def _run(self) -> None:
        wait: float | None = None
        while not self._stop.is_set():
            self._wake.wait(wait)
            self._wake.clear()
            if self._stop.is_set():
                return
            due, wait = self._take_due()
            try:
                self.deliver(due)
            except Exception:  # a broken value must not end feedback for the whole show
                self.errors("bug", "%s failed; it carries on", self.name, exc_info=True)

    def _take_due(self) -> tuple[list[str], float | None]:
        """The pending keys that may go now, and the wait until the next may (None: nothing pending)."""
        now = time.monotonic()
        with self._lock:
            due = [k for k in self._pending if now - self._last.get(k, -math.inf) >= self.interval]
            for k in due:
                del self._pending[k]
                self._last[k] = now
            wait = min((self._last[k] + self.interval - now for k in self._pending), default=None)
            self._deadline = math.inf if wait is None else now + wait
        return due, None if wait is None else max(0.0, wait)
