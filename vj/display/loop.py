"""The live window's main loop: the display clock, readable top-down.

Two clocks: the generator thread paints as fast as it can; this loop runs at the display's rate,
takes the newest generator frame when there is one (never waits for it) and cross-fades to it.

Hooks for the other parts of the app:
  * `sinks`: callables `sink(output_fbo, t)` run on the main thread every display frame, right
    after the output picture is drawn and before the HUD (which is never recorded); `t` is the
    clock's time at which this frame will be shown (see clock.py). `output_fbo`
    is a `moderngl.Framebuffer` of the output size (`[display] output_*`), RGBA8, bottom row
    first as `read()`/`read_into()` return it; `output_fbo.ctx` is the GL context. Sinks must not
    block: read back asynchronously (a pixel buffer object read into now, mapped a frame or two
    later). A sink that raises is logged, counted on the HUD and called again next frame.
  * `parts`: name -> anything with an `errors` count (the generator, this loop, the services); the
    HUD's ERRORS line shows each, and the read-only `errors` row their sum.
  * the clock (`LiveClock` live, `FixedStepClock` for offline or replayed recordings).
  * `run_frames(n)` and `read_pixels()` let tests drive the real window in-process.
  * `headless`: an offscreen EGL context instead of the window (headless.py: render nodes);
    `preview`: a second window with the HUD, the show window clean (preview.py).
"""
from __future__ import annotations

import logging
import time
from collections import deque
from typing import Any, Callable

import moderngl
import numpy as np

from engine.generator import Rate

from ..show import Show
from .clock import Clock, LiveClock
from .keys import press
from .effects import Effects
from .hud import RED, Status, TextLayer, describe
from .renderer import Renderer
from .headless import HeadlessWindow
from .preview import Preview
from .window import Window

log = logging.getLogger(__name__)

FrameSink = Callable[[moderngl.Framebuffer, float], None]
HUD_REFRESH = 0.25      # seconds between HUD text rebuilds
QUIT_CONFIRM = 3.0      # seconds within which a second quit confirms the first


