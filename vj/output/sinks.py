"""Where the output picture goes besides the screen and the recorder: other programs.

Each sink takes (H, W, 4) uint8 RGBA pictures, row 0 at the top, of one size at one rate:
  NdiSink            NDI on the network (cyndilib): Resolume, OBS, TouchDesigner, `vj view`
  VirtualCameraSink  a v4l2loopback camera on Linux (pyvirtualcam): any program that takes a webcam
  SyphonSink         Syphon on macOS (syphon-python)
  SpoutSink          Spout on Windows (SpoutGL)
Every backend is imported only when opened; a missing one raises OutputUnavailable with one sentence.
`open_sink(kind, ...)` picks the backend: "ndi", or "local" (the one this platform has).
"""
from __future__ import annotations

import sys
from fractions import Fraction

import numpy as np


class OutputUnavailable(RuntimeError):
    """An output cannot be opened here; the message is one sentence for the performer."""


class Sink:
    """One opened output: `send(rgba)` hands a picture over without waiting for receivers."""
    kind = "output"

    def send(self, rgba: np.ndarray) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


def _need(module: str, package: str, what: str):
    import importlib
    try:
        return importlib.import_module(module)
    except Exception as e:  # ImportError, or a bundled runtime that cannot load (OSError)
        raise OutputUnavailable(f"{what} needs the Python package {package}, which cannot be loaded here ({e}); "
                                f"install it with `.venv/bin/pip install {package}`.") from None


class NdiSink(Sink):
    """An NDI sender named `name` (receivers see it as "HOST (name)"), RGBA at `rate` pictures/s.

    cyndilib compresses and sends on NDI's own threads (`write_video_async`); the video clock is
    off because the display clock already paces the pictures."""
    kind = "ndi"

    def __init__(self, name: str, size: tuple[int, int], rate: float) -> None:
        _need("cyndilib", "cyndilib", "NDI output")
        from cyndilib.sender import Sender
        from cyndilib.video_frame import VideoSendFrame
        from cyndilib.wrapper.ndi_structs import FourCC
        self.name = name
        self.frame = VideoSendFrame()
        self.frame.set_resolution(*size)
        self.frame.set_frame_rate(Fraction(rate).limit_denominator(1001))
        self.frame.set_fourcc(FourCC.RGBA)
        self.sender = Sender(name, clock_video=False)
        self.sender.set_video_frame(self.frame)
        try:
            self.sender.open()
        except Exception as e:
            raise OutputUnavailable(f"NDI output {name!r} cannot start ({e}); is the NDI runtime blocked "
                                    "by a firewall?") from None

    def send(self, rgba: np.ndarray) -> None:
        self.sender.write_video_async(np.ascontiguousarray(rgba).reshape(-1))

    @property
    def connections(self) -> int:
        return self.sender.get_num_connections(0)

    def close(self) -> None:
        self.sender.close()


class VirtualCameraSink(Sink):
    """A v4l2loopback camera (Linux) through pyvirtualcam; needs `modprobe v4l2loopback`."""
    kind = "local"

    def __init__(self, name: str, size: tuple[int, int], rate: float) -> None:
        pyvirtualcam = _need("pyvirtualcam", "pyvirtualcam", "The virtual camera output")
        try:
            self.camera = pyvirtualcam.Camera(size[0], size[1], rate, fmt=pyvirtualcam.PixelFormat.RGB)
        except Exception as e:
            raise OutputUnavailable(f"No v4l2loopback camera to send to ({e}); load one with "
                                    "`sudo modprobe v4l2loopback exclusive_caps=1`.") from None

    def send(self, rgba: np.ndarray) -> None:
        self.camera.send(np.ascontiguousarray(rgba[..., :3]))

    def close(self) -> None:
        self.camera.close()


class SyphonSink(Sink):
    """A Syphon server (macOS) named `name`, fed from memory (syphon-python's Metal server)."""
    kind = "local"

    def __init__(self, name: str, size: tuple[int, int], rate: float) -> None:
        syphon = _need("syphon", "syphon-python", "Syphon output")
        from syphon.utils.numpy import copy_image_to_mtl_texture
        from syphon.utils.raw import create_mtl_texture
        self._copy = copy_image_to_mtl_texture
        self.server = syphon.SyphonMetalServer(name)
        self.texture = create_mtl_texture(self.server.device, *size)

    def send(self, rgba: np.ndarray) -> None:
        self._copy(np.ascontiguousarray(rgba), self.texture)
        self.server.publish_frame_texture(self.texture)

    def close(self) -> None:
        self.server.stop()


class SpoutSink(Sink):
    """A Spout sender (Windows) named `name` (SpoutGL, from memory)."""
    kind = "local"

    def __init__(self, name: str, size: tuple[int, int], rate: float) -> None:
        SpoutGL = _need("SpoutGL", "SpoutGL", "Spout output")
        from OpenGL import GL
        self._format = GL.GL_RGBA
        self.sender = SpoutGL.SpoutSender()
        self.sender.setSenderName(name)
        self.size = size

    def send(self, rgba: np.ndarray) -> None:
        self.sender.sendImage(np.ascontiguousarray(rgba), self.size[0], self.size[1], self._format, False, 0)

    def close(self) -> None:
        self.sender.releaseSender()


LOCAL = {"darwin": SyphonSink, "win32": SpoutSink}


def open_sink(kind: str, name: str, size: tuple[int, int], rate: float) -> Sink:
    """Open output `kind` ("ndi" or "local") as `name`, for pictures of `size` (w, h) at `rate` Hz."""
    if kind == "ndi":
        return NdiSink(name, size, rate)
    return LOCAL.get(sys.platform, VirtualCameraSink)(name, size, rate)
