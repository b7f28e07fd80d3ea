"""The GLFW window: monitors, fullscreen, keys, an OpenGL 3.3 core context for ModernGL.

GLFW must run on the main thread. Key presses become parameter writes through `controls.KEYS`;
the window's close button asks for quit confirmation like the Q key, so a stray click cannot end
a show.
"""
from __future__ import annotations

import ctypes
import logging
import os
from typing import Callable

import glfw
import moderngl

from .keys import KEYS

log = logging.getLogger(__name__)

GL_VERSION = (3, 3)
_KEY_NAMES = {getattr(glfw, f"KEY_{name}"): name for name in KEYS}
_KEY_NAMES[glfw.KEY_KP_ENTER] = "ENTER"
_last_error = ""


class DisplayUnavailable(RuntimeError):
    """No window can be opened here; the message is one sentence for the performer."""


def _remember_error(code: int, description: bytes | str) -> None:
    global _last_error
    _last_error = description.decode(errors="replace") if isinstance(description, bytes) else str(description)
    log.debug("GLFW error %s: %s", code, _last_error)


def init() -> None:
    """Start GLFW, or raise DisplayUnavailable pointing to headless rendering."""
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise DisplayUnavailable("No display to open the show window on (DISPLAY and WAYLAND_DISPLAY are unset); "
                                 "use `vj run SETUP --headless` (a render node: OSC, recording, NDI) or `vj render SETUP` to "
                                 "paint frames headless, or start under `xvfb-run`.")
    glfw.set_error_callback(_remember_error)
    if not glfw.init():
        where = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
        raise DisplayUnavailable(f"Cannot open the display {where} ({_last_error or 'GLFW failed to start'}); "
                                 "use `vj render SETUP` to paint frames headless.")


def list_monitors() -> list[str]:
    """One line per monitor: index, name, mode; index 0 is the primary one."""
    init()
    lines = []
    for i, m in enumerate(_monitors()):
        mode = glfw.get_video_mode(m)
        rate = f" @ {mode.refresh_rate} Hz" if mode.refresh_rate else ""
        name = glfw.get_monitor_name(m)
        name = name.decode(errors="replace") if isinstance(name, bytes) else name
        lines.append(f"{i}: {name} {mode.size.width}x{mode.size.height}{rate}{'  (primary)' if i == 0 else ''}")
    return lines


def _monitors() -> list:
    """Connected monitors; GLFW always puts the primary one first, so monitor 0 is a sensible default."""
    return list(glfw.get_monitors() or [])


def _same(a, b) -> bool:
    """Whether two GLFW monitor handles (ctypes pointers, which compare by identity) are one monitor."""
    address = lambda m: ctypes.cast(m, ctypes.c_void_p).value if m else None  # noqa: E731
    return address(a) is not None and address(a) == address(b)


