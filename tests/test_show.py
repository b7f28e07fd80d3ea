"""Building a show from a setup: model fallback, ensembles, negative prompts, the scale option."""
import logging

import pytest

from engine import ModelUnavailable
from tests.conftest import TINY_MODEL, small_setup
from vj.setup import SETUPS_DIR, load_setup
from vj.show import build_show, load_guides


def test_unavailable_model_falls_back_to_builtin_with_one_sentence_and_a_hud_warning(caplog, monkeypatch, tmp_path):
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path))
    setup = small_setup(model="ViT-B-32:openai")
    setup.model.fallback = True
    warnings = []
    with caplog.at_level(logging.WARNING):
        guides = load_guides(setup, warnings)
    assert [g.name for g in guides] == ["builtin"]
    assert warnings == ["MODEL ViT-B-32:openai UNAVAILABLE - RUNNING ON BUILTIN"]
    line = next(r.getMessage() for r in caplog.records if "not available offline" in r.getMessage())
    assert line.startswith("Model ViT-B-32:openai is not available offline")
    assert "vj fetch ViT-B-32:openai" in line and "; running on the builtin model meanwhile" in line
    assert line.count(". ") == 0


def test_without_fallback_the_show_refuses_to_start(monkeypatch, tmp_path):
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path))
    setup = small_setup(model="ViT-B-32:openai")
    with pytest.raises(ModelUnavailable, match="vj fetch ViT-B-32:openai"):
        build_show(setup)


def test_ensemble_guides_alternate_every_iteration():
    setup = small_setup()
    setup.model.ensemble = [TINY_MODEL]
    show = build_show(setup)
    used = []
    for i, guide in enumerate(show.guides):
        original = guide.image_features
        guide.image_features = lambda v, i=i, f=original: used.append(i) or f(v)
    for _ in range(4):
        show.generator.step()
    assert len(show.guides) == 2 and used == [0, 1, 0, 1]


def test_negative_prompt_enters_the_loss():
    show = build_show(small_setup(**{"negative": "blurry", "negative.weight": 0.5}))
    guide = show.guides[0]
    asked = []
    original = guide.text_features
    guide.text_features = lambda texts: asked.append(list(texts)) or original(texts)
    show.generator.step()
    assert ["blurry"] in asked


def test_scale_optimizes_a_smaller_grid_and_upsamples():
    show = build_show(small_setup(width=128, height=96, scale=4))
    f = None
    while f is None:
        f = show.generator.step()
    assert show.generator.opt.picture().shape == (1, 3, 24, 32)
    assert f.pixels.shape == (96, 128, 3)


@pytest.mark.parametrize("name", sorted(p.name for p in SETUPS_DIR.glob("*.toml")))
def test_every_shipped_setup_builds_a_show_headless(name):
    """`vj render` and replay build the same whole parameter table as the live app."""
    setup = load_setup(SETUPS_DIR / name)
    show = build_show(setup)
    for key, value in setup.params.items():
        assert show.store.base(key) == value


def test_a_missing_post_process_shows_raw_frames_with_a_hud_warning_and_one_sentence(caplog, tmp_path):
    setup = small_setup(model=TINY_MODEL)
    setup.post.model = str(tmp_path / "gone.json")
    with caplog.at_level(logging.WARNING):
        show = build_show(setup)
    assert show.generator.post is None
    assert show.warnings == [f"POST {tmp_path / 'gone.json'} UNAVAILABLE - RAW FRAMES"]
    line = next(r.getMessage() for r in caplog.records if "Post-process" in r.getMessage())
    assert "set [post] model to builtin-post" in line and line.endswith("Showing raw optimized frames meanwhile.")
    while (frame := show.generator.step()) is None:
        pass
    assert frame.pixels.shape == (setup.generator.height, setup.generator.width, 3)


def test_the_default_setup_loads_the_shipped_post_process():
    show = build_show(load_setup(SETUPS_DIR / "default.toml"))
    assert show.generator.post is not None and show.generator.post.name == "builtin-post"
    assert show.store.snapshot()["post"] == 1.0
