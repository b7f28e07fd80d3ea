"""The ModernGL picture pipeline, from generator frames to the output framebuffer and the window.

Camera motion (engine/motion.py) keeps running on the display clock: each of the two pictures
of the cross-fade is sampled through the camera flow from the time its content stood (a generator
frame: the time it started, where the generator had moved the previous one to; the snapshot of the
screen: the display frame it was taken from) to the display time, so a zoom runs at the display's
rate between generator frames, and a new frame lands where the moving picture already is.

When a new generator frame arrives (at most one upload per display frame):
    look.frag(start, target, progress now) -> `start`      the fade restarts from what is on screen
    upload -> `raw` -> smooth.frag -> `target`             edge-preserving smoothing, once a frame
Every display frame:
    look.frag(start, target, progress, colours) -> `shown`  cross-fade + colour effects, generator resolution
    scale.frag(shown, zoom) -> `output`                    only when a frame sink (recorder) wants it
    scale.frag(shown, zoom) -> window                      letterbox or fill; the HUD goes on top

All the per-pixel work happens at the generator's resolution; the only full-size passes are the
bilinear resamples, because where the GPU is the CPU (Mesa llvmpipe) full-size passes dominate the
frame time. The cross-fade and the effects are linear or per-pixel, so doing them before the
resample gives the same picture. Nothing here reads back or waits for the GPU.
Generator-resolution textures keep the frame's top row first; `output` and the window are in
OpenGL orientation (bottom row first, as `Framebuffer.read()` returns them).
"""
from __future__ import annotations

import logging
import math
from pathlib import Path

import moderngl
import numpy as np

from engine.bus import Frame
from engine.motion import EDGES, MAX_DT, Motion

from .effects import CrossFadeTimer, Look, fit
from .glsl import SHADER_DIR, load_program

log = logging.getLogger(__name__)

NEUTRAL = Look()


