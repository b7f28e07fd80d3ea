"""Shared fixtures: a tiny random CLIP (fast on 2 cores; for plumbing, not semantics) and shows."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.ndi_tools import ndi_loopback  # noqa: F401  (fixture: NDI found over loopback)
from tests.xvfb import xvfb  # noqa: F401  (fixture: a private Xvfb display for window tests)
from vj.setup import parse_setup

TINY_MODEL = str(Path(__file__).parent / "data" / "tiny-clip.json")

torch.set_num_threads(1)  # tests share 2 cores with the display server and each other


def tiny_setup_file(path: Path, extra: str = "") -> Path:
    """A setup file for a `vj run` process on the tiny model (OSC and the web page off, so parallel runs
    never fight over ports); `extra` adds TOML sections."""
    path.write_text(f'''name = "tiny live"
[model]
name = "{TINY_MODEL}"
fallback = false
[generator]
width = 64
height = 48
seed = 1
[osc]
enabled = false
[web]
enabled = false
[params]
iterations = 2
first_iterations = 2
views = 2
[[prompts]]
text = "a red circle"
{extra}''')
    return path


@pytest.fixture
def tiny_model() -> str:
    """Spec of a tiny random-weight open_clip model (custom config, no weights file)."""
    return TINY_MODEL


def small_setup(model: str = TINY_MODEL, width: int = 64, height: int = 48, scale: int = 1, **params):
    """A setup dict→Setup with two prompts and fast generator settings; params override [params]."""
    p = {"iterations": 2, "first_iterations": 2, "views": 2, **params}
    return parse_setup({
        "name": "test",
        "model": {"name": model, "fallback": False},
        "generator": {"width": width, "height": height, "seed": 1, "scale": scale},
        "params": p,
        "prompts": [{"text": "a red circle", "frames": 2}, {"text": "a blue square", "frames": 2}],
    }, "<test setup>")

