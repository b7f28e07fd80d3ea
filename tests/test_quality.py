"""The picture-quality measures (vj/quality.py) measure what they name: model-free figures on
pictures whose answer is known, and the judge's ranking on world pictures it never trained on."""
from __future__ import annotations

import numpy as np
import pytest

from engine.builtin import world
from vj.quality import POOL, PROMPTS, alignment, cleanliness, edge_liveliness, judge_features, load_judge


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


def test_the_judge_ranks_true_prompts_of_world_pictures_first(judge):
    """World pictures of the bench's own prompts, drawn in the guides' style (the judge trained on
    another style): the judge must know them before it may grade paintings."""
    rng = np.random.default_rng(5)
    scenes = world.sample_scenes(rng, 6, n_objects=1, pairs="any")
    spec = [(("red", "circle", "blue"), -1), (("yellow", "triangle", "black"), -1), (("white", "ring", "purple"), -1),
            (("pink", "stripes", "green"), -1), (("blue", "square", "white"), 0), (("cyan", "cross", "orange"), 1)]
    for i, ((colour, shape, bg), side) in enumerate(spec):
        scenes.obj[i, 0] = (world.COLOURS.index(colour), world.SHAPES.index(shape), 0,
                            world.POSITIONS.index("center") if side < 0 else side)
        scenes.xy[i, 0] = world._CENTRES[scenes.obj[i, 0, 3]]
        scenes.radius[i, 0] = 0.22
        scenes.bg[i] = world.COLOURS.index(bg)
        scenes.rgb[i, 0] = world.PALETTE[scenes.obj[i, 0, 0]]
        scenes.bg_rgb[i] = world.PALETTE[scenes.bg[i]]
        scenes.angle[i, 0] = 0.3 if shape == "stripes" else 0.0
    pictures = world.render(scenes, 128)
    a = alignment(judge, judge_features(judge, pictures), [POOL.index(p) for p in PROMPTS])
    assert sum(r == 1 for r in a["rank"]) >= 5, a["picked"]
    assert np.mean(a["prob"]) > 0.5
