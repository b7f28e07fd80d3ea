"""The control timeline: every parameter change of a recording, with its time, as JSON Lines.

The first line is a header naming the setup, model, resolution and seed, with the whole setup and
every parameter's value at the start. Each further line is one event, stamped with `t` (seconds
on the recording's clock), `frame` (the generator's frame index) and `it` (the generator's total
iteration count, which never goes back, even on reset: replay uses it as the position):

    {"kind": "set", "name": "temperature", "value": 55.0, "source": "osc", "t": ..., "frame": ..., "it": ...}
    {"kind": "action", "name": "reseed", "source": "key", ...}
    {"kind": "mod", "name": "noise", "value": 1.8, ...}     effective value moved by audio modulation
    {"kind": "seed", "value": 123456, ...}                    the seed a reseed picked
    {"kind": "frame", "index": 12, "started": ..., ...}       a finished generator frame was published
                                                              (started: when it started, for the camera)

Listeners run in the writer's thread (OSC, MIDI, keys), so `on_change` only stamps and queues; the
timeline's own thread writes, flushing every batch so a killed process keeps all but the last few ms.
"""
from __future__ import annotations

import dataclasses
import datetime
import json
import logging
import queue
import threading
from pathlib import Path
from typing import Any, Callable, Iterator

from engine.params import Change

from ..show import Show
from .oserrors import cause

log = logging.getLogger(__name__)

FORMAT = "vj-timeline/1"
POLL_S = 1 / 60  # how often modulation, frames and the seed are looked at


def setup_data(show: Show) -> dict:
    """The setup as a plain dict `parse_setup` accepts again (None values and the path left out)."""
    def clean(x: Any) -> Any:
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items() if v is not None}
        if isinstance(x, list):
            return [clean(v) for v in x]
        return x
    data = dataclasses.asdict(show.setup)
    data.pop("path", None)
    return clean(data)


def header(show: Show, video: str = "", fps: float = 0.0) -> dict:
    gen, store = show.generator, show.store
    return {
        "kind": "header", "format": FORMAT,
        "setup": show.setup.name, "setup_file": str(show.setup.path or ""),
        "model": show.setup.model.name, "models": [g.name for g in show.guides],
        "width": gen.config.width, "height": gen.config.height, "seed": gen.seed,
        "output": list(show.setup.display.output_size(gen.config.width, gen.config.height)),  # the video's size
        "video": video, "fps": fps,
        "started": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "frame": gen.frame_index, "it": gen.iterations,
        "params": {name: store.base(name) for name, spec in store.specs.items() if not spec.readonly},
        "setup_data": setup_data(show),
    }


class TimelineWriter:
    def __init__(self, path: Path, show: Show, clock: Callable[[], float], t0: float,
                 head: dict, on_fault: Callable[[str], None] = lambda s: None) -> None:
        self.path = path
        self.show = show
        self.clock, self.t0 = clock, t0
        self.on_fault = on_fault
        self.events = 0
        self.frames_seen = 0
        self.error: str | None = None
        self._queue: queue.SimpleQueue[dict] = queue.SimpleQueue()
        # The last value written per numeric parameter: an effective value that differs was modulated.
        snap = show.store.snapshot()
        self._logged = {n: snap[n] for n, s in show.store.specs.items() if s.numeric and not s.readonly}
        self._seed = show.generator.seed
        self._bus_seq = show.bus.seq
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(head,), name="timeline", daemon=True)
        self._thread.start()

    def on_change(self, change: Change) -> None:
        """Store listener (any thread): stamp and hand off."""
        spec = self.show.store.specs.get(change.name)
        if spec is not None and spec.readonly:
            return  # published by the app (levels, counters): not a performer's change
        kind = "action" if change.name in self.show.store.actions else "set"
        event = {"kind": kind, "name": change.name, "source": change.source, **self._stamp()}
        if kind == "set":
            event["value"] = change.value
        self._queue.put(event)

    def finish(self) -> None:
        self._stopping.set()

    def wait(self, timeout: float | None = None) -> bool:
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _stamp(self) -> dict:
        gen = self.show.generator
        return {"t": round(self.clock() - self.t0, 4), "frame": gen.frame_index, "it": gen.iterations}

    def _run(self, head: dict) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "w", encoding="utf-8") as f:
                self._write(f, head)
                while True:
                    stopping = self._stopping.is_set()
                    self._drain(f)
                    self._poll()
                    self._drain(f)
                    f.flush()  # to the OS: a killed process keeps every line written so far
                    if stopping:
                        break
                    self.show.bus.wait_after(self._bus_seq, timeout=POLL_S, final_only=True)
        except OSError as e:
            what, remedy = cause(e, self.path.parent, self.path.name)
            self.error = f"Timeline stopped: {what}; the video goes on without it; {remedy}."
            log.error(self.error)
            self.on_fault(self.error)

    def _drain(self, f) -> None:
        while True:
            try:
                event = self._queue.get_nowait()
            except queue.Empty:
                return
            if event["kind"] in ("set", "mod") and event["name"] in self._logged:
                self._logged[event["name"]] = event["value"]
            self._write(f, event)

    def _write(self, f, event: dict) -> None:
        f.write(json.dumps(event, ensure_ascii=False) + "\n")
        self.events += 1

    def _poll(self) -> None:
        """Queue what only shows by looking: new generator frames, modulated values, a new seed."""
        for frame in self.show.bus.since(self._bus_seq, final_only=True):
            # `started` unrounded: the replay's camera then moves each frame by the same dt, bit for bit.
            self._queue.put({"kind": "frame", "index": frame.index, "t": round(self.clock() - self.t0, 4),
                             "it": frame.stats.get("iterations", self.show.generator.iterations),
                             "started": frame.stats.get("started", self.t0) - self.t0})
            self.frames_seen += 1
        self._bus_seq = self.show.bus.seq
        seed = self.show.generator.seed
        if seed != self._seed:
            self._seed = seed
            self._queue.put({"kind": "seed", "value": seed, **self._stamp()})
        snap = self.show.store.snapshot()
        for name, logged in self._logged.items():
            if snap[name] != logged:  # moved by modulation (or returned to the base value)
                self._queue.put({"kind": "mod", "name": name, "value": snap[name], **self._stamp()})


def read_timeline(path: str | Path) -> tuple[dict, list[dict]]:
    """(header, events) of a timeline file. A last line cut short by a crash is skipped."""
    lines = iter_lines(Path(path))
    try:
        head = next(lines)
    except StopIteration:
        raise ValueError(f"{path} is empty: not a vj timeline") from None
    if head.get("kind") != "header" or head.get("format") != FORMAT:
        raise ValueError(f"{path} does not start with a {FORMAT} header: not a vj timeline")
    return head, list(lines)


def iter_lines(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                log.warning("%s line %d is cut short (the recording was interrupted); replay stops there",
                            path, number)
                return
