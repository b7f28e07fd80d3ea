"""An NDI source as an input (cyndilib's receiver with its frame synchronizer), also used by `vj view`.

NDI finds sources by mDNS on the local network (or by the discovery server / extra IPs in the NDI
configuration file, $NDI_CONFIG_DIR/ndi-config.v1.json, where multicast does not pass).
"""
from __future__ import annotations

import time
from typing import Iterator

import numpy as np

from .base import InputError, PictureSource

FIND_S = 5.0       # how long to look for the source on the network
GONE_S = 2.0       # disconnected this long: the source is gone
POLL_S = 1 / 120   # how often the frame synchronizer is asked for a new picture


def _cyndilib():
    try:
        import cyndilib  # noqa: F401
    except Exception as e:
        raise InputError(f"NDI input needs the Python package cyndilib, which cannot be loaded here ({e}); "
                         "install it with `.venv/bin/pip install cyndilib`.") from None


def find_source(name: str, timeout: float = FIND_S):
    """The NDI source whose name contains `name` (any case): (finder, source); the finder must stay
    open while the source is used. Raises InputError when none appears within `timeout` seconds."""
    _cyndilib()
    from cyndilib.finder import Finder
    finder = Finder()
    finder.open()
    end = time.monotonic() + timeout
    while True:
        for full in finder.get_source_names():
            if name.lower() in full.lower():
                return finder, finder.get_source(full)
        if time.monotonic() >= end:
            seen = finder.get_source_names()
            finder.close()
            raise InputError(f"No NDI source named {name!r} is on the network (found: {', '.join(seen) or 'none'}); "
                             "check the sender runs and both machines share a network.")
        finder.wait_for_sources(min(0.5, max(0.01, end - time.monotonic())))


def list_sources(wait: float = 2.0) -> list[str]:
    """NDI source names seen on the network within `wait` seconds (`vj devices`)."""
    _cyndilib()
    from cyndilib.finder import Finder
    finder = Finder()
    finder.open()
    try:
        finder.wait_for_sources(wait)
        return list(finder.get_source_names())
    finally:
        finder.close()


class NdiSource(PictureSource):
    """Pictures from an NDI source, as they arrive (each new one once)."""

    def __init__(self, name: str, timeout: float = FIND_S) -> None:
        _cyndilib()
        from cyndilib.receiver import Receiver
        from cyndilib.video_frame import VideoFrameSync
        from cyndilib.wrapper.ndi_recv import RecvBandwidth, RecvColorFormat
        self.finder, source = find_source(name, timeout)
        self.name = f"NDI {source.name}"
        self.receiver = Receiver(color_format=RecvColorFormat.RGBX_RGBA, bandwidth=RecvBandwidth.highest,
                                 recv_name="vj input")
        self.frame = VideoFrameSync()
        self.receiver.frame_sync.set_video_frame(self.frame)
        self.receiver.set_source(source)

    def latest(self) -> tuple[float, np.ndarray] | None:
        """(timestamp, (H, W, 3) uint8 RGB) of the newest received picture, or None before the first."""
        self.receiver.frame_sync.capture_video()
        w, h = self.frame.xres, self.frame.yres
        if not w or not h:
            return None
        stride = self.frame.get_line_stride() or w * 4
        data = np.asarray(self.frame.get_array()).reshape(h, stride)[:, :w * 4].reshape(h, w, 4)
        return self.frame.get_timestamp_posix(), data[..., :3].copy()

    def pictures(self) -> Iterator[np.ndarray]:
        last, lost = None, None
        while True:
            got = self.latest() if self.receiver.is_connected() else None
            if got is not None and got[0] != last:
                last, lost = got[0], None
                yield got[1]
            elif not self.receiver.is_connected():
                lost = lost or time.monotonic()
                if time.monotonic() - lost > GONE_S:
                    raise InputError(f"{self.name} is gone (no connection for {GONE_S:g} s).")
            time.sleep(POLL_S)

    def close(self) -> None:
        try:
            self.receiver.disconnect()
        finally:
            self.finder.close()
