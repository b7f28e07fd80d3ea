"""The picture-quality measures (vj/quality.py) measure what they name: model-free figures on
pictures whose answer is known, and the judge's ranking on world pictures it never trained on."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engine.builtin import world
from vj.quality import alignment, ceiling, cleanliness, edge_liveliness, judge_features, load_judge, world_pictures


def test_cleanliness_ranks_world_pictures_cleaner_than_speckle():
    pictures = world.batch(3, 8, 128)[0]
    rng = np.random.default_rng(0)
    speckled = np.where(rng.random(pictures.shape[:3] + (1,)) < 0.3, rng.integers(0, 256, pictures.shape), pictures)
    clean, noisy = cleanliness(pictures), cleanliness(speckled.astype(np.uint8))
    assert noisy["tv"] > 3 * clean["tv"]
    assert noisy["high_freq"] > 3 * clean["high_freq"]


def test_cleanliness_does_not_depend_on_picture_size():
    pictures = world.batch(4, 4, 256)[0]
    small = np.stack([p[::2, ::2] for p in pictures])
    a, b = cleanliness(pictures), cleanliness(small)
    assert a["tv"] == pytest.approx(b["tv"], rel=0.35)


def test_edge_liveliness_is_one_when_all_moves_and_zero_when_edges_are_frozen():
    rng = np.random.default_rng(1)
    moving = [rng.integers(0, 256, (90, 160, 3)).astype(np.uint8) for _ in range(6)]
    assert edge_liveliness(moving) == pytest.approx(1.0, abs=0.1)
    frozen = [f.copy() for f in moving]
    for f in frozen:
        f[:, :8] = f[:, -8:] = f[:5] = f[-5:] = 0  # the outer 5% never changes
    assert edge_liveliness(frozen) < 0.05


@pytest.fixture(scope="module")
def judge():
    return load_judge()


def test_the_judge_knows_world_pictures_of_every_bench_prompt_at_both_aspect_ratios(judge):
    """Before it may grade paintings, the judge must rank the true prompt first for clean world
    pictures of every bench prompt, square and 16:9, confidently: a judge that cannot tell a red
    circle from a red square grades paintings of it at chance."""
    square, wide, truth = world_pictures()
    for pictures in (square, wide):
        a = alignment(judge, judge_features(judge, pictures), truth)
        assert all(r == 1 for r in a["rank"]), a["picked"]
        assert np.mean(a["prob"]) > 0.9, np.round(a["prob"], 2)


def test_the_ceiling_is_what_the_judge_says_of_world_pictures(judge):
    """The summary's judge_ceiling is the judge's reading of clean world pictures: near-perfect for
    prompts it knows, and it falls when the pictures lose their shapes (blurred to blobs)."""
    c = ceiling(judge)
    assert c["first_share"] >= 0.95 and c["mean_prob"] > 0.9
    square, _, truth = world_pictures()
    blurred = np.asarray([np.asarray(Image.fromarray(p).resize((8, 8), Image.BILINEAR).resize((256, 256), Image.BILINEAR))
                          for p in square])
    a = alignment(judge, judge_features(judge, blurred), truth)
    assert np.mean(a["prob"]) < c["mean_prob"] - 0.2
