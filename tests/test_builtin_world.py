"""The procedural world is deterministic from a seed and its captions are literally true of its pictures."""
import numpy as np
import pytest

from engine.builtin import world


def nearest_colour(pixels: np.ndarray) -> np.ndarray:
    """Index of the nearest PALETTE colour for each RGB pixel (..., 3)."""
    return ((pixels[..., None, :].astype(np.float32) - world.PALETTE) ** 2).sum(-1).argmin(-1)


@pytest.fixture(scope="module")
def sample():
    rng = np.random.default_rng(11)
    scenes = world.sample_scenes(rng, 300)
    return scenes, world.render(scenes, 64), world.masks(scenes, 64)


def test_same_seed_same_pairs_other_seed_other_pairs():
    a_img, a_txt = world.batch(5, 40)
    b_img, b_txt = world.batch(5, 40)
    c_img, c_txt = world.batch(6, 40)
    assert a_img.dtype == np.uint8 and a_img.shape == (40, 64, 64, 3)
    assert np.array_equal(a_img, b_img) and a_txt == b_txt
    assert not np.array_equal(a_img, c_img) and a_txt != c_txt


def test_named_colour_dominates_each_object_and_the_background(sample):
    scenes, img, m = sample
    labels = nearest_colour(img)
    checked = 0
    for i in range(len(scenes)):
        for k in range(scenes.n_obj[i]):
            seen = labels[i][m[i, k]]
            if len(seen) >= 20:  # nearly hidden objects say nothing
                assert np.bincount(seen, minlength=10).argmax() == scenes.obj[i, k, 0], (i, k)
                checked += 1
        background = labels[i][~m[i].any(0)]
        assert np.bincount(background, minlength=10).argmax() == scenes.bg[i], i
    assert checked > 300


def test_positions_and_sizes_are_true(sample):
    scenes, _, m = sample
    t = (np.arange(64) + 0.5) / 64
    areas = {}
    for i in range(len(scenes)):
        for k in range(scenes.n_obj[i]):
            colour, shape, size, pos = scenes.obj[i, k]
            ys, xs = np.nonzero(m[i, k])
            x, y = t[xs].mean(), t[ys].mean()
            where = world.POSITIONS[pos]
            assert {"left": x < 0.36, "right": x > 0.64, "top": y < 0.36, "bottom": y > 0.64,
                    "center": abs(x - 0.5) < 0.12 and abs(y - 0.5) < 0.12}[where], (i, k, where, x, y)
            if scenes.n_obj[i] == 1:
                areas.setdefault((shape, size), []).append(len(xs))
    for shape in range(len(world.SHAPES)):
        assert min(areas[(shape, 0)]) > max(areas[(shape, 1)]), world.SHAPES[shape]


def test_held_out_pairs_never_in_training_pictures():
    held = world.held_out_mask()
    scenes = world.sample_scenes(np.random.default_rng(3), 2000)
    for k in range(2):
        present = scenes.obj[:, k, 0] >= 0
        assert not held[scenes.obj[present, k, 0], scenes.obj[present, k, 1]].any()
    probe = world.sample_scenes(np.random.default_rng(3), 200, pairs="held_out")
    assert held[probe.obj[:, 0, 0], probe.obj[:, 0, 1]].all()


def test_captions_are_grammatical_and_true():
    rng = np.random.default_rng(4)
    scenes = world.sample_scenes(rng, 500)
    caps = world.describe(scenes, rng)
    texts = world.caption_texts(caps, rng.random(500) < 0.5)
    assert world.truth(caps, scenes).diagonal().all()
    for i, text in enumerate(texts):
        words = text.split()
        said = {w for w in words if w in world.COLOURS}
        assert said <= {world.COLOURS[c] for c in scenes.obj[i, :, 0] if c >= 0} | {world.COLOURS[scenes.bg[i]]}
        assert "a orange" not in text and "a stripes" not in text and "an red" not in text
        assert (" and " in text) == (scenes.n_obj[i] == 2)
    assert any("an orange" in t for t in texts) and any("stripes" in t for t in texts)


def test_bare_captions_drop_the_articles_of_objects_only():
    rng = np.random.default_rng(8)
    caps = world.describe(world.sample_scenes(rng, 300), rng)
    full, bare = world.caption_texts(caps), world.caption_texts(caps, bare=np.ones(300, bool))
    for f, b in zip(full, bare):
        assert b.split()[0] not in ("a", "an")
        assert [w for w in f.split() if w not in ("a", "an")] == [w for w in b.split() if w not in ("a", "an")]
        assert (" background" in b) == (" background" in f) and b.count(" a ") + b.count(" an ") == \
            int(" background" in b)
    assert {t.split()[0] for t in bare} >= set(world.COLOURS)  # every colour word leads some caption


def test_truth_matrix_knows_which_caption_fits_which_picture():
    scenes = world.sample_scenes(np.random.default_rng(5), 50, n_objects=1)
    caps = world.describe(scenes, np.random.default_rng(6), full=True)
    t = world.truth(caps, scenes)
    assert t.diagonal().all() and t.sum() < 60  # full captions rarely fit another picture
    vague = world.Captions(caps.n_obj, np.where(np.arange(4) == 0, caps.obj, -1), np.full(50, -1))
    tv = world.truth(vague, scenes)  # "a red shape" fits every picture with a red object
    assert (tv == (scenes.obj[:, 0, 0][:, None] == scenes.obj[:, 0, 0][None])).all()


def test_colours_reach_across_their_nearest_colour_cell_and_stay_in_it():
    scenes = world.sample_scenes(np.random.default_rng(12), 2000, n_objects=1)
    rgb, named = scenes.rgb[:, 0], scenes.obj[:, 0, 0]
    assert (nearest_colour(rgb) == named).all() and (nearest_colour(scenes.bg_rgb) == scenes.bg).all()
    far = np.abs(rgb - world.PALETTE[named]).max(1) > 40  # well beyond the small jitter around the entry
    assert all(far[named == c].any() for c in range(len(world.COLOURS)))