class DisplayApp:
    """The show window of one Show: opens it, runs the display loop, closes it.

    `clock` defaults to a LiveClock at the monitor's refresh (60 Hz, paced, where it has none).
    `keep_pixels` reads the window back every frame for `read_pixels()` (tests, screenshots).
    """

    def __init__(self, show: Show, clock: Clock | None = None, keep_pixels: bool = False,
                 headless: bool = False, preview: bool = False) -> None:
        """`headless`: no window, an offscreen context (render nodes); `preview`: a second, smaller
        window with the HUD, the show window staying clean (preview.py)."""
        setup = show.setup.display
        self.show, self.store, self.bus = show, show.store, show.bus
        g = show.setup.generator
        output_size = setup.output_size(g.width, g.height)
        on_key, on_close = (lambda key: press(self.store, key)), (lambda: self.store.trigger("quit", "window"))
        if headless:
            self.window = HeadlessWindow(output_size)
        else:
            self.window = Window((setup.width, setup.height), f"vj - {show.setup.name}", setup.monitor, on_key, on_close)
        if self.window.warning:
            show.warnings.append(self.window.warning)
        self.ctx = self.window.ctx
        self.renderer = Renderer(self.ctx, output_size, grain=g.scale)
        self.text = TextLayer(self.ctx)
        self.preview = None
        if preview and not headless:
            self.preview = Preview(self.window, (setup.preview_width, setup.preview_height),
                                   f"vj preview - {show.setup.name}", on_key, on_close)
        self.effects = Effects(self.store)
        self.clock = clock or LiveClock(self.window.refresh_rate or setup.fps, pace=True if not self.window.refresh_rate else None)
        self.sinks: list[FrameSink] = []
        self.input_counters: dict[str, Callable[[], int]] = {}   # store source -> its service's refusals
        self.keep_pixels, self.pixels, self.preview_pixels = keep_pixels, None, None
        self.errors, self.frames, self.finished = 0, 0, False
        self.parts: dict[str, Any] = {"generator": show.generator, "display": self}
        self._sink_errors = 0
        self.swap_times: deque[float] = deque(maxlen=100_000)  # perf_counter after each swap (bench)
        self._rate = Rate(60)
        self._quit_asked_at = -1e9
        self._hidden = False
        self.window.on_monitor_lost = self._monitor_lost
        self._hud_at, self._hud_asking = -1e9, False
        self.t = 0.0
        self.store.on_action("quit", self._quit_asked)
        if "fullscreen" not in show.setup.params:
            self.store.set("fullscreen", setup.fullscreen, "setup")
        if "hud" not in show.setup.params:
            hud = (self.preview is not None or not self.store.base("fullscreen")) if setup.hud is None else setup.hud
            self.store.set("hud", hud, "setup")

    # -- the loop ------------------------------------------------------------------------------
    def run(self, seconds: float | None = None) -> None:
        """Show frames until quit is confirmed (or `seconds` of display time have passed)."""
        start = None
        while not self.finished:
            self.step()
            start = self.t if start is None else start
            if seconds is not None and self.t - start >= seconds:
                break

    def run_frames(self, n: int) -> None:
        for _ in range(n):
            self.step()

    def step(self) -> None:
        """One display frame; a failure is logged, counted and the next frame tried."""
        try:
            self.frame()
        except Exception:
            self.errors += 1
            if self.errors <= 3 or self.errors % 600 == 0:
                log.exception("display frame failed (error %d); the show goes on", self.errors)

    def frame(self) -> None:
        self.t = t = self.clock.frame_time()                 # when this frame will be shown
        self.window.poll()                                   # keys and window events write the store
        snap = self.store.snapshot()
        self.window.set_fullscreen(snap["fullscreen"])
        newest = self.bus.latest(final_only=not snap["show_iterations"])
        self.renderer.update(newest, t, snap["smoothing"], frozen=snap["freeze"])
        self.renderer.draw_picture(self.effects.look(snap, t))   # cross-fade + effects
        if self.sinks:                                        # the output picture, for the recorder
            output = self.renderer.render_output(snap["fill"])
            for sink in list(self.sinks):
                self._feed(sink, output, t)
        if not self.window.headless:                          # headless: nothing to present, no HUD
            drawable = self.window.drawable                   # minimized or 0 pixels: nothing to show
            if drawable:
                self.renderer.present(self.ctx.screen, self.window.size, snap["fill"])
            if self.preview is not None:                      # the HUD goes to the preview window
                self._preview(snap, newest, t)
            elif drawable:
                self._overlay(snap, newest, t, self.text, self.window)
            self._say_hidden(not drawable)
        if self.keep_pixels:
            self.pixels = self.read_window()
        if self.clock.paces:            # no vsync: render now, so that the paced swap is only the copy
            self.window.finish()
        self.clock.wait()
        self.window.swap()
        now = time.perf_counter()
        self.swap_times.append(now)
        self._rate.tick(now)
        self.frames += 1
        self._publish_errors()

    # -- parts of a frame ----------------------------------------------------------------------
    def _feed(self, sink: FrameSink, output: moderngl.Framebuffer, t: float) -> None:
        try:
            sink(output, t)
        except Exception:  # kept: a recorder that failed once must get the next frame
            self.errors += 1
            self._sink_errors += 1
            if self._sink_errors <= 3 or self._sink_errors % 600 == 0:
                log.exception("frame sink %r failed (error %d); the show goes on", sink, self._sink_errors)

    def error_counts(self) -> dict[str, int]:
        """Failures caught so far, by part."""
        return {name: int(getattr(part, "errors", 0)) for name, part in self.parts.items()}

    def _publish_errors(self) -> None:
        """The read-only `errors` row follows the sum, so OSC clients and the timeline see it too."""
        total = sum(self.error_counts().values())
        if "errors" in self.store.specs and total != self.store.base("errors"):
            self.store.set("errors", total, "app")

    def _say_hidden(self, hidden: bool) -> None:
        if hidden != self._hidden:
            self._hidden = hidden
            if hidden:
                log.info("The window is minimized or has no pixels; the show%s goes on.",
                         " and the recording" if self.sinks else "")
            else:
                log.info("The window is shown again.")

    def _monitor_lost(self, sentence: str) -> None:
        log.warning("%s", sentence)
        self.show.warnings.append("MONITOR UNPLUGGED - WINDOWED")
        self.store.set("fullscreen", False, "window")   # the parameter (HUD, feedback) says what is true

    def _preview(self, snap, newest, t: float) -> None:
        """The preview window: the picture and the HUD (which the show window then never gets)."""
        self.preview.begin(self.renderer, snap["fill"])
        self._overlay(snap, newest, t, self.preview.text, self.preview.window)
        if self.keep_pixels:
            self.preview_pixels = read_screen(self.preview.ctx, self.preview.window.size)
        self.preview.end()

    def _overlay(self, snap, newest, t: float, text: TextLayer, window) -> None:
        """The HUD and the quit question, rebuilt a few times a second, drawn on `window` only
        (the show window, or the preview when there is one) with its context's `text` layer."""
        asking = t - self._quit_asked_at < QUIT_CONFIRM
        if not (snap["hud"] or asking):
            return
        if t - self._hud_at >= HUD_REFRESH or asking != self._hud_asking:
            lines = describe(snap, newest, self.status()) if snap["hud"] else []
            if asking:
                lines.insert(0, ("QUIT? press Q (or send quit) again within 3 s to end the show", RED))
            text.set_lines(lines, window.size[0])
            self._hud_at, self._hud_asking = t, asking
        text.draw(window.screen, window.size)

    def status(self) -> Status:
        now = time.perf_counter()
        return Status(display_fps=self._rate.per_s(now), errors=self.error_counts(), refused=self.refused(),
                      warnings=tuple(self.show.warnings), rates=self.show.generator.rates(now),
                      idle=self.show.generator.idle_reason())

    def refused(self) -> int:
        """Inputs refused, whoever sent them: each input service's own count (`input_counters`,
        e.g. the OSC server's, which refuses most before the store sees them) plus the store's
        refusals of every other writer (MIDI, keys)."""
        counted = sum(count() for count in self.input_counters.values())
        return counted + sum(n for source, n in self.store.refused_by.items() if source not in self.input_counters)

    def finish(self) -> None:
        """End `run()` after the current frame, as a confirmed quit does (any thread, or a signal handler)."""
        self.finished = True

    def _quit_asked(self) -> None:
        if self.t - self._quit_asked_at < QUIT_CONFIRM:
            self.finished = True
            return
        self._quit_asked_at = self.t
        log.info("quit asked: ask again within %.0f s to end the show", QUIT_CONFIRM)

    # -- tests and screenshots -----------------------------------------------------------------
    def read_window(self) -> np.ndarray:
        """The window's back buffer as (H, W, 3) uint8 RGB, top row first (a GPU sync: tests only);
        headless, the output picture."""
        if self.window.headless:
            output = self.renderer.output
            data = output.read(components=3, alignment=1)
            return np.frombuffer(data, np.uint8).reshape(output.height, output.width, 3)[::-1].copy()
        return read_screen(self.ctx, self.window.size)

    def read_pixels(self) -> np.ndarray:
        """The window as shown by the last frame (needs keep_pixels=True)."""
        if self.pixels is None:
            raise RuntimeError("read_pixels() needs DisplayApp(..., keep_pixels=True) and one frame run")
        return self.pixels

    def close(self) -> None:
        if self.preview is not None:
            self.preview.close()
        self.window.close()


def read_screen(ctx: moderngl.Context, size: tuple[int, int]) -> np.ndarray:
    """The current context's window back buffer as (H, W, 3) uint8 RGB, top row first (tests)."""
    w, h = size
    data = ctx.screen.read(viewport=(0, 0, w, h), components=3, alignment=1)
    return np.frombuffer(data, np.uint8).reshape(h, w, 3)[::-1].copy()
