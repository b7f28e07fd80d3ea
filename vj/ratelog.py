"""Log lines that a flood cannot multiply: one line per reason per interval, with a count.

A hostile or broken sender can make thousands of bad messages a second; each is counted, but
the log shows at most one line per reason (and per thing it is about) per `interval` seconds, and
at most `burst` lines in all per interval, each saying how many like it were left out.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque


class RateLimitedLog:
    def __init__(self, logger: logging.Logger, interval: float = 2.0, level: int = logging.WARNING,
                 burst: int = 20) -> None:
        self.logger, self.interval, self.level, self.burst = logger, interval, level, burst
        self._recent: deque[float] = deque()    # when the last lines were logged, any reason
        self.counts: Counter[str] = Counter()   # every event, by reason, for the HUD and tests
        self._last: dict[str, float] = {}
        self._quiet: Counter[str] = Counter()   # events not logged since the last line, by reason and thing
        self._lock = threading.Lock()

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def __call__(self, reason: str, msg: str, *args: object, exc_info: bool = False, about: str = "") -> None:
        """Count one event of `reason`; log `msg % args` unless one of the same reason `about` the same
        thing (e.g. one OSC address; keep such names to a bounded set) was logged recently, so that a
        refusal of one control never hides another's."""
        now = time.monotonic()
        key = f"{reason}\0{about}"
        with self._lock:
            self.counts[reason] += 1
            while self._recent and now - self._recent[0] >= self.interval:
                self._recent.popleft()
            if now - self._last.get(key, -1e9) < self.interval or len(self._recent) >= self.burst:
                self._quiet[key] += 1
                return
            self._last[key] = now
            self._recent.append(now)
            quiet = self._quiet.pop(key, 0)
        if quiet:
            msg += f" ({quiet} more like this since the last such line)"
        self.logger.log(self.level, msg, *args, exc_info=exc_info)
