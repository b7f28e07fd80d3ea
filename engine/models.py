"""Models by name: one loader, built on open_clip, for every way a CLIP model can arrive.

Spec forms (`load_guide(spec)`):
  builtin, builtin-b          the project's own small models, shipped in engine/builtin/weights/
                              (also builtin-plain, the guide before adversarial training, and
                              judge, the quality benchmark's judge; builtin:NAME is the same)
  ViT-B-32:openai             an open_clip architecture and pretrained tag (weights from the
                              Hugging Face / open_clip cache; downloaded only by `vj fetch`)
  ViT-B-32:/path/model.safetensors   an architecture and a local checkpoint (.safetensors preferred;
                              .pt/.bin are read with torch.load(weights_only=True), never unpickled)
  hf-hub:ORG/REPO             an open_clip model on the Hugging Face hub (open_clip_config.json and
                              weights), e.g. the robust hf-hub:chs20/fare2-clip; cached by `vj fetch`
  /path/config.json[:weights] a custom open_clip config, weights beside it (same stem) or named
  ViT-B-32:random             random weights, for speed benchmarks only

Nothing else in the project knows where weights come from. A model that is not available offline
raises `ModelUnavailable` with one sentence: which model, where we looked, what to do.
"""
from __future__ import annotations

import logging
import os
from collections import OrderedDict
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import torch

from .fastpath import speed_up

log = logging.getLogger(__name__)

BUILTIN_DIR = Path(__file__).parent / "builtin" / "weights"
OPENAI_MEAN = (0.48145466, 0.4578275, 0.40821073)
OPENAI_STD = (0.26862954, 0.26130258, 0.27577711)
TEXT_CACHE_SIZE = 512
HF_HUB = "hf-hub:"
HUB_WEIGHTS = ("open_clip_model.safetensors", "open_clip_pytorch_model.bin")
PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def pick_precision(precision: str, device: torch.device) -> str:
    """`auto`: bf16 where the hardware runs it natively (CUDA, or CPUs with AVX512-BF16/AMX), else fp32."""
    if precision != "auto":
        return precision
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return "bf16" if torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported() else "fp32"


def builtin_models() -> list[str]:
    """Names of the shipped CLIP models (builtin, builtin-b, builtin-plain, judge): the open_clip
    configs in BUILTIN_DIR. Other files there (the post-process's) are not models."""
    import json

    return sorted(p.stem for p in BUILTIN_DIR.glob("*.json") if "vision_cfg" in json.loads(p.read_text()))


class ModelUnavailable(RuntimeError):
    """The named model cannot be loaded here; the message is one sentence for the performer."""


class NotCached(ModelUnavailable):
    """A model that exists but is not downloaded yet (`vj fetch` gets it)."""


def pick_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ModelUnavailable(f"Device {device!r} was asked for but no CUDA GPU is available; use device = \"cpu\" or \"auto\".")
    return torch.device(device)


