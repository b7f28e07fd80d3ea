"""The performer's overlay: rates, prompts, levels, state and warnings, drawn on the window only.

Text comes from a small font atlas rendered with PIL's default font when the window opens; each
glyph is one instanced quad, so a HUD of a few hundred characters is one draw call. The text is
rebuilt a few times a second, not every frame, to keep the render loop's Python light.
The HUD is never part of the output picture, so it is never recorded.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import moderngl
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from engine.bus import Frame
from engine.params import Snapshot

from .keys import KEY_HELP
from .glsl import SHADER_DIR, load_program

FIRST, LAST = 32, 126      # printable ASCII; anything else is drawn as '?'
BLOCK = LAST + 1           # a solid cell, used for the panel behind the text
MAX_GLYPHS = 4096
WHITE, DIM, GREEN, YELLOW, RED = (1, 1, 1, 1), (0.7, 0.7, 0.7, 1), (0.5, 1, 0.5, 1), (1, 0.85, 0.3, 1), (1, 0.35, 0.3, 1)
CYAN = (0.45, 0.85, 1, 1)
PANEL = (0, 0, 0, 0.6)

Line = tuple[str, tuple[float, float, float, float]]


class FontAtlas:
    """Glyph cells of one font in a single-channel image, with per-glyph advance widths."""

    def __init__(self, size: int = 14) -> None:
        try:
            font = ImageFont.load_default(size)
        except TypeError:  # Pillow < 10.1: the fixed bitmap font
            font = ImageFont.load_default()
        ascent, descent = font.getmetrics()
        codes = range(FIRST, BLOCK + 1)
        self.advance = {c: font.getlength(chr(c)) for c in codes if c != BLOCK}
        self.advance[BLOCK] = 1.0
        self.cell = (math.ceil(max(self.advance.values())) + 2, ascent + descent)
        cols = 16
        rows = math.ceil(len(codes) / cols)
        cw, ch = self.cell
        self.image = Image.new("L", (cols * cw, rows * ch), 0)
        draw = ImageDraw.Draw(self.image)
        self.uv: dict[int, tuple[float, float, float, float]] = {}
        for i, c in enumerate(codes):
            x, y = (i % cols) * cw, (i // cols) * ch
            if c == BLOCK:
                draw.rectangle((x, y, x + cw - 1, y + ch - 1), fill=255)
            else:
                draw.text((x + 1, y), chr(c), font=font, fill=255)
            w, h = self.image.size
            self.uv[c] = (x / w, y / h, (x + cw) / w, (y + ch) / h)

    def layout(self, lines: Sequence[Line], origin: tuple[int, int] = (12, 12), gap: int = 2) -> np.ndarray:
        """Instance rows (x, y, w, h, u0, v0, u1, v1, r, g, b, a): a panel, then every glyph."""
        cw, ch = self.cell
        rows, width = [], 0.0
        x0, y0 = origin
        for n, (text, tint) in enumerate(lines):
            pen, y = float(x0), y0 + n * (ch + gap)
            for char in text:
                c = ord(char) if FIRST <= ord(char) <= LAST else ord("?")
                if c != 32:
                    rows.append((round(pen) - 1, y, cw, ch, *self.uv[c], *tint))
                pen += self.advance[c]
            width = max(width, pen - x0)
        if not lines:
            return np.zeros((0, 12), "f4")
        pad = 6
        panel = (x0 - pad, y0 - pad, width + 2 * pad, len(lines) * (ch + gap) - gap + 2 * pad, *self.uv[BLOCK], *PANEL)
        return np.array([panel, *rows], "f4")[:MAX_GLYPHS]


class TextLayer:
    """Draws laid-out text over whatever is in the window (alpha-blended, one draw call)."""

    def __init__(self, ctx: moderngl.Context, size: int = 14, shader_dir: Path = SHADER_DIR) -> None:
        self.ctx = ctx
        self.atlas = FontAtlas(size)
        self.texture = ctx.texture(self.atlas.image.size, 1, self.atlas.image.tobytes())
        self.texture.filter = (moderngl.NEAREST, moderngl.NEAREST)
        self.program = load_program(ctx, "text.vert", "text.frag", shader_dir)
        self.buffer = ctx.buffer(reserve=MAX_GLYPHS * 48, dynamic=True)
        self.vao = ctx.vertex_array(self.program, [(self.buffer, "4f 4f 4f/i", "rect", "glyph", "tint")])
        self.count = 0

    def set_lines(self, lines: Sequence[Line]) -> None:
        rows = self.atlas.layout(lines)
        self.count = len(rows)
        if self.count:
            self.buffer.write(rows.tobytes())

    def draw(self, screen: moderngl.Framebuffer, window_size: tuple[int, int]) -> None:
        if not self.count:
            return
        screen.viewport = (0, 0, *window_size)
        screen.use()
        self.ctx.enable(moderngl.BLEND)
        self.ctx.blend_func = moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA
        self.texture.use(0)
        self.program["atlas"].value = 0
        self.program["window"].value = window_size
        self.vao.render(moderngl.TRIANGLE_STRIP, vertices=4, instances=self.count)
        self.ctx.disable(moderngl.BLEND)


@dataclass
class Status:
    """What the HUD reports besides the parameters: the display's own figures."""
    display_fps: float = 0.0
    display_errors: int = 0
    generator_errors: int = 0
    refused: int = 0
    warnings: Sequence[str] = ()


