"""The performer's overlay: rates, prompts, levels, state and warnings, drawn on the window only.

Text is any Unicode, drawn from a glyph atlas that FreeType fills from a shipped font as characters
first appear (vj/display/font.py); each glyph is one instanced quad, so a HUD of a few hundred
characters is one draw call. The text is rebuilt a few times a second, not every frame, to keep
the render loop's Python light.
The HUD is never part of the output picture, so it is never recorded.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import moderngl
import numpy as np

from engine.bus import Frame
from engine.params import Snapshot

from .font import BLOCK, GlyphAtlas
from .glsl import SHADER_DIR, load_program
from .keys import KEY_HELP

MAX_GLYPHS = 4096
WHITE, DIM, GREEN, YELLOW, RED = (1, 1, 1, 1), (0.7, 0.7, 0.7, 1), (0.5, 1, 0.5, 1), (1, 0.85, 0.3, 1), (1, 0.35, 0.3, 1)
CYAN = (0.45, 0.85, 1, 1)
PANEL = (0, 0, 0, 0.6)
INDENT = "     "             # continuation lines of a wrapped HUD line

Line = tuple[str, tuple[float, float, float, float]]


class FontAtlas(GlyphAtlas):
    """The HUD's glyphs (vj/display/font.py: any Unicode, FreeType, a shipped font) laid out as quads."""

    def fit(self, lines: Sequence[Line], width_px: int, origin: int = 12) -> list[Line]:
        """`lines` broken at spaces so that each fits a window `width_px` pixels wide, continuations
        indented (a word longer than a line is cut): a sentence is read whole, never cut at the edge."""
        room = width_px - 2 * origin
        return [(piece, tint) for text, tint in lines for piece in self._wrap(text, room)]

    def _wrap(self, text: str, room: float) -> list[str]:
        out, line = [], ""
        for word in text.split(" "):
            candidate = f"{line} {word}" if line else word
            if line.strip() and self.text_width(candidate) > room:
                out.append(line.rstrip())
                candidate = INDENT + word
            line = candidate
            while self.text_width(line) > room and len(line) > len(INDENT) + 1:   # a word longer than a line
                cut = len(line) - 1
                while cut > len(INDENT) + 1 and self.text_width(line[:cut]) > room:
                    cut -= 1
                out.append(line[:cut])
                line = INDENT + line[cut:]
        out.append(line)
        return out

    def text_width(self, text: str) -> float:
        """Pixels `text` takes on a line, as drawn (characters the font lacks as the fallback box)."""
        return sum(self.advance[key] for key in self.keys(text))

    def layout(self, lines: Sequence[Line], origin: tuple[int, int] = (12, 12), gap: int = 2) -> np.ndarray:
        """Instance rows (x, y, w, h, u0, v0, u1, v1, r, g, b, a): a panel, then every glyph."""
        ch = self.cell_height
        rows, width = [], 0.0
        x0, y0 = origin
        for n, (text, tint) in enumerate(lines):
            pen, y = float(x0), y0 + n * (ch + gap)
            for key in self.keys(text):
                if key != " ":
                    rows.append((round(pen) - 1, y, self.width[key], ch, *self.uv[key], *tint))
                pen += self.advance[key]
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
        self.texture = ctx.texture(self.atlas.image.size, 1)
        self.texture.filter = (moderngl.NEAREST, moderngl.NEAREST)
        self.program = load_program(ctx, "text.vert", "text.frag", shader_dir)
        self.buffer = ctx.buffer(reserve=MAX_GLYPHS * 48, dynamic=True)
        self.vao = ctx.vertex_array(self.program, [(self.buffer, "4f 4f 4f/i", "rect", "glyph", "tint")])
        self.count = 0

    def set_lines(self, lines: Sequence[Line], width_px: int | None = None) -> None:
        """Lay out `lines` for drawing; with `width_px`, long ones are wrapped to fit that window width."""
        rows = self.atlas.layout(self.atlas.fit(lines, width_px) if width_px else lines)
        if self.atlas.dirty:                    # new glyphs were rendered: upload the atlas again
            self.texture.write(self.atlas.image.tobytes())
            self.atlas.dirty = False
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
    errors: Mapping[str, int] = field(default_factory=dict)  # failures caught, by part (generator, display, osc, ...)
    refused: int = 0            # inputs refused, whoever sent them (OSC, MIDI, keys)
    warnings: Sequence[str] = ()
    rates: tuple[float, float] | None = None   # generator (frames/s, it/s) now; None: the frame's own
    idle: str | None = None     # why the generator paints nothing now (Generator.idle_reason)


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
    fps, its = status.rates or (stats.get("frames_per_s", 0.0), stats.get("iters_per_s", 0.0))
    lines: list[Line] = [(
        f"GENERATOR {fps:5.2f} frames/s  {its:6.1f} it/s"
        f"   DISPLAY {status.display_fps:5.1f} fps"
        + (f"   frame {frame.index} it {frame.iteration}" if frame is not None else "   waiting for the first frame"),
        WHITE)]
    for slot, text, weight in stats.get("mix", ()):
        short = text if len(text) <= 60 else text[:57] + "..."
        lines.append((f"PROMPT {slot}  {weight:4.2f}  {short}", WHITE))
    if status.idle:
        lines.append((f"WAITING: {status.idle}", YELLOW))
    elif not stats.get("mix"):
        lines.append((f"PROMPT {snap['prompt.select']}  (no frame yet)", DIM))
    if snap.get("prompt.cut"):
        lines.append((f"PROMPT TOO LONG  {snap['prompt.cut'][:150]}", YELLOW))
    # `noise` is the parameter (a multiplier, as on OSC); sigma is the noise it gave this frame
    lines.append((f"TEMPERATURE {snap['temperature']:.0f}   noise x{snap['noise']:.2f} "
                  f"(sigma {stats.get('noise', 0.0):.3f})   "
                  f"{snap['iterations']} it x {snap['views']} views   mode {snap['mode']}", WHITE))
    if snap.get("tempo.bpm") is not None:
        lines.append((tempo_line(snap), CYAN if snap["tempo.running"] else DIM))
    level = snap.get("audio.energy")
    if level is not None and snap.get("audio.active", True):
        bars = int(round(min(1.0, max(0.0, float(level))) * 20))
        lines.append((f"AUDIO [{'#' * bars}{'.' * (20 - bars)}] {float(level):.2f}", GREEN))
    elif level is not None:
        lines.append(("AUDIO no input", DIM))
    if snap.get("input.mix") or snap.get("input.prompt") or snap.get("input.active"):
        lines.append((f"INPUT {'live' if snap.get('input.active') else 'none'}   mix {snap.get('input.mix', 0.0):.2f}   "
                      f"image prompt {snap.get('input.prompt', 0.0):.2f}", GREEN if snap.get("input.active") else DIM))
    sending = [kind.upper() for kind in ("ndi", "local") if snap.get(f"output.{kind}")]
    if sending:
        lines.append((f"OUT  {' + '.join(sending)}", GREEN))
    if snap.get("record"):
        lines.append((f"REC  recording   {snap.get('record.dropped', 0)} pictures dropped", RED))
    elif snap.get("record.error"):
        lines.append((f"REC  {snap['record.error']}", RED))
    state = [name.upper() for name in ("blackout", "freeze", "show_iterations", "pause") if snap.get(name)]
    if snap["brightness"] != 1.0:
        state.append(f"BRIGHTNESS {snap['brightness']:.1f}")
    if state:
        lines.append(("   ".join(state), YELLOW))
    counts = "  ".join(f"{part} {n}" for part, n in status.errors.items())
    lines.append((f"ERRORS {counts}  refused {status.refused}", RED if any(status.errors.values()) else DIM))
    lines.extend((f"! {w}", RED) for w in status.warnings)
    lines.append((KEY_HELP, DIM))
    return lines
