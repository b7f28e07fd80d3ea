"""The post-process: a small image-to-image network that cleans each finished frame, as the paper's
authors clean theirs with a CycleGAN generator (`beautifier.py`; shared/reference/original-method.md).

Ours is a U-Net (Ronneberger et al. 2015, "U-Net: Convolutional Networks for Biomedical Image
Segmentation"), two poolings deep, that predicts a correction to its input. It runs once per
finished frame, without gradient, on the guide's device, at a working size whose short side is
`work` pixels (the size it was trained at, so its receptive field covers shapes as in training),
and its output is resized back to the frame. `strength` (0..1, a live parameter) blends the raw
optimized frame (0) with the cleaned one (1).

Weights: `<name>.json` (the architecture: widths, work size) beside `<name>.safetensors`.
The project's own, `builtin-post`, is trained by engine/builtin/train_post.py on pairs of
(frame optimized against `builtin` from a world picture plus noise, that world picture).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

WEIGHTS = Path(__file__).parent / "builtin" / "weights"


class PostUnavailable(RuntimeError):
    """The post-process weights cannot be loaded; the message is one sentence for the performer."""


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, padding_mode="replicate"), nn.GELU(),
                         nn.Conv2d(cout, cout, 3, padding=1, padding_mode="replicate"), nn.GELU())


class UNet(nn.Module):
    """(n, 3, H, W) in [0, 1] -> (n, 3, H, W) in [0, 1]; any H, W (padded to a multiple of
    2**(len(widths) - 1) inside). `widths` are the channels at full, 1/2, 1/4, ... resolution: three
    widths pool twice, four widths three times (a receptive field that covers a whole big shape)."""

    def __init__(self, widths: tuple[int, ...] = (32, 64, 96)) -> None:
        super().__init__()
        if len(widths) < 2:
            raise ValueError(f"a U-Net needs at least two widths, got {list(widths)}.")
        self.depth = len(widths) - 1   # poolings
        # Names down1.., bottom, ..up1, as the first (three-width) builtin-post was saved.
        chans = (3, *widths)
        for i in range(1, self.depth + 1):
            setattr(self, f"down{i}", _block(chans[i - 1], chans[i]))
            setattr(self, f"up{i}", _block(chans[i + 1] + chans[i], chans[i]))
        self.bottom = _block(widths[-2], widths[-1])
        self.out = nn.Conv2d(widths[0], 3, 1)
        nn.init.zeros_(self.out.weight)  # starts as the identity: a fresh net changes nothing
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        k = 2 ** self.depth
        ph, pw = (-h) % k, (-w) % k
        y = F.pad(x, (0, pw, 0, ph), mode="replicate") if ph or pw else x
        skips, d = [], y * 2 - 1
        for i in range(1, self.depth + 1):
            d = getattr(self, f"down{i}")(d if i == 1 else F.avg_pool2d(d, 2))
            skips.append(d)
        u = self.bottom(F.avg_pool2d(d, 2))
        for i in range(self.depth, 0, -1):
            skip = skips[i - 1]
            u = getattr(self, f"up{i}")(torch.cat([F.interpolate(u, size=skip.shape[-2:], mode="bilinear",
                                                                 align_corners=False), skip], 1))
        # A correction in logit space: clean pixels stay where they are, saturated ones can move.
        out = torch.sigmoid(torch.logit(y.clamp(1e-3, 1 - 1e-3)) + self.out(u))
        return out[..., :h, :w]


class CycleGANGenerator(nn.Module):
    """The authors' post-process network: the CycleGAN code base's `resnet_9blocks` generator (Zhu
    et al. 2017; junyanz/pytorch-CycleGAN-and-pix2pix `networks.ResnetGenerator`, 64 filters,
    instance norm without affine, no dropout), laid out module for module as there so that its
    saved `latest_net_G_A.pth` state dict loads unchanged. (n, 3, H, W) in [0, 1] -> same; the
    network itself works in [-1, 1] and ends in tanh: output = (G(2x - 1) + 1) / 2."""

    def __init__(self, filters: int = 64, blocks: int = 9) -> None:
        super().__init__()
        norm = lambda c: nn.InstanceNorm2d(c, affine=False, track_running_stats=False)  # noqa: E731
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(3, filters, 7, bias=True), norm(filters), nn.ReLU(True)]
        for i in range(2):
            c = filters * 2 ** i
            layers += [nn.Conv2d(c, c * 2, 3, stride=2, padding=1, bias=True), norm(c * 2), nn.ReLU(True)]
        layers += [_ResnetBlock(filters * 4, norm) for _ in range(blocks)]
        for i in range(2):
            c = filters * 2 ** (2 - i)
            layers += [nn.ConvTranspose2d(c, c // 2, 3, stride=2, padding=1, output_padding=1, bias=True),
                       norm(c // 2), nn.ReLU(True)]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(filters, 3, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        ph, pw = (-h) % 4, (-w) % 4
        y = F.pad(x, (0, pw, 0, ph), mode="replicate") if ph or pw else x
        return ((self.model(y * 2 - 1) + 1) / 2)[..., :h, :w]


class _ResnetBlock(nn.Module):
    def __init__(self, c: int, norm) -> None:
        super().__init__()
        self.conv_block = nn.Sequential(nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3, bias=True), norm(c), nn.ReLU(True),
                                        nn.ReflectionPad2d(1), nn.Conv2d(c, c, 3, bias=True), norm(c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_block(x)


def blend(raw: torch.Tensor, clean: torch.Tensor, strength: float) -> torch.Tensor:
    """The live `post` fader: `raw` (strength 0) to `clean` (1 or more), same shapes."""
    return raw + (clean - raw) * min(1.0, strength)


@dataclass
class PostProcess:
    """A loaded post-process network, ready to clean frames."""
    name: str
    net: nn.Module  # UNet or CycleGANGenerator: (n, 3, H, W) in [0, 1] -> same
    work: int  # short side, pixels, the network runs at
    device: torch.device

    @torch.no_grad()
    def __call__(self, frame: torch.Tensor, strength: float = 1.0) -> torch.Tensor:
        """(1, 3, H, W) frame in [0, 1] -> the cleaned frame, same shape, blended by strength 0..1."""
        if strength <= 0:
            return frame
        h, w = frame.shape[-2:]
        k = self.work / min(h, w)
        small = F.interpolate(frame.float(), size=(max(4, round(h * k)), max(4, round(w * k))), mode="bilinear",
                              antialias=k < 1, align_corners=False) if abs(k - 1) > 1e-3 else frame.float()
        clean = self.net(small)
        if clean.shape[-2:] != (h, w):
            clean = F.interpolate(clean, size=(h, w), mode="bicubic", align_corners=False).clamp(0, 1)
        return blend(frame, clean, strength)


def load_post(spec: str, device: torch.device | str = "cpu") -> PostProcess:
    """Load `builtin-post` (shipped), a path to a .json config with its .safetensors beside it, or
    the authors' CycleGAN generator `PATH.pth[@WORK]` (read with weights_only, never unpickled;
    WORK: the short side it runs at, default 256). Raises PostUnavailable with one sentence when the
    files are missing or do not fit."""
    from safetensors.torch import load_file

    dev = torch.device(device)
    path, _, work = spec.partition("@")
    if work and not work.isdigit():
        raise PostUnavailable(f"Post-process {spec!r}: @{work} is not a whole number of pixels (e.g. PATH.pth@256).")
    if path.endswith((".pth", ".pt")):
        file = Path(path).expanduser()
        if not file.is_file():
            raise PostUnavailable(f"Post-process {spec!r}: no file at {file}; check [post] model in the setup.")
        try:
            net = CycleGANGenerator()
            net.load_state_dict(torch.load(file, map_location="cpu", weights_only=True))
        except Exception as e:
            raise PostUnavailable(f"Post-process {spec!r} is not a CycleGAN resnet_9blocks generator "
                                  f"state dict ({str(e).splitlines()[0]}).") from e
        return PostProcess(spec, net.eval().requires_grad_(False).to(dev), int(work or 256), dev)
    config = WEIGHTS / f"{spec}.json" if not spec.endswith(".json") else Path(spec).expanduser()
    weights = config.with_suffix(".safetensors")
    if not config.is_file() or not weights.is_file():
        raise PostUnavailable(f"Post-process {spec!r}: no {config.name} with {weights.name} beside it at {config.parent}; "
                              f"set [post] model to builtin-post or a .json path, or post = 0.")
    try:
        cfg = json.loads(config.read_text())
        net = UNet(tuple(cfg["widths"]))
        net.load_state_dict({k: v.float() for k, v in load_file(str(weights)).items()})
    except Exception as e:  # a broken or mismatched file: say which
        raise PostUnavailable(f"Post-process {spec!r} could not be loaded from {weights}: {e}") from e
    return PostProcess(spec, net.eval().requires_grad_(False).to(dev), int(cfg["work"]), dev)


def save_post(net: UNet, widths: tuple[int, int, int], work: int, name: str, out_dir: Path = WEIGHTS) -> Path:
    """Write <name>.json and <name>.safetensors (fp16) so `load_post` can read them."""
    from safetensors.torch import save_file

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{name}.json").write_text(json.dumps({"widths": list(widths), "work": work}, indent=1) + "\n")
    path = out_dir / f"{name}.safetensors"
    save_file({k: v.detach().half().contiguous() for k, v in net.state_dict().items()}, str(path))
    return path
