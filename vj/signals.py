"""How the operating system asks the show to stop, answered the way `quit` is.

SIGTERM (`kill PID`, systemd, a task manager) and SIGHUP (the terminal or SSH session closed) end
the show through the same path as a confirmed quit, so services stop in order and the recording
is closed whole (Matroska writes its duration and index only when closed). Ctrl-C (SIGINT) keeps
Python's KeyboardInterrupt, which reaches the same `finally`. Once the show is closing, any of the
three is answered with a log line instead of cutting the file short; `kill -9` still cuts it.

Python runs signal handlers on the main thread between bytecodes, so a handler here only sets a
flag the display loop reads at its next frame.
"""
from __future__ import annotations

import logging
import signal
import threading
from typing import Any, Callable

log = logging.getLogger(__name__)

STOP = (signal.SIGTERM, signal.SIGHUP)


class StopSignals:
    """A context manager: inside it SIGTERM and SIGHUP call `on_stop()` (set it once the loop exists).

    `asked` names the first signal received (None: none). After `closing()`, SIGINT, SIGTERM and
    SIGHUP are logged and ignored until the context ends. Off the main thread it does nothing
    (Python only lets the main thread install handlers).
    """

    def __init__(self, on_stop: Callable[[], None] = lambda: None) -> None:
        self.on_stop = on_stop
        self.asked: str | None = None
        self._closing = False
        self._old: dict[int, Any] = {}

    def __enter__(self) -> "StopSignals":
        self._take(STOP)
        return self

    def __exit__(self, *exc: object) -> None:
        for number, old in self._old.items():
            signal.signal(number, old)
        self._old.clear()

    def closing(self) -> None:
        """The show is closing: from now on a stop signal (Ctrl-C too) must not cut the recording."""
        self._closing = True
        self._take((signal.SIGINT,))

    def _take(self, numbers: tuple[int, ...]) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for number in numbers:
            if number not in self._old:
                self._old[number] = signal.signal(number, self._handle)

    def _handle(self, number: int, frame: Any) -> None:
        name = signal.Signals(number).name
        if self._closing:
            log.warning("%s while the show is closing: finishing the recording first (kill -9 would cut it)", name)
            return
        if self.asked is None:
            log.info("%s: ending the show as quit does (the recording is closed whole)", name)
            self.asked = name
        self.on_stop()
