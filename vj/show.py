"""Build the engine from a setup: store, models (with the builtin fallback), bus, generator.

Shared by the live app and the headless renderer, so both paint the same way.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import torch

from engine import FrameBus, Generator, GeneratorConfig, Guide, ModelUnavailable, ParamStore, load_guide
from engine.inputs import InputBus, Inputs
from engine.post import PostProcess, PostUnavailable, load_post

from .setup import Setup, SetupError, apply_to_store
from .tables import app_store

log = logging.getLogger(__name__)


@dataclass
class Show:
    setup: Setup
    store: ParamStore
    bus: FrameBus
    generator: Generator
    guides: list[Guide]
    warnings: list[str] = field(default_factory=list)  # shown on the HUD
    input_bus: InputBus = field(default_factory=InputBus)  # the [input] source's newest picture


def load_guides(setup: Setup, warnings: list[str]) -> list[Guide]:
    """The setup's model(s); when one is not available offline and fallback is on, the builtin."""
    m = setup.model
    guides = []
    for spec in [m.name, *m.ensemble]:
        try:
            guides.append(load_guide(spec, m.device, m.precision))
        except ModelUnavailable as e:
            if not m.fallback or spec.startswith("builtin"):
                raise
            log.warning("%s; running on the builtin model meanwhile (fallback = true in %s).",
                        str(e).rstrip("."), setup.label)
            warnings.append(f"MODEL {spec} UNAVAILABLE - RUNNING ON BUILTIN")
    if not guides:
        guides.append(load_guide("builtin", m.device, m.precision))
    return guides


def load_post_process(setup: Setup, device: torch.device, warnings: list[str]) -> PostProcess | None:
    """The setup's post-process on the guide's device, or None. Missing or broken weights do not stop
    the show: the raw frames are shown, with a HUD warning and the reason in the log."""
    if not setup.post.model:
        return None
    try:
        return load_post(setup.post.model, device)
    except PostUnavailable as e:
        log.warning("%s Showing raw optimized frames meanwhile.", e)
        warnings.append(f"POST {setup.post.model} UNAVAILABLE - RAW FRAMES")
        return None


def build_show(setup: Setup, store: ParamStore | None = None) -> Show:
    """Everything the engine needs, from one setup, on the whole parameter table (engine and app
    rows), so any setup loads the same way live, headless or in replay."""
    store = store or app_store()
    apply_to_store(setup, store)
    if setup.generator.threads:
        torch.set_num_threads(setup.generator.threads)
    warnings: list[str] = []
    guides = load_guides(setup, warnings)
    g = setup.generator
    bus = FrameBus()
    post = load_post_process(setup, guides[0].device, warnings)
    input_bus = InputBus()
    generator = Generator(store, guides, bus, GeneratorConfig(g.width, g.height, g.seed, g.scale, g.parametrization,
                                                              g.colour, g.levels, g.level_lr, g.start, g.framing,
                                                              g.shapes, g.sketches),
                          post, setup.post.feedback, Inputs(input_bus, prompt_bus(setup, input_bus, warnings)))
    return Show(setup, store, bus, generator, guides, warnings, input_bus)


def prompt_bus(setup: Setup, input_bus: InputBus, warnings: list[str]) -> InputBus:
    """The image prompt's bus: the live input's, or one holding `[input] prompt_image`. A missing or
    unreadable image is one sentence and a HUD line, and the show goes on with the live input's (as
    a missing `[input] source` does)."""
    if not setup.input.prompt_image:
        return input_bus
    from .input.sources import InputError, Still
    path = Path(setup.input.prompt_image).expanduser()
    if not path.is_absolute() and setup.path is not None:
        path = setup.path.parent / path
    try:
        picture = Still(path, key="prompt_image").picture
    except InputError as e:
        log.warning("%s The show goes on without that image prompt.", e)
        warnings.append("INPUT: PROMPT IMAGE MISSING")
        return input_bus
    bus = InputBus()
    bus.put(picture)
    return bus


__all__ = ["Show", "SetupError", "build_show", "load_guides"]
