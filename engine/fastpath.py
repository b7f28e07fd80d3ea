"""Same math, fewer wasted cycles: rewrites of open_clip modules for pixel optimization.

The optimizer back-propagates to the pixels through a frozen model, a path open_clip's modules
are not tuned for:
- `nn.MultiheadAttention(batch_first=True)` transposes its input to sequence-first before the
  input projection, so outside inference mode every projection becomes a batched matmul over an
  expanded weight (about 2x the time of one plain matmul in fp32, and a copy of the weight per
  token in bf16). We compute q, k, v from the batch-first input with one matmul and call
  scaled_dot_product_attention, as open_clip's own `Attention` class does.
- A ViT patch embedding is a convolution whose stride equals its kernel; its input gradient
  through the convolution backward is slow on CPU. Cutting the image into patches is a reshape,
  and the embedding a plain matmul.
Both give the same outputs (tests compare them with the original modules).
"""
from __future__ import annotations

import types

import torch
import torch.nn as nn
import torch.nn.functional as F


def speed_up(model: nn.Module) -> nn.Module:
    """Patch `model` in place where it is safe; leaves anything unusual untouched."""
    for module in model.modules():
        attn = getattr(module, "attn", None)
        if isinstance(attn, nn.MultiheadAttention) and attn.batch_first and attn._qkv_same_embed_dim \
                and not hasattr(module, "ln_1_kv") and hasattr(module, "attention"):
            module.attention = types.MethodType(_attention, module)
        conv = getattr(module, "conv1", None)
        if isinstance(conv, nn.Conv2d) and conv.stride == conv.kernel_size and conv.padding == (0, 0) \
                and conv.groups == 1 and conv.dilation == (1, 1) and hasattr(module, "_embeds"):
            module.conv1 = PatchEmbed(conv)
    return model


def _attention(self, q_x: torch.Tensor, k_x=None, v_x=None, attn_mask=None) -> torch.Tensor:
    attn: nn.MultiheadAttention = self.attn
    if k_x is not None or v_x is not None:
        raise NotImplementedError("fast attention handles self-attention only")
    n, length, dim = q_x.shape
    heads = attn.num_heads
    qkv = F.linear(q_x, attn.in_proj_weight, attn.in_proj_bias)
    q, k, v = qkv.view(n, length, 3, heads, dim // heads).permute(2, 0, 3, 1, 4)
    mask = attn_mask.to(q.dtype) if attn_mask is not None else None
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    return attn.out_proj(out.transpose(1, 2).reshape(n, length, dim))


class PatchEmbed(nn.Module):
    """A stride==kernel Conv2d computed as reshape + matmul (same weights, same output)."""

    def __init__(self, conv: nn.Conv2d) -> None:
        super().__init__()
        self.kernel = conv.kernel_size
        self.out_channels = conv.out_channels
        self.weight = conv.weight   # shared, so state_dict stays the same
        self.bias = conv.bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        kh, kw = self.kernel
        gh, gw = h // kh, w // kw
        patches = x[:, :, :gh * kh, :gw * kw].reshape(n, c, gh, kh, gw, kw).permute(0, 2, 4, 1, 3, 5)
        y = F.linear(patches.reshape(n, gh * gw, c * kh * kw), self.weight.reshape(self.out_channels, -1), self.bias)
        return y.transpose(1, 2).reshape(n, self.out_channels, gh, gw)
