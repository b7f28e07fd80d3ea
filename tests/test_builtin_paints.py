"""The builtin model paints what a prompt says: checked model-free (pixel colours) and by a second,
independently trained model (builtin-b: other seed, other architecture), on raw pixels (the
paper's parametrization, no post-process), where every pixel is the guide's doing; and the shipped
default setup paints pictures that the judge (vj/quality.py) recognises."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine import load_guide
from engine.augment import random_views
from engine.builtin.world import COLOURS, PALETTE
from vj.setup import load_setup
from vj.show import build_show

# Prompts name the background: it is most of the picture, so its colour must dominate.
BACKGROUNDS = ["green", "blue", "yellow", "purple", "orange", "cyan", "pink", "white"]


def painted(prompt: str, width: int, height: int, frames: int = 1, **params):
    """Paint from noise with the default setup a performer gets, on raw pixels from uniform noise
    and without the post-process (only size, prompt and those changed): the guide's own colours."""
    setup = load_setup("setups/default.toml")
    setup.generator.width, setup.generator.height = width, height
    setup.generator.parametrization, setup.generator.start, setup.post.model = "pixels", "uniform", ""
    setup.prompts = setup.prompts[:1]
    setup.prompts[0].text = prompt
    setup.params.update(params)
    show = build_show(setup)
    done = []
    while len(done) < frames:
        f = show.generator.step()
        if f is not None:
            done.append(f)
    return show, done[-1]


def dominant(pixels: np.ndarray) -> tuple[str, float]:
    """Most frequent of the ten palette colours (each pixel counted as its nearest)."""
    px = pixels.reshape(-1, 3).astype(np.float32)
    nearest = ((px[:, None, :] - PALETTE[None].astype(np.float32)) ** 2).sum(-1).argmin(1)
    counts = np.bincount(nearest, minlength=len(COLOURS))
    return COLOURS[counts.argmax()], counts.max() / len(nearest)


def contrast(colour: str) -> str:
    return "black" if colour in ("white", "yellow", "cyan") else "white"


def on(colour: str) -> str:
    return f"on {'an' if colour[0] in 'aeiou' else 'a'} {colour} background"


@pytest.mark.parametrize("size", [(128, 128), (256, 144)])
def test_the_prompts_colour_dominates_the_picture(size):
    got = {c: dominant(painted(f"a small {contrast(c)} cross {on(c)}", *size)[1].pixels)[0]
           for c in BACKGROUNDS}
    assert sum(got[c] == c for c in BACKGROUNDS) >= 7 and len(set(got.values())) >= 6, got


def test_switching_the_prompt_moves_the_dominant_colour_within_bounded_iterations():
    # A hot temperature: the performer's way to let a settled picture change (at 30 it drifts slowly).
    # At 70 a switch within 300 iterations came for 1 of 8 seeds (before and after the edge-showing
    # views); at 100 for 6 of 6. The builtin's blue and purple neighbour: 2 of 12 seeds paint this
    # start purple-dominant.
    show, frame = painted("a small white cross on a blue background", 192, 108, temperature=100.0)
    assert dominant(frame.pixels)[0] in ("blue", "purple")
    show.store.set("prompt.1", "a small black cross on a yellow background")
    iterations = 0
    while dominant(frame.pixels)[0] != "yellow":
        frame = None
        while frame is None:
            frame = show.generator.step()
        iterations += frame.iteration
        assert iterations <= 300, f"still {dominant(frame.pixels)} after {iterations} iterations"


PROMPTS = [f"a small {contrast(c)} cross {on(c)}" for c in COLOURS] + [
    "a big yellow circle on a blue background", "red stripes on a green background"]


def test_an_independent_model_recognises_what_builtin_painted():
    judge = load_guide("builtin-b")
    texts = judge.text_features(PROMPTS)
    right = []
    for i, prompt in enumerate(PROMPTS):
        size = (256, 144) if i % 2 == 0 else (144, 256)
        _, frame = painted(prompt, *size, frames=2)
        x = torch.from_numpy(frame.pixels).permute(2, 0, 1)[None].float() / 255
        with torch.no_grad():  # the judge looks as CLIP looks in this method: through random views
            views = random_views(x, 16, judge.size, torch.Generator().manual_seed(i))
            score = (judge.image_features(views) @ texts.T).mean(0)
        right.append(int(score.argmax()) == i)
    assert sum(right) >= 10, [p for p, ok in zip(PROMPTS, right) if not ok]


def test_the_default_setup_paints_pictures_the_judge_recognises():
    """The shipped default, as `vj eval` measures it with one seed (both sizes, 12 pictures): the
    judge ranks the prompt first for 9 of 12 with mean probability 0.7, and the pictures are as
    clean as drawings (total variation within 2x of world pictures), steady (consistency 90) with
    live edges. Alignment alone does not tell paintings from confetti: today's judge reads colour
    through speckle and gives the old default (raw pixels on the plain guide) 7 of 12, at 22x the
    total variation. Measured here (one thread, seed 0): 11 of 12, probability 0.88, 1.13x,
    consistency 93.5; six seeds on two threads all 11 (README, A sketch race); one sketch instead
    of four ranged 8-11. The bounds leave room for another CPU's arithmetic, which takes the
    optimization down another path. Six pictures of one size were too few: either of two earlier
    defaults flipped between 3 and 4 of 6."""
    from vj.quality import Plan, evaluate, load_judge

    result = evaluate(load_setup("setups/default.toml"), Plan(frames=10, seeds=1), load_judge())
    s = result["summary"]
    assert s["first"] >= 9 and s["mean_prob"] >= 0.7, [(p["prompt"], p["size"], p["rank"], p["picked"])
                                                       for p in result["pictures"]]
    assert s["tv_vs_world"] <= 2.0
    assert s["consistency"] >= 90 and s["edges"] >= 0.7
