"""`vj view NDI-NAME`: a thin receiving window for an NDI source (a render node's output at front
of house), letterboxed, at the monitor's rate. The source is received by the input service
(vj/input/), so a missing or vanished source is one sentence and is reconnected when it returns.
Q, Esc or closing the window ends it.
"""
from __future__ import annotations

import logging
import time

import glfw
import moderngl

from engine.inputs import InputBus

from .display import window
from .display.glsl import load_program
from .display.effects import fit
from .input import VideoInput

log = logging.getLogger(__name__)


def view(name: str, size: tuple[int, int] = (1280, 720), fullscreen: bool = False, monitor: int = 0,
         seconds: float | None = None) -> int:
    """Show NDI source `name` (or part of it) until closed (or for `seconds`); returns pictures shown."""
    window.init()
    done = []
    win = window.Window(size, f"vj view - {name}", monitor, on_key=lambda key: done.append(key in ("Q", "ESCAPE")),
                        on_close=lambda: done.append(True))
    win.set_fullscreen(fullscreen)
    ctx = win.ctx
    program = load_program(ctx, "quad.vert", "scale.frag")
    quad = ctx.vertex_array(program, [])
    bus = InputBus()
    receiver = VideoInput(f"ndi:{name}", bus)
    receiver.start()
    texture, seq, shown, start = None, 0, 0, time.perf_counter()
    try:
        while not any(done) and (seconds is None or time.perf_counter() - start < seconds):
            win.poll()
            got = bus.latest()
            if got is not None and got[0] != seq:
                seq, pixels = got
                h, w = pixels.shape[:2]
                if texture is None or texture.size != (w, h):
                    texture = ctx.texture((w, h), 3)
                    texture.filter = (moderngl.LINEAR, moderngl.LINEAR)
                texture.write(pixels.tobytes())
                shown += 1
            screen = ctx.screen
            screen.viewport = (0, 0, *win.size)
            screen.use()
            ctx.clear(0.0, 0.0, 0.0, 1.0)
            if texture is not None:
                region = fit(texture.size, win.size, False)
                texture.use(0)
                program["picture"].value = 0
                program["region"].value = region
                program["frame"].value = region
                quad.render(moderngl.TRIANGLES, vertices=3)
            win.swap()
            if not win.vsync or not win.refresh_rate:
                time.sleep(1 / 120)   # no vsync (Xvfb): do not spin
    finally:
        receiver.stop()
        win.close()
        glfw.terminate()
    return shown