class Renderer:
    def __init__(self, ctx: moderngl.Context, output_size: tuple[int, int], grain: int = 1,
                 shader_dir: Path = SHADER_DIR) -> None:
        """`grain`: the generator's optimization grid in pixels (its `scale`), the size of its noise."""
        self.ctx = ctx
        self.grain = grain
        self.programs = {name: load_program(ctx, "quad.vert", f"{name}.frag", shader_dir)
                         for name in ("smooth", "look", "scale")}
        self.quads = {name: ctx.vertex_array(p, []) for name, p in self.programs.items()}
        self.output = self._target(output_size)
        self.timer = CrossFadeTimer()
        self.frame_size: tuple[int, int] | None = None
        self.seq = -1                # bus sequence number of the newest frame taken
        self.progress = 0.0          # through the cross-fade to it (held while frozen)
        self.frozen = False
        self.uploads = 0
        self.zoom = 1.0
        self._shown_at: float | None = None   # display time of the previous frame
        self.motion = Motion()                # the camera move, from the latest Look
        self.start_t = self.target_t = 0.0    # clock time the content of `start` / `target` stood
        self._smoothing: float | None = None

    @property
    def output_size(self) -> tuple[int, int]:
        return self.output.size

    @property
    def settled(self) -> bool:
        """The cross-fade has reached the newest frame taken."""
        return self.progress >= 1.0

    def _target(self, size: tuple[int, int]) -> moderngl.Framebuffer:
        tex = self.ctx.texture(size, 4)
        tex.repeat_x = tex.repeat_y = False
        return self.ctx.framebuffer(color_attachments=[tex])

    def _allocate(self, size: tuple[int, int]) -> None:
        """(Re)create the generator-resolution textures, black, for frames of `size` (w, h)."""
        self.raw = self.ctx.texture(size, 3)
        self.target, self.start, self.spare, self.shown = (self._target(size) for _ in range(4))
        for fbo in (self.target, self.start, self.spare, self.shown):
            fbo.clear(0.0, 0.0, 0.0, 1.0)
        for fbo in (self.target, self.start, self.spare):   # sampled between texels by the camera flow
            fbo.color_attachments[0].filter = (moderngl.LINEAR, moderngl.LINEAR)
        self.frame_size = size

    # -- new generator frames ------------------------------------------------------------------
    def update(self, frame: Frame | None, t: float, smoothing: float, frozen: bool) -> None:
        """Take the newest frame if it is new (one upload at most) and advance the cross-fade.

        Frozen: the picture holds (effects still apply); on release, the newest frame fades in
        from the held picture.
        """
        if frozen:
            self.frozen = True
            if smoothing != self._smoothing and self.frame_size is not None:
                self._smooth(smoothing)  # a display setting: it still applies to the held picture
            if self._shown_at is not None:   # the camera holds too: the pictures age no further
                self.start_t += t - self._shown_at
                self.target_t += t - self._shown_at
            self._shown_at = t
            return
        thawed, self.frozen = self.frozen, False
        new = frame is not None and frame.seq != self.seq
        if new or thawed:
            self._snapshot(t if self._shown_at is None else self._shown_at)
        if new:
            self._upload(frame)
            self.target_t = frame.stats.get("started", t)
            self._smooth(smoothing)
            self.timer.arrived(t, self._shown_at)
        elif thawed:
            self.timer.restart(t, self._shown_at)
        elif smoothing != self._smoothing and self.frame_size is not None:
            self._smooth(smoothing)
        self.progress = self.timer.progress(t)
        self._shown_at = t

    def _snapshot(self, shown: float) -> None:
        """The mix now on screen (shown at `shown`) becomes the start of the next fade (no jump, ever)."""
        if self.frame_size is None:
            self.start_t = shown
            return
        self._look(self.spare, NEUTRAL, shown)
        self.start, self.spare = self.spare, self.start
        self.start_t = shown

    def _upload(self, frame: Frame) -> None:
        h, w = frame.pixels.shape[:2]
        if (w, h) != self.frame_size:
            if self.frame_size is not None:
                log.info("generator frames are now %dx%d (were %dx%d)", w, h, *self.frame_size)
            self._allocate((w, h))
        self.raw.write(np.ascontiguousarray(frame.pixels), alignment=1)
        self.seq = frame.seq
        self.uploads += 1

    def _smooth(self, strength: float) -> None:
        self._smoothing = strength
        self._draw("smooth", self.target, picture=self.raw, strength=strength, grain=self.grain)

    # -- every display frame -------------------------------------------------------------------
    def draw_picture(self, look: Look) -> None:
        """The cross-fade and the colour effects of this display frame, into `shown`."""
        self.zoom, self.motion = look.zoom, look.motion
        if self.frame_size is not None:
            self._look(self.shown, look, self._shown_at or 0.0)

    def render_output(self, fill: bool = False) -> moderngl.Framebuffer:
        """Resample the picture into the output framebuffer (what is recorded) and return it."""
        self._scale(self.output, self.output.size, (1.0, 1.0), fill)
        return self.output

    def present(self, screen: moderngl.Framebuffer, window_size: tuple[int, int], fill: bool) -> None:
        """Resample the picture into the window: the output picture, letterboxed or filled."""
        self._scale(screen, window_size, fit(self.output.size, window_size, fill), fill)

    def scale_uniforms(self, size: tuple[int, int], fill: bool, region: tuple[float, float] | None = None) -> dict | None:
        """shaders/scale.frag's uniforms that draw the picture into a target of `size`, letterboxed
        or filled like the output (`region` defaults to the output's place there); None before
        the first frame. The preview window draws with these too."""
        if self.frame_size is None:
            return None
        region = region or fit(self.output.size, size, fill)
        inner = fit(self.frame_size, self.output.size, fill)  # the picture inside the output
        texture = self.shown.color_attachments[0]
        texture.filter = (moderngl.LINEAR, moderngl.LINEAR)
        return dict(picture=texture, region=region, frame=(inner[0] * region[0] * self.zoom, inner[1] * region[1] * self.zoom))

    def _scale(self, fbo: moderngl.Framebuffer, size: tuple[int, int], region: tuple[float, float], fill: bool) -> None:
        uniforms = self.scale_uniforms(size, fill, region)
        if uniforms is None:
            fbo.viewport = (0, 0, *size)
            fbo.use()
            self.ctx.clear(0.0, 0.0, 0.0, 1.0)
            return
        self._draw("scale", fbo, (0, 0, *size), **uniforms)

    def _look(self, fbo: moderngl.Framebuffer, look: Look, t: float) -> None:
        self._draw("look", fbo, from_picture=self.start.color_attachments[0],
                   to_picture=self.target.color_attachments[0], progress=self.progress,
                   from_map=self._camera(t - self.start_t), to_map=self._camera(t - self.target_t),
                   edge=EDGES.index(self.motion.edge), moving=not self.motion.still,
                   hue=hue_matrix(look.hue), brightness=look.brightness, flash=look.flash, level=look.level)

    def _camera(self, age: float) -> tuple[float, ...]:
        """The sampling map of content `age` seconds old, column-major for a GLSL mat3."""
        w, h = self.frame_size
        m = self.motion.sampler(min(MAX_DT, max(0.0, age)), (h, w))
        return tuple(float(v) for v in m.T.flatten())

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


def hue_matrix(turns: float) -> tuple[float, ...]:
    """Rotation of RGB about the grey axis by `turns`, column-major for a GLSL mat3."""
    if turns == 0.0:
        return (1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0)
    a = 2 * math.pi * turns
    k = np.full(3, 1 / math.sqrt(3))
    cross = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    m = math.cos(a) * np.eye(3) + math.sin(a) * cross + (1 - math.cos(a)) * np.outer(k, k)
    return tuple(float(v) for v in m.T.flatten())