@dataclass
class Guide:
    """A frozen CLIP model ready to score pixels against text: the optimizer's only view of a model."""
    name: str
    model: torch.nn.Module
    tokenizer: object
    size: int
    mean: torch.Tensor
    std: torch.Tensor
    device: torch.device
    dtype: torch.dtype = torch.float32
    _texts: OrderedDict = field(default_factory=OrderedDict, repr=False)

    def autocast(self):
        if self.dtype == torch.float32:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    @torch.no_grad()
    def text_features(self, texts: Sequence[str]) -> torch.Tensor:
        """Unit-norm text embeddings (n, d), each prompt encoded once and cached."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._texts]
        if missing:
            with self.autocast():
                f = self.model.encode_text(self.tokenizer(missing).to(self.device)).float()
            f = f / f.norm(dim=-1, keepdim=True)
            for t, row in zip(missing, f):
                self._texts[t] = row
        for t in texts:
            self._texts.move_to_end(t)
        while len(self._texts) > TEXT_CACHE_SIZE:
            self._texts.popitem(last=False)
        return torch.stack([self._texts[t] for t in texts])

    def read_tokens(self, text: str) -> tuple[int, int, str]:
        """(tokens in `text`, tokens the model reads, the words it ignores: "" when it reads it all).

        CLIP reads a fixed context (77 tokens for OpenAI's, 32 for builtin) including its start and
        end tokens; the tokenizer silently drops the rest, so that part of a prompt paints nothing.
        The ignored part is quoted as the performer typed it, in whole words (a word cut in its middle
        counts as ignored; a token is a piece of a UTF-8 byte sequence, not something to show).
        Tokenizers without `encode` (some hub models) report (0, 0, "")."""
        tok = self.tokenizer
        if not (hasattr(tok, "encode") and getattr(tok, "context_length", 0)):
            return 0, 0, ""
        n, room = len(tok.encode(text)), tok.context_length - 2
        if n <= room:
            return n, room, ""
        words = text.split()
        read = 0
        while read < len(words) and len(tok.encode(" ".join(words[:read + 1]))) <= room:
            read += 1
        return n, room, " ".join(words[read:])

    def image_features(self, views: torch.Tensor) -> torch.Tensor:
        """Unit-norm embeddings of views (n, 3, size, size) in [0, 1]; differentiable."""
        x = (views - self.mean) / self.std
        with self.autocast():
            f = self.model.encode_image(x).float()
        return f / f.norm(dim=-1, keepdim=True)


def load_guide(spec: str, device: str | torch.device = "auto", precision: str = "fp32",
               allow_download: bool = False) -> Guide:
    """Load a model by spec (see module doc). Offline unless `allow_download`."""
    import open_clip

    dev = device if isinstance(device, torch.device) else pick_device(device)
    precision = pick_precision(precision, dev)
    if precision not in PRECISIONS:
        raise ModelUnavailable(f"Precision {precision!r} is not one of {', '.join(PRECISIONS)}.")
    if precision == "fp16" and dev.type != "cuda":
        raise ModelUnavailable("Precision fp16 needs a CUDA GPU; use bf16 or fp32 on the CPU.")
    arch, weights, pretrained_cfg = _resolve(spec, allow_download)
    try:
        model = open_clip.create_model(arch, pretrained=weights, device=dev, load_weights=weights is not None)
    except Exception as e:  # a broken or mismatched file: say which, keep the cause for the log
        raise ModelUnavailable(f"Model {spec!r} could not be loaded from {weights or 'its config'}: {e}") from e
    speed_up(model.eval().requires_grad_(False))
    vcfg = open_clip.get_model_config(arch)["vision_cfg"]
    size = vcfg.get("image_size", 224)
    size = size[0] if isinstance(size, (list, tuple)) else size
    mean = pretrained_cfg.get("mean") or vcfg.get("image_mean") or OPENAI_MEAN
    std = pretrained_cfg.get("std") or vcfg.get("image_std") or OPENAI_STD
    as_t = lambda v: torch.tensor(v, device=dev, dtype=torch.float32).view(1, 3, 1, 1)  # noqa: E731
    log.info("loaded model %s (%s) on %s, %s", spec, weights or "random weights", dev, precision)
    return Guide(spec, model, open_clip.get_tokenizer(arch), int(size), as_t(mean), as_t(std), dev, PRECISIONS[precision])


def _resolve(spec: str, allow_download: bool) -> tuple[str, str | None, dict]:
    """Spec -> (open_clip architecture name, checkpoint path or None for random, pretrained cfg)."""
    import open_clip

    if spec.startswith(HF_HUB):
        return _hf_hub(spec, allow_download)
    if spec in builtin_models() or spec.startswith("builtin:"):
        name = spec.split(":", 1)[-1] if ":" in spec else spec
        return _custom_config(BUILTIN_DIR / f"{name}.json", None, spec)
    path_part, _, rest = spec.partition(":") if not Path(spec).is_file() else (spec, "", "")
    if path_part.endswith(".json"):
        return _custom_config(Path(path_part).expanduser(), rest or None, spec)
    arch, tag = path_part, rest
    if Path(arch).suffix in (".safetensors", ".pt", ".pth", ".bin"):
        raise ModelUnavailable(f"Model {spec!r}: a checkpoint file needs its architecture, written ARCH:PATH "
                               f"(e.g. ViT-B-32:{arch}), and the file must exist.")
    if open_clip.get_model_config(arch) is None:
        raise ModelUnavailable(f"Model {spec!r} is not an open_clip architecture, a config file or 'builtin'; "
                               f"`vj models` lists the architectures.")
    if not tag:
        tags = ", ".join(open_clip.list_pretrained_tags_by_model(arch)[:4]) or "a checkpoint path"
        raise ModelUnavailable(f"Model {spec!r} names no weights; say which, e.g. {arch}:{tags.split(', ')[0]} "
                               f"(known: {tags}).")
    if tag == "random":
        return arch, None, {}
    local = Path(tag).expanduser()
    if local.suffix in (".safetensors", ".pt", ".pth", ".bin") or local.is_file():
        if not local.is_file():
            raise ModelUnavailable(f"Model {spec!r}: no checkpoint file at {local}; check the path in the setup.")
        return arch, str(local), {}
    cfg = open_clip.get_pretrained_cfg(arch, tag)
    if not cfg:
        raise ModelUnavailable(f"Model {spec!r}: {tag!r} is not a pretrained tag of {arch} "
                               f"(known: {', '.join(open_clip.list_pretrained_tags_by_model(arch)[:6])}, ...).")
    if allow_download:
        return arch, open_clip.download_pretrained(cfg), cfg
    found, looked = _cached_checkpoint(cfg)
    if found is None:
        raise NotCached(f"Model {spec} is not available offline (looked in {looked}); "
                               f"run `vj fetch {spec}` with internet before the show.")
    return arch, found, cfg


def _hf_hub(spec: str, allow_download: bool) -> tuple[str, str, dict]:
    """An open_clip hub model (open_clip_config.json + weights) from the Hugging Face cache, or
    downloaded into it when allowed. Its architecture is registered under a name made from the repo."""
    import json

    import open_clip
    from huggingface_hub import hf_hub_download, try_to_load_from_cache
    from huggingface_hub.constants import HF_HUB_CACHE

    repo = spec[len(HF_HUB):].strip("/")
    found = {}
    for name in ("open_clip_config.json", *HUB_WEIGHTS):
        hit = try_to_load_from_cache(repo, name)
        if isinstance(hit, str):
            found[name] = hit
        elif allow_download and (name == "open_clip_config.json" or not set(HUB_WEIGHTS) & set(found)):
            try:
                found[name] = hf_hub_download(repo, name)
            except Exception as e:  # not on the hub in this form (a .bin-only repo) or no network
                log.debug("%s: %s not fetched: %s", spec, name, e)
    weights = next((found[n] for n in HUB_WEIGHTS if n in found), None)
    if "open_clip_config.json" not in found or weights is None:
        if allow_download:
            raise ModelUnavailable(f"Model {spec}: the hub repo {repo} has no open_clip_config.json with "
                                   f"{' or '.join(HUB_WEIGHTS)}, or it could not be reached; check the name.")
        raise NotCached(f"Model {spec} is not available offline (looked in the Hugging Face cache "
                               f"{HF_HUB_CACHE} for {repo}); run `vj fetch {spec}` with internet before the show.")
    config = json.loads(Path(found["open_clip_config.json"]).read_text())
    arch = "hf-" + repo.replace("/", "--")
    local = Path("~/.cache/vj/hub-configs").expanduser() / f"{arch}.json"  # open_clip registers configs by file name
    local.parent.mkdir(parents=True, exist_ok=True)
    local.write_text(json.dumps(config["model_cfg"]))
    open_clip.add_model_config(local)
    return arch, weights, config.get("preprocess_cfg", {})


def _custom_config(config: Path, weights: str | None, spec: str) -> tuple[str, str | None, dict]:
    import open_clip

    if not config.is_file():
        raise ModelUnavailable(f"Model {spec!r}: no config file at {config}; "
                               f"{'reinstall the package' if spec.startswith('builtin') else 'check the path'}.")
    open_clip.add_model_config(config)
    ckpt = Path(weights).expanduser() if weights else config.with_suffix(".safetensors")
    if not ckpt.is_file():
        if weights or spec.startswith("builtin"):
            raise ModelUnavailable(f"Model {spec!r}: no weights file at {ckpt}; check the path.")
        log.warning("model %s: no weights beside the config, using random weights", spec)
        return config.stem, None, {}
    return config.stem, str(ckpt), {}


def _cached_checkpoint(cfg: dict) -> tuple[str | None, str]:
    """Where open_clip would have stored this tag's weights, if they are there."""
    hub = cfg.get("hf_hub", "")
    if hub:
        from huggingface_hub import try_to_load_from_cache
        from huggingface_hub.constants import HF_HUB_CACHE

        repo, filename = os.path.split(hub.rstrip("/")) if not hub.endswith("/") else (hub.rstrip("/"), "")
        names = [filename] if filename else ["open_clip_model.safetensors", "open_clip_pytorch_model.bin"]
        if filename.endswith((".bin", ".pth")):
            names.insert(0, filename.rsplit(".", 1)[0] + ".safetensors")
        for name in names:
            hit = try_to_load_from_cache(repo, name)
            if isinstance(hit, str):
                return hit, ""
        return None, f"the Hugging Face cache {HF_HUB_CACHE} for {repo}"
    url = cfg.get("url", "")
    target = Path("~/.cache/clip").expanduser() / os.path.basename(url)
    return (str(target), "") if target.is_file() else (None, str(target))


def fetch(spec: str, timeout: float = 5.0) -> str:
    """Download a model's weights into the normal cache (needs internet); returns the file.

    Raises ModelUnavailable with one sentence when the spec is wrong, the download host cannot be
    reached within `timeout` seconds (checked first: huggingface_hub would otherwise retry for
    about 25 s and warn at every retry), or the download fails.
    """
    try:
        arch, weights, _ = _resolve(spec, allow_download=False)
        return weights or arch                      # local, or in the cache already
    except NotCached:
        _check_reachable(download_host(spec), spec, timeout)
    try:
        arch, weights, _ = _resolve(spec, allow_download=True)
    except ModelUnavailable:
        raise
    except Exception as e:  # requests/huggingface_hub/urllib errors: many types, one sentence
        raise ModelUnavailable(f"Model {spec} could not be downloaded ({type(e).__name__}: {_first_line(e)}); "
                               "check the internet connection and the name, then run `vj fetch` again.") from e
    return weights or arch


def download_host(spec: str) -> str:
    """The host a spec's weights come from: the Hugging Face endpoint, or the pretrained tag's URL host."""
    from urllib.parse import urlparse

    hub = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co").hostname or "huggingface.co"
    if spec.startswith(HF_HUB):
        return hub
    import open_clip

    arch, _, tag = spec.partition(":")
    cfg = open_clip.get_pretrained_cfg(arch, tag) if tag and open_clip.get_model_config(arch) else {}
    if cfg and not cfg.get("hf_hub") and cfg.get("url"):
        return urlparse(cfg["url"]).hostname or hub
    return hub


def _check_reachable(host: str, spec: str, timeout: float) -> None:
    import socket

    try:
        socket.create_connection((host, 443), timeout=timeout).close()
    except OSError as e:
        raise ModelUnavailable(f"Model {spec} cannot be downloaded: {host} is not reachable "
                               f"({e.strerror or e}); connect to the internet and run `vj fetch {spec}` again "
                               "(nothing was changed).") from None


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0][:200] if text else ""
