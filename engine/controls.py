"""The engine's rows of the live parameter table, and its actions.

Prompt slots are `prompt.1` .. `prompt.8` (text) with `prompt.N.frames` (frames per prompt in the
scheduled deck). Everything the generator reads every iteration is here; the display and audio
add their own rows in `vj/`.
"""
from __future__ import annotations

from .motion import SPECS as MOTION
from .params import Action, ParamSpec, ParamStore, Snapshot
from .schedule import live_slot

SLOTS = 8
PROMPT_MAX_LEN = 300


def _prompt_rows() -> list[ParamSpec]:
    rows = []
    for i in range(1, SLOTS + 1):
        rows.append(ParamSpec(f"prompt.{i}", "str", "", f"text of prompt slot {i} (empty: unused)",
                              max_len=PROMPT_MAX_LEN))
        rows.append(ParamSpec(f"prompt.{i}.frames", "int", 20, f"frames given to slot {i} in the scheduled deck",
                              lo=1, hi=100_000))
    return rows


SPECS: list[ParamSpec] = [
    *_prompt_rows(),
    ParamSpec("prompt.select", "int", 1, "active prompt slot (live mode)", lo=1, hi=SLOTS),
    ParamSpec("crossfade", "float", 0.0, "weight of the slot after the active one (live mode)", lo=0, hi=1),
    ParamSpec("mode", "enum", "live", "live: slot and cross-fade from controls; schedule: the paper's deck by frame count",
              choices=("live", "schedule")),
    ParamSpec("loop", "bool", True, "scheduled deck fades from the last prompt back to the first"),
    ParamSpec("negative", "str", "", "negative prompt: pictures are pushed away from it", max_len=PROMPT_MAX_LEN),
    ParamSpec("prompt.painting", "int", 0, "the slot that weighs most in the frame being painted (0: none); "
              "in schedule mode the deck's slot, which prompt.select does not follow", lo=0, hi=SLOTS, readonly=True),
    ParamSpec("prompt.cut", "str", "", "prompts longer than the model reads: slot, tokens and the words it "
              "ignores (empty: every prompt is read whole)", max_len=1000, readonly=True),
    ParamSpec("negative.weight", "float", 0.3, "strength of the negative prompt", lo=0, hi=1),
    ParamSpec("temperature", "float", 30.0, "0: frames barely move; 100: the scene changes completely", lo=0, hi=100),
    ParamSpec("noise", "float", 1.0, "multiplier on the temperature's noise between frames (audio energy rides it)",
              lo=0, hi=4),
    ParamSpec("lr", "float", 0.17, "Adam learning rate of the pixel optimization", lo=0.001, hi=1.0),
    ParamSpec("iterations", "int", 10, "optimization iterations per frame", lo=1, hi=500),
    ParamSpec("first_iterations", "int", 50, "iterations of the first frame after a reset (from noise)", lo=1, hi=2000),
    ParamSpec("views", "int", 4, "augmented views per iteration", lo=1, hi=64),
    ParamSpec("post", "float", 1.0, "post-process strength: 0 shows the raw optimized frame, 1 the cleaned one "
              "(a [post] model, post.colours or both)", lo=0, hi=1),
    ParamSpec("post.colours", "int", 0, "posterize: each frame in this many flat colours with smooth borders, after "
              "the [post] model (0: off)", lo=0, hi=8),
    ParamSpec("input.mix", "float", 0.0, "how much of the input picture (camera, video, image) each frame starts "
              "from: 0 none, 1 the input itself, repainted toward the prompts", lo=0, hi=1),
    ParamSpec("input.prompt", "float", 0.0, "weight of the input picture (or [input] prompt_image) as an image "
              "prompt beside the text prompts (0: off)", lo=0, hi=2),
    ParamSpec("pause", "bool", False, "hold the generator (the display keeps running)"),
    ParamSpec("show_iterations", "bool", False, "publish every iteration as it refines, not only finished frames"),
    *MOTION,
]

ACTIONS: list[Action] = [
    Action("next", "select the next filled prompt slot"),
    Action("prev", "select the previous filled prompt slot"),
    Action("reseed", "new random seed for noise and augmentations"),
    Action("reset", "start again: the next frame is composed afresh, as after a start (the setup's [generator] start)"),
]


def filled_slots(snap: Snapshot) -> list[int]:
    return [i for i in range(1, SLOTS + 1) if snap[f"prompt.{i}"].strip()]


def shown_slot(snap: Snapshot) -> int:
    """The slot that paints: in schedule mode the deck's (`prompt.painting`, published by the
    generator); live, `prompt.select` unless that slot is empty (engine.schedule.live_slot)."""
    if snap["mode"] == "schedule" and snap.get("prompt.painting"):
        return snap["prompt.painting"]
    return live_slot(snap["prompt.select"], filled_slots(snap)) or snap["prompt.select"]


def step_slot(store: ParamStore, direction: int, source: str = "api") -> None:
    """Move `prompt.select` to the next/previous filled slot, wrapping around."""
    snap = store.snapshot()
    filled = filled_slots(snap) or list(range(1, SLOTS + 1))
    cur = snap["prompt.select"]
    if direction > 0:
        later = [s for s in filled if s > cur]
        target = later[0] if later else filled[0]
    else:
        earlier = [s for s in filled if s < cur]
        target = earlier[-1] if earlier else filled[-1]
    store.set("prompt.select", target, source)


def make_store() -> ParamStore:
    """A store with the engine's rows and the slot-stepping actions wired."""
    store = ParamStore(SPECS, ACTIONS)
    store.on_action("next", lambda: step_slot(store, +1, "action"))
    store.on_action("prev", lambda: step_slot(store, -1, "action"))
    return store
