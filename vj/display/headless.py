"""No window: an offscreen OpenGL 3.3 context through EGL, for a render node without a display.

`vj run --headless` draws the same output picture as the live window (the recorder, NDI and every
frame sink get it) on a machine with no DISPLAY: a GPU in the back of the venue, or Mesa's
llvmpipe. It has the Window's interface, minus the screen: nothing is presented, no keys.
"""
from __future__ import annotations

import ctypes

import moderngl

from .window import GL_VERSION, DisplayUnavailable


class HeadlessWindow:
    """An EGL context standing in for the show window (`size` is the output's, in pixels)."""
    headless = True
    refresh_rate = 0    # no monitor: the clock paces at [display] fps
    fullscreen = False
    warning = ""

    def __init__(self, size: tuple[int, int]) -> None:
        try:
            self.ctx = moderngl.create_standalone_context(require=GL_VERSION[0] * 100 + GL_VERSION[1] * 10,
                                                          backend="egl")
        except Exception as e:
            raise DisplayUnavailable(f"No offscreen OpenGL {GL_VERSION[0]}.{GL_VERSION[1]} through EGL here ({e}); "
                                     "install libegl1 and libgl1-mesa-dri (scripts/bootstrap does).") from None
        self.size = size

    def poll(self) -> None:
        pass

    def swap(self) -> None:
        pass

    def set_fullscreen(self, on: bool) -> None:
        pass

    def make_current(self) -> None:
        pass

    def flush(self) -> None:
        pass

    def finish(self) -> None:
        self.ctx.finish()

    def close(self) -> None:
        if self.ctx is not None:
            self.ctx.release()
            self.ctx = None
            release_egl_thread()


def release_egl_thread() -> None:
    """Let go of this thread's EGL state. A released moderngl EGL context stays current on its thread,
    and a GLX context made current later in the same process then fails (X error BadAccess on
    X_GLXMakeCurrent, which kills the process): tests and `vj view` open windows after headless runs."""
    try:
        ctypes.CDLL("libEGL.so.1").eglReleaseThread()
    except OSError:
        pass