class Window:
    """A resizable window (or fullscreen on a monitor) with an OpenGL 3.3 core context current."""
    headless = False

    def __init__(self, size: tuple[int, int], title: str, monitor: int = 0,
                 on_key: Callable[[str], None] = lambda key: None, on_close: Callable[[], None] = lambda: None,
                 share: "Window | None" = None, vsync: bool = True) -> None:
        """Opens windowed; `set_fullscreen(True)` moves it onto `monitor` (0 when that one is missing).
        `share`: a window whose textures and buffers this one's context shares (the preview's);
        `vsync=False` never waits for the monitor on swap (only one window of a show may)."""
        init()
        monitors = _monitors()
        self.warning = ""  # for the HUD
        if monitor >= len(monitors):
            self.warning = f"MONITOR {monitor} NOT FOUND - FULLSCREEN ON MONITOR 0"
            log.warning("Monitor %d does not exist (%d found, `vj devices` lists them); using monitor 0.",
                        monitor, len(monitors))
            monitor = 0
        self.monitor = monitors[monitor] if monitors else None
        self.windowed_rect = (100, 100, *size)
        self.on_key, self.on_close = on_key, on_close
        glfw.default_window_hints()
        glfw.window_hint(glfw.CONTEXT_VERSION_MAJOR, GL_VERSION[0])
        glfw.window_hint(glfw.CONTEXT_VERSION_MINOR, GL_VERSION[1])
        glfw.window_hint(glfw.OPENGL_PROFILE, glfw.OPENGL_CORE_PROFILE)
        glfw.window_hint(glfw.OPENGL_FORWARD_COMPAT, True)
        glfw.window_hint(glfw.RESIZABLE, True)
        self.handle = glfw.create_window(size[0], size[1], title, None, share.handle if share else None)
        if not self.handle:
            raise DisplayUnavailable(
                f"The display cannot give an OpenGL {GL_VERSION[0]}.{GL_VERSION[1]} core context ({_last_error}); "
                "vj needs OpenGL 3.3: update the graphics driver (Mesa's llvmpipe provides it without a GPU).")
        glfw.make_context_current(self.handle)
        self.vsync = vsync
        glfw.swap_interval(1 if vsync else 0)  # vsync; where the display ignores it, the clock paces the loop
        self.ctx = moderngl.create_context()
        if self.ctx.version_code < GL_VERSION[0] * 100 + GL_VERSION[1] * 10:
            raise DisplayUnavailable(f"The display offers OpenGL {self.ctx.version_code / 100:.1f} "
                                     f"({self.ctx.info['GL_RENDERER']}); vj needs OpenGL 3.3: update the graphics driver.")
        # glFinish through ctypes releases the GIL while the renderer works (moderngl's would hold
        # it, stalling the generator thread for the whole render on a CPU renderer).
        self._gl_finish = ctypes.CFUNCTYPE(None)(glfw.get_proc_address("glFinish"))
        self._gl_flush = ctypes.CFUNCTYPE(None)(glfw.get_proc_address("glFlush"))
        self.size = glfw.get_framebuffer_size(self.handle)
        self.on_monitor_lost: Callable[[str], None] = lambda sentence: None
        glfw.set_framebuffer_size_callback(self.handle, self._resized)
        glfw.set_monitor_callback(self._monitor_event)
        glfw.set_key_callback(self.handle, self._key)
        glfw.set_window_close_callback(self.handle, self._close)
        self.fullscreen = False

    @property
    def refresh_rate(self) -> int:
        """The monitor's refresh rate in Hz, 0 where the display does not say (Xvfb)."""
        monitor = glfw.get_window_monitor(self.handle) or self.monitor
        return glfw.get_video_mode(monitor).refresh_rate if monitor else 0

    def set_fullscreen(self, on: bool) -> None:
        if on == self.fullscreen or (on and self.monitor is None):
            return
        if on:
            x, y = glfw.get_window_pos(self.handle)
            self.windowed_rect = (x, y, *glfw.get_window_size(self.handle))
            mode = glfw.get_video_mode(self.monitor)
            glfw.set_window_monitor(self.handle, self.monitor, 0, 0, mode.size.width, mode.size.height, mode.refresh_rate)
        else:
            glfw.set_window_monitor(self.handle, None, *self.windowed_rect, 0)
        glfw.swap_interval(1 if self.vsync else 0)
        self.fullscreen = on
        self.size = glfw.get_framebuffer_size(self.handle)

    @property
    def drawable(self) -> bool:
        """False while the window is minimized or resized to nothing: there is nowhere to draw, but
        the show (and the recording, which draws off screen) goes on."""
        return self.size[0] > 0 and self.size[1] > 0 and not glfw.get_window_attrib(self.handle, glfw.ICONIFIED)

    def _monitor_event(self, monitor, event: int) -> None:
        """A monitor was plugged or unplugged (GLFW calls this from poll). Losing ours must not leave a
        dangling monitor handle: GLFW has put a fullscreen window back in a window already."""
        if not self.handle:
            return
        if event == glfw.DISCONNECTED and _same(monitor, self.monitor):
            remaining = _monitors()
            self.monitor = remaining[0] if remaining else None
            if glfw.get_window_monitor(self.handle):
                glfw.set_window_monitor(self.handle, None, *self.windowed_rect, 0)
            was_fullscreen, self.fullscreen = self.fullscreen, False
            self.size = glfw.get_framebuffer_size(self.handle)
            self.on_monitor_lost(f"The show's monitor was unplugged; the show goes on in a window"
                                 f"{' (it was fullscreen)' if was_fullscreen else ''}: plug it back in and press F, "
                                 f"or `--monitor` another one ({len(remaining)} connected).")
        elif event == glfw.CONNECTED and self.monitor is None:
            self.monitor = monitor
            log.info("A monitor was connected; press F (or send /vj/fullscreen 1) to go fullscreen on it.")

    @property
    def screen(self) -> moderngl.Framebuffer:
        """The window's own framebuffer (its context must be current to draw into it)."""
        return self.ctx.screen

    def make_current(self) -> None:
        glfw.make_context_current(self.handle)

    def flush(self) -> None:
        """Hand what was drawn so far to the GPU: another context sharing a texture sees it after this."""
        self._gl_flush()

    def poll(self) -> None:
        glfw.poll_events()

    def swap(self) -> None:
        glfw.swap_buffers(self.handle)

    def finish(self) -> None:
        """Wait until everything drawn so far is rendered, letting other Python threads run meanwhile."""
        self._gl_finish()

    def close(self) -> None:
        if self.handle:
            glfw.set_monitor_callback(None)   # one callback per process: it must not outlive its window
            self.ctx.release()
            glfw.destroy_window(self.handle)
            self.handle = None

    def _resized(self, _handle, width: int, height: int) -> None:
        self.size = (width, height)

    def _key(self, _handle, key: int, _scancode: int, action: int, _mods: int) -> None:
        name = _KEY_NAMES.get(key)
        if name is not None and (action == glfw.PRESS or (action == glfw.REPEAT and KEYS[name][0] == "step")):
            self.on_key(name)

    def _close(self, _handle) -> None:
        glfw.set_window_should_close(self.handle, False)
        self.on_close()
