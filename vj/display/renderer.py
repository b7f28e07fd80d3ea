"""The ModernGL picture pipeline, from generator frames to the output framebuffer and the window.

Per new generator frame (at most one upload per display frame):
    upload -> `raw` texture -> smooth.frag -> `target`        (generator resolution, once a frame)
    copy `shown` -> `start`                                    (the fade starts from what is on screen)
Per display frame:
    crossfade.frag(start, target, progress) -> `shown`         (generator resolution)
    effects.frag(shown, Look) -> `output`                      (output size: recorded, never the HUD)
    present.frag(output) -> window                             (letterbox or fill)

Nothing here reads back or waits for the GPU: the loop never stalls on a transfer.
Intermediate textures keep the generator's top row first; `output` is in OpenGL orientation
(bottom row first, as `Framebuffer.read()` returns it).
"""
from __future__ import annotations

import logging
from pathlib import Path

import moderngl
import numpy as np

from engine.bus import Frame

from .effects import CrossFadeTimer, Look, fit
from .glsl import SHADER_DIR, load_program

log = logging.getLogger(__name__)


class Renderer:
    def __init__(self, ctx: moderngl.Context, output_size: tuple[int, int], shader_dir: Path = SHADER_DIR) -> None:
        self.ctx = ctx
        self.programs = {name: load_program(ctx, "quad.vert", f"{name}.frag", shader_dir)
                         for name in ("smooth", "crossfade", "effects", "present")}
        self.quads = {name: ctx.vertex_array(p, []) for name, p in self.programs.items()}
        self.output = self._target(output_size)
        self.timer = CrossFadeTimer()
        self.frame_size: tuple[int, int] | None = None
        self.seq = -1                # bus sequence number of the frame on its way to the screen
        self.frozen = False
        self.uploads = 0
        self._smoothing: float | None = None
        self._settled = False        # `shown` already equals `target` (fade finished)

    @property
    def output_size(self) -> tuple[int, int]:
        return self.output.size

    @property
    def settled(self) -> bool:
        """The cross-fade has reached the newest frame taken."""
        return self._settled

    def _target(self, size: tuple[int, int]) -> moderngl.Framebuffer:
        tex = self.ctx.texture(size, 4)
        tex.filter = (moderngl.LINEAR, moderngl.LINEAR)
        tex.repeat_x = tex.repeat_y = False
        return self.ctx.framebuffer(color_attachments=[tex])

    def _allocate(self, size: tuple[int, int]) -> None:
        """(Re)create the generator-resolution textures, black, for frames of `size` (w, h)."""
        self.raw = self.ctx.texture(size, 3)
        self.target, self.start, self.shown = (self._target(size) for _ in range(3))
        for fbo in (self.target, self.start, self.shown):
            fbo.clear(0.0, 0.0, 0.0, 1.0)
        self.frame_size = size

    # -- per generator frame -------------------------------------------------------------------
    def update(self, frame: Frame | None, t: float, smoothing: float, frozen: bool) -> None:
        """Take the newest frame if it is new (one upload at most) and advance the cross-fade.

        Frozen: nothing changes on screen; the newest frame is picked up when released, faded in
        from the held picture.
        """
        if frozen:
            self.frozen = True
            return
        if self.frozen:
            self.frozen = False
            self._begin_fade(t, measured=False)
        if frame is not None and frame.seq != self.seq:
            self._upload(frame)
            self._begin_fade(t, measured=True)
            self._smooth(smoothing)
        elif smoothing != self._smoothing and self.frame_size is not None:
            self._smooth(smoothing)
        if self.frame_size is not None and not self._settled:
            progress = self.timer.progress(t)
            self._draw("crossfade", self.shown, from_picture=self.start.color_attachments[0],
                       to_picture=self.target.color_attachments[0], progress=progress)
            self._settled = progress >= 1.0

    def _upload(self, frame: Frame) -> None:
        h, w = frame.pixels.shape[:2]
        if (w, h) != self.frame_size:
            if self.frame_size is not None:
                log.info("generator frames are now %dx%d (were %dx%d)", w, h, *self.frame_size)
            self._allocate((w, h))
        self.raw.write(np.ascontiguousarray(frame.pixels), alignment=1)
        self.seq = frame.seq
        self.uploads += 1

    def _begin_fade(self, t: float, measured: bool) -> None:
        if self.frame_size is None:
            return
        self.ctx.copy_framebuffer(self.start, self.shown)
        if measured:
            self.timer.arrived(t)
        else:
            self.timer.restart(t)
        self._settled = False

    def _smooth(self, strength: float) -> None:
        self._smoothing = strength
        self._draw("smooth", self.target, picture=self.raw, strength=strength)
        self._settled = False

    # -- per display frame ---------------------------------------------------------------------
    def render_output(self, look: Look, fill: bool = False) -> moderngl.Framebuffer:
        """Draw the output picture (what is recorded) and return its framebuffer."""
        if self.frame_size is None:
            self.output.clear(0.0, 0.0, 0.0, 1.0)
            return self.output
        self._draw("effects", self.output, picture=self.shown.color_attachments[0],
                   fit=fit(self.frame_size, self.output.size, fill), zoom=look.zoom, hue=look.hue,
                   brightness=look.brightness, flash=look.flash, level=look.level)
        return self.output

    def present(self, screen: moderngl.Framebuffer, window_size: tuple[int, int], fill: bool) -> None:
        """Draw the output picture into the window, letterboxed or filled."""
        self._draw("present", screen, picture=self.output.color_attachments[0],
                   fit=fit(self.output.size, window_size, fill), viewport=(0, 0, *window_size))

    def _draw(self, name: str, fbo: moderngl.Framebuffer, viewport: tuple | None = None, **uniforms) -> None:
        program = self.programs[name]
        unit = 0
        for key, value in uniforms.items():
            if isinstance(value, moderngl.Texture):
                value.use(unit)
                value = unit
                unit += 1
            if key in program:  # the GLSL compiler drops unused uniforms
                program[key].value = value
        fbo.viewport = viewport or (0, 0, *fbo.size)
        fbo.use()
        self.quads[name].render(moderngl.TRIANGLES, vertices=3)
