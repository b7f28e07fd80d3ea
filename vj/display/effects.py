"""What moves on the display clock: the cross-fade timing and the live effects.

Pure Python, no GL: every display frame turns the parameter snapshot and the display time into
the few numbers the shaders need (`Look`), so fast reactions never wait for the optimizer.
"""
from __future__ import annotations

import statistics
from collections import deque
from dataclasses import dataclass

from engine.motion import Motion
from engine.params import ParamStore, Snapshot

MIN_INTERVAL = 1 / 240   # frames faster than this are shown as they come
MAX_INTERVAL = 5.0       # after a long pause, do not take longer than this to reach the new frame
FIRST_INTERVAL = 0.5     # before two frames have been seen


class CrossFadeTimer:
    """Progress 0..1 from the picture on screen to the newest generator frame.

    The fade lasts the measured interval between generator frames (median of the last few, so one
    slow frame does not stretch the next fades), which keeps motion continuous at display rate
    whether the generator makes 30 frames a second or one every few seconds.
    """

    def __init__(self) -> None:
        self.interval = FIRST_INTERVAL
        self.start = 0.0
        self._last: float | None = None
        self._gaps: deque[float] = deque(maxlen=5)

    def arrived(self, t: float, shown: float | None = None) -> None:
        """A new generator frame arrived for the display frame at `t`: measure the gap, restart the fade.

        The fade starts at `shown`, the time of the display frame before (the picture the fade
        starts from), so this frame already moves towards the new one, and a generator as fast as
        the display shows each of its frames at once.
        """
        if self._last is not None:
            self._gaps.append(t - self._last)
            self.interval = min(MAX_INTERVAL, max(MIN_INTERVAL, statistics.median(self._gaps)))
        self._last = t
        self.start = t if shown is None else shown

    def restart(self, t: float, shown: float | None = None) -> None:
        """Fade again from what is on screen (after a freeze), without counting it as a gap."""
        self._last = t
        self.start = t if shown is None else shown

    def progress(self, t: float) -> float:
        return min(1.0, max(0.0, (t - self.start) / self.interval))


@dataclass(frozen=True)
class Look:
    """The effects pass's uniforms for one display frame."""
    brightness: float = 1.0
    level: float = 1.0      # master fade (blackout drives it to 0)
    flash: float = 0.0
    zoom: float = 1.0
    hue: float = 0.0
    motion: Motion = Motion()   # the camera move the picture keeps making between generator frames


class Effects:
    """Turns parameters and actions into a `Look` at display time t.

    `flash.hit`/`zoom.hit` handlers may run in any thread (OSC, MIDI): they only bump a counter;
    the display loop stamps the hit with its own clock on the next frame.
    """

    def __init__(self, store: ParamStore) -> None:
        self.level = 1.0
        self._t: float | None = None
        self._hits = {"flash.hit": 0, "zoom.hit": 0}
        self._seen = dict(self._hits)
        self._hit_at = {name: -1e9 for name in self._hits}
        for name in self._hits:
            if name in store.actions:
                store.on_action(name, lambda n=name: self._bump(n))

    def _bump(self, name: str) -> None:
        self._hits[name] += 1

    def look(self, snap: Snapshot, t: float) -> Look:
        dt = 0.0 if self._t is None else max(0.0, t - self._t)
        self._t = t
        target = 0.0 if snap["blackout"] else 1.0
        fade = snap["fade.time"]
        step = 1.0 if fade <= 0 else dt / fade
        self.level = min(target, self.level + step) if target > self.level else max(target, self.level - step)
        for name, count in self._hits.items():
            if count != self._seen[name]:
                self._seen[name] = count
                self._hit_at[name] = t
        decay = snap["hit.decay"]
        flash_hit, zoom_hit = (max(0.0, 1.0 - (t - self._hit_at[n]) / decay) for n in ("flash.hit", "zoom.hit"))
        return Look(brightness=snap["brightness"], level=self.level,
                    flash=min(1.0, snap["flash"] + flash_hit),
                    zoom=1.0 + snap["zoom"] + 0.25 * zoom_hit, hue=snap["hue"], motion=Motion.from_snapshot(snap))


def fit(src: tuple[int, int], dst: tuple[int, int], fill: bool = False) -> tuple[float, float]:
    """Size of a `src`-shaped picture inside `dst`, as fractions of `dst` keeping the aspect ratio.

    Letterbox (fill=False): the picture fits inside, one axis is 1 and the other <= 1 (black bars).
    Fill: the picture covers `dst`, one axis is 1 and the other >= 1 (cropped).
    """
    src_aspect = src[0] / src[1]
    dst_aspect = dst[0] / max(1, dst[1])
    ratio = src_aspect / dst_aspect
    wide = ratio > 1
    if wide != fill:
        return 1.0, 1.0 / ratio
    return ratio, 1.0