def tempo_line(snap: Snapshot) -> str:
    """BPM, the beat in the bar as lit squares, the source, and what waits for the beat."""
    bar = snap["tempo.beats_per_bar"]
    beat = snap["tempo.beat"] % bar
    lights = "".join("#" if i == beat else "." for i in range(bar))
    state = "" if snap["tempo.running"] else "  STOPPED"
    wait = f"  quantize {snap['quantize']}" if snap["quantize"] != "off" else ""
    m = snap["motion.zoom"], snap["motion.rotate"], snap["motion.x"], snap["motion.y"], snap["motion.tilt"]
    move = "" if m == (1.0, 0.0, 0.0, 0.0, 0.0) else (
        f"   MOTION zoom {m[0]:.2f}/s rot {m[1]:+.0f} deg/s xy {m[2]:+.2f} {m[3]:+.2f} tilt {m[4]:+.2f}")
    return (f"TEMPO {snap['tempo.bpm']:6.1f} BPM  [{lights}] beat {beat + 1}/{bar}  {snap['tempo.source']}"
            f"{state}{wait}{move}")


def describe(snap: Snapshot, frame: Frame | None, status: Status) -> list[Line]:
    """The HUD's lines for this moment. Optional parameters (audio, record) show only where they exist."""
    stats = frame.stats if frame is not None else {}
    lines: list[Line] = [(
        f"GENERATOR {stats.get('frames_per_s', 0.0):5.2f} frames/s  {stats.get('iters_per_s', 0.0):6.1f} it/s"
        f"   DISPLAY {status.display_fps:5.1f} fps"
        + (f"   frame {frame.index} it {frame.iteration}" if frame is not None else "   waiting for the first frame"),
        WHITE)]
    for slot, text, weight in stats.get("mix", ()):
        short = text if len(text) <= 60 else text[:57] + "..."
        lines.append((f"PROMPT {slot}  {weight:4.2f}  {short}", WHITE))
    if not stats.get("mix"):
        lines.append((f"PROMPT {snap['prompt.select']}  (no frame yet)", DIM))
    lines.append((f"TEMPERATURE {snap['temperature']:.0f}   noise {stats.get('noise', 0.0):.2f}   "
                  f"{snap['iterations']} it x {snap['views']} views   mode {snap['mode']}", WHITE))
    if snap.get("tempo.bpm") is not None:
        lines.append((tempo_line(snap), CYAN if snap["tempo.running"] else DIM))
    level = snap.get("audio.energy")
    if level is not None and snap.get("audio.active", True):
        bars = int(round(min(1.0, max(0.0, float(level))) * 20))
        lines.append((f"AUDIO [{'#' * bars}{'.' * (20 - bars)}] {float(level):.2f}", GREEN))
    elif level is not None:
        lines.append(("AUDIO no input", DIM))
    if snap.get("record"):
        lines.append((f"REC  recording   {snap.get('record.dropped', 0)} pictures dropped", RED))
    elif snap.get("record.error"):
        lines.append((f"REC  {snap['record.error'][:150]}", RED))
    state = [name.upper() for name in ("blackout", "freeze", "show_iterations", "pause") if snap.get(name)]
    if snap["brightness"] != 1.0:
        state.append(f"BRIGHTNESS {snap['brightness']:.1f}")
    if state:
        lines.append(("   ".join(state), YELLOW))
    errors = (f"ERRORS generator {status.generator_errors}  display {status.display_errors}  "
              f"refused {status.refused}")
    lines.append((errors, RED if status.generator_errors or status.display_errors else DIM))
    lines.extend((f"! {w}", RED) for w in status.warnings)
    lines.append((KEY_HELP, DIM))
    return lines
