import pytest

from engine.models import ModelUnavailable, load_guide
from tests.conftest import TINY_MODEL


def test_a_model_not_available_offline_gives_one_sentence_naming_it_where_and_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HOME", str(tmp_path))  # an empty cache
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(ModelUnavailable) as e:
        load_guide("ViT-B-32:laion2b_s34b_b79k")
    msg = str(e.value)
    assert "ViT-B-32:laion2b_s34b_b79k is not available offline" in msg
    assert str(tmp_path / "hub") in msg and "vj fetch ViT-B-32:laion2b_s34b_b79k" in msg
    assert msg.count(". ") == 0 and "\n" not in msg


@pytest.mark.parametrize("spec, words", [
    ("ViT-B-32", "names no weights"),
    ("ViT-B-32:nope", "not a pretrained tag"),
    ("NoSuchNet:openai", "not an open_clip architecture"),
    ("ViT-B-32:/no/such/file.safetensors", "no checkpoint file at /no/such/file.safetensors"),
    ("/no/such/config.json", "no config file at"),
    ("builtin-post", "not an open_clip architecture"),   # shipped beside the models, but not one
])
def test_bad_model_specs_say_what_is_wrong(spec, words):
    with pytest.raises(ModelUnavailable, match=words):
        load_guide(spec)


def test_local_checkpoint_is_loaded_without_unpickling(tmp_path):
    import torch
    from safetensors.torch import save_file

    guide = load_guide(TINY_MODEL)
    state = {k: v.contiguous() for k, v in guide.model.state_dict().items()}
    save_file(state, tmp_path / "tiny-clip.safetensors")
    config = tmp_path / "tiny-clip.json"
    config.write_text(open(TINY_MODEL).read())
    loaded = load_guide(str(config))  # weights found beside the config
    for k, v in loaded.model.state_dict().items():
        assert torch.equal(v, state[k])


def test_text_features_are_cached_per_prompt():
    guide = load_guide(TINY_MODEL)
    a = guide.text_features(["a red circle", "a blue square"])
    calls = []
    enc = guide.model.encode_text
    guide.model.encode_text = lambda t: calls.append(t) or enc(t)
    b = guide.text_features(["a blue square", "a red circle"])
    assert not calls and (b[0] == a[1]).all()
    guide.text_features(["a green ring"])
    assert len(calls) == 1


def _hub_cache(root, repo: str, files: dict) -> None:
    """A Hugging Face cache holding `files` (name -> bytes) for `repo`, laid out as huggingface_hub does."""
    folder = root / f"models--{repo.replace('/', '--')}"
    snapshot = folder / "snapshots" / ("0" * 40)
    snapshot.mkdir(parents=True)
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text("0" * 40)
    for name, data in files.items():
        (snapshot / name).write_bytes(data)


def test_hub_models_load_offline_from_the_cache_with_their_preprocessing(tmp_path, monkeypatch):
    """hf-hub:ORG/REPO, the form robust CLIPs (FARE, TeCoA) are published in, loads with no network
    from the normal cache, with the repo's mean and std."""
    import json

    import torch
    from safetensors.torch import save_file

    guide = load_guide(TINY_MODEL)
    state = {k: v.contiguous() for k, v in guide.model.state_dict().items()}
    save_file(state, tmp_path / "w.safetensors")
    config = {"model_cfg": json.loads(open(TINY_MODEL).read()),
              "preprocess_cfg": {"mean": [0.5, 0.5, 0.5], "std": [0.25, 0.25, 0.25]}}
    _hub_cache(tmp_path / "hub", "someone/robust-tiny", {
        "open_clip_config.json": json.dumps(config).encode(),
        "open_clip_model.safetensors": (tmp_path / "w.safetensors").read_bytes()})
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HOME", str(tmp_path))
    hub = load_guide("hf-hub:someone/robust-tiny")
    for k, v in hub.model.state_dict().items():
        assert torch.equal(v, state[k])
    assert torch.allclose(hub.mean.flatten(), torch.tensor([0.5] * 3))
    assert hub.size == 32


def test_a_hub_model_not_in_the_cache_says_to_fetch_it(tmp_path, monkeypatch):
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(ModelUnavailable, match=r"hf-hub:chs20/fare2-clip is not available offline .*"
                                               r"run `vj fetch hf-hub:chs20/fare2-clip`"):
        load_guide("hf-hub:chs20/fare2-clip")
