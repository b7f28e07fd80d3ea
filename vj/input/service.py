"""The input service: decodes the setup's [input] source on its own thread into the input bus.

Newest picture wins: the bus holds one picture, the generator reads it at frame start and never
waits. A source that cannot be opened, breaks, is unplugged or disappears is one sentence in the
log and on the HUD; the show goes on with the last picture (or without input), and the source is
reopened every RETRY_S seconds until it returns. A file that ends without `loop` keeps its last
picture.
"""
from __future__ import annotations

import logging
import threading

from engine.inputs import InputBus
from engine.params import ParamStore

from ..setup import Setup
from .sources import InputError, open_source

log = logging.getLogger(__name__)

RETRY_S = 2.0


class VideoInput:
    """A service (`start`/`stop`) feeding `bus` from `spec` (see vj/input/sources.py)."""

    def __init__(self, spec: str, bus: InputBus, store: ParamStore | None = None, warnings: list[str] | None = None,
                 base=None, loop: bool = True, retry_s: float = RETRY_S) -> None:
        self.spec, self.bus, self.store = spec, bus, store
        self.warnings = warnings if warnings is not None else []
        self.base, self.loop, self.retry_s = base, loop, retry_s
        self.pictures = 0          # pictures put on the bus
        self.opened = 0            # times the source was (re)opened
        self.problem = ""          # the last sentence said, "" while the source delivers
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def from_setup(cls, setup: Setup, store: ParamStore, bus: InputBus, warnings: list[str]) -> "VideoInput":
        base = setup.path.parent if setup.path else None
        return cls(setup.input.source, bus, store, warnings, base, setup.input.loop)

    def start(self) -> None:
        if not self.spec:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="input", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                source = open_source(self.spec, self.base, self.loop)
            except InputError as e:
                self._say(str(e))
                self._stop.wait(self.retry_s)
                continue
            except Exception as e:  # anything else: still one sentence, never a dead thread
                self._say(f"Input {self.spec} cannot be opened ({e}); retrying every {self.retry_s:g} s.")
                self._stop.wait(self.retry_s)
                continue
            self.opened += 1
            ended = False
            try:
                for pixels in source.pictures():
                    if self._stop.is_set():
                        return
                    self.bus.put(pixels)
                    self.pictures += 1
                    self._delivering()
                ended = True
            except InputError as e:
                self._say(f"{e} Keeping the last picture; reopening every {self.retry_s:g} s.")
            except Exception as e:
                self._say(f"Input {self.spec} failed ({e}); keeping the last picture, reopening every "
                          f"{self.retry_s:g} s.")
            finally:
                source.close()
            if ended:
                if self.pictures and not source.loops:
                    if not source.still:
                        self._say(f"Input {source.name} ended; its last picture stays the input "
                                  "(loop = true in [input] plays it again).")
                    self._stop.wait()     # stills and unlooped files: nothing more will come
                    return
                if not self.pictures:
                    self._say(f"Input {source.name} gave no picture; retrying every {self.retry_s:g} s.")
            self._stop.wait(self.retry_s)

    def _delivering(self) -> None:
        if self.problem or (self.store is not None and not self.store.base("input.active")):
            if self.problem:
                log.info("Input %s delivers pictures again.", self.spec)
            self.problem = ""
            self._warn("")
            self._set_active(True)

    def _say(self, sentence: str) -> None:
        """Log a problem once (not at every retry), show it on the HUD, mark the input inactive."""
        if sentence != self.problem:
            log.warning("%s", sentence)
            self._warn(sentence)
        self.problem = sentence
        self._set_active(False)

    def _warn(self, sentence: str) -> None:
        """Replace this input's HUD warning (none when `sentence` is empty)."""
        self.warnings[:] = [w for w in self.warnings if not w.startswith("INPUT ")]
        if sentence:
            self.warnings.append(f"INPUT {self.spec}: {sentence}")

    def _set_active(self, on: bool) -> None:
        if self.store is not None and "input.active" in self.store.specs and self.store.base("input.active") != on:
            self.store.set("input.active", on, "app")
