"""Log lines that a flood cannot multiply: one line per reason per interval, with a count.

A hostile or broken sender can make thousands of bad messages a second; each is counted, but
the log shows at most one line per reason per `interval` seconds, saying how many were dropped.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import Counter


class RateLimitedLog:
    def __init__(self, logger: logging.Logger, interval: float = 2.0, level: int = logging.WARNING) -> None:
        self.logger, self.interval, self.level = logger, interval, level
        self.counts: Counter[str] = Counter()   # every event, by reason, for the HUD and tests
        self._last: dict[str, float] = {}
        self._quiet: Counter[str] = Counter()   # events not logged since the last line, by reason
        self._lock = threading.Lock()

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def __call__(self, reason: str, msg: str, *args: object, exc_info: bool = False) -> None:
        """Count one event of `reason`; log `msg % args` unless one was logged recently."""
        now = time.monotonic()
        with self._lock:
            self.counts[reason] += 1
            if now - self._last.get(reason, -1e9) < self.interval:
                self._quiet[reason] += 1
                return
            self._last[reason] = now
            quiet = self._quiet.pop(reason, 0)
        if quiet:
            msg += f" ({quiet} more like this since the last such line)"
        self.logger.log(self.level, msg, *args, exc_info=exc_info)
