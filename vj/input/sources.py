"""Where input pictures come from: a camera, a video file, a still image or an NDI source.

`open_source(spec)` returns a `PictureSource` whose `pictures()` yields (H, W, 3) uint8 RGB pictures,
row 0 at the top, as they become due (a camera at its own rate, a file in real time), and ends when a
file ends. Cameras and files are decoded by PyAV (FFmpeg's v4l2 on Linux, avfoundation on macOS,
dshow on Windows); stills by Pillow; NDI by cyndilib (vj/input/ndi.py).

Specs: "camera:NAME" (a device name, or part of it, or /dev/videoN), "ndi:NAME" (an NDI source name,
or part of it), or a file path: .png/.jpg/... is a still, anything else a video.

Failures raise `InputError` with one sentence for the performer (what happened, what to do).
"""
from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Iterator

import av
import numpy as np

from .base import InputError, PictureSource

log = logging.getLogger(__name__)

STILLS = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
CAMERA_FORMATS = {"linux": "v4l2", "darwin": "avfoundation", "win32": "dshow"}
MAX_WIDTH = 1280  # pictures are scaled down to this width as they are decoded: the optimizer's grid is smaller


def _rgb(frame: av.VideoFrame) -> np.ndarray:
    """A decoded frame as (H, W, 3) uint8 RGB, no wider than MAX_WIDTH."""
    if frame.width > MAX_WIDTH:
        h = max(2, round(frame.height * MAX_WIDTH / frame.width))
        return frame.to_ndarray(format="rgb24", width=MAX_WIDTH, height=h)
    return frame.to_ndarray(format="rgb24")


class Still(PictureSource):
    """A still image: one picture (the input bus keeps it)."""
    still = True

    def __init__(self, path: Path, key: str = "source") -> None:
        """`key`: the [input] setup key that names the file, for the sentence when it is missing."""
        from PIL import Image, UnidentifiedImageError
        self.name = str(path)
        try:
            with Image.open(path) as im:
                self.picture = np.asarray(im.convert("RGB"))
        except FileNotFoundError:
            raise InputError(f"Input image {path} does not exist; check [input] {key} in the setup.") from None
        except (UnidentifiedImageError, OSError) as e:
            raise InputError(f"Input image {path} cannot be read ({e}); save it again as PNG or JPEG.") from None

    def pictures(self) -> Iterator[np.ndarray]:
        yield self.picture


class VideoFile(PictureSource):
    """A video file played in real time, from the start again at its end when `loop`."""

    def __init__(self, path: Path, loop: bool = True) -> None:
        self.name, self.path, self.loops = str(path), path, loop
        if not path.is_file():
            raise InputError(f"Input video {path} does not exist; check [input] source in the setup.")
        self._box = _open(str(path), None, {}, f"Input video {path} cannot be opened",
                          "it may be corrupt: play it in another player or convert it to MP4 (H.264)")
        if not self._box.streams.video:
            self._box.close()
            raise InputError(f"Input video {path} has no picture stream; choose a video file.")
        self._stream = self._box.streams.video[0]
        self._stream.thread_type = "AUTO"

    def pictures(self) -> Iterator[np.ndarray]:
        while True:
            t0, first, shown = time.perf_counter(), None, 0
            try:
                for frame in self._box.decode(self._stream):
                    t = float(frame.time or 0.0)
                    first = t if first is None else first
                    delay = t0 + (t - first) - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)   # real time: the file's clock
                    shown += 1
                    yield _rgb(frame)
            except av.error.FFmpegError as e:
                raise InputError(f"Input video {self.path} stopped decoding after {shown} pictures ({e}); "
                                 "it may be corrupt: convert it to MP4 (H.264).") from None
            if not self.loops or shown == 0:
                return
            self._box.seek(0)

    def close(self) -> None:
        try:
            self._box.close()
        except Exception:
            pass


class Camera(PictureSource):
    """A camera through FFmpeg's capture device of this platform."""

    def __init__(self, name: str) -> None:
        fmt = CAMERA_FORMATS.get(sys.platform, "v4l2")
        if fmt == "v4l2":
            device = find_camera(name)      # a name -> /dev/videoN
        elif fmt == "dshow":
            device = f"video={name}"
        else:
            device = name                   # avfoundation takes the name (or its index)
        self.name = f"camera {name}"
        options = {"framerate": "30"} if fmt != "v4l2" else {}
        self._box = _open(device, fmt, options, f"Camera {name!r} cannot be opened",
                          "check it is plugged in and not used by another program (`vj devices` lists cameras)")
        self._stream = self._box.streams.video[0]

    def pictures(self) -> Iterator[np.ndarray]:
        try:
            for frame in self._box.decode(self._stream):
                yield _rgb(frame)
        except av.error.FFmpegError as e:
            raise InputError(f"{self.name} stopped delivering pictures ({e}); is it unplugged?") from None

    def close(self) -> None:
        try:
            self._box.close()
        except Exception:
            pass


def _open(target: str, fmt: str | None, options: dict, what: str, advice: str):
    try:
        return av.open(target, format=fmt, options=options, timeout=5.0)
    except (av.error.FFmpegError, OSError, ValueError) as e:
        raise InputError(f"{what} ({e}); {advice}.") from None


def list_cameras() -> list[str]:
    """Cameras this machine offers, one line each (Linux: /dev/videoN and its name)."""
    root = Path("/sys/class/video4linux")
    if not root.is_dir():
        return []
    return [f"/dev/{d.name}: {(d / 'name').read_text().strip()}" for d in sorted(root.iterdir()) if (d / "name").is_file()]


def find_camera(name: str) -> str:
    """The /dev/videoN of a camera named `name` (or part of it, any case); a /dev path passes through."""
    if name.startswith("/dev/"):
        return name
    for line in list_cameras():
        device, _, label = line.partition(": ")
        if name.lower() in label.lower():
            return device
    raise InputError(f"No camera named {name!r} is connected (found: {', '.join(list_cameras()) or 'none'}); "
                     "plug it in or change [input] source; the show goes on without input meanwhile.")


def open_source(spec: str, base: Path | None = None, loop: bool = True) -> PictureSource:
    """Open an input by its spec (see the module doc); a relative path is taken from `base`."""
    kind, _, rest = spec.partition(":")
    if kind == "camera" and rest:
        return Camera(rest)
    if kind == "ndi" and rest:
        from .ndi import NdiSource
        return NdiSource(rest)
    path = Path(spec).expanduser()
    if not path.is_absolute() and base is not None:
        path = base / path
    if path.suffix.lower() in STILLS:
        return Still(path)
    return VideoFile(path, loop)
