"""The rewritten attention and patch embedding compute what open_clip's modules compute."""
import copy

import open_clip
import torch

from engine.fastpath import PatchEmbed, speed_up


def test_fast_model_matches_open_clip_outputs_and_gradients():
    torch.manual_seed(0)
    slow = open_clip.create_model("ViT-S-32").eval().requires_grad_(False)  # small ViT, random weights
    fast = speed_up(copy.deepcopy(slow))
    assert any(isinstance(m, PatchEmbed) for m in fast.modules())
    tokens = open_clip.get_tokenizer("ViT-S-32")(["a red circle", "stripes"])
    torch.testing.assert_close(fast.encode_text(tokens), slow.encode_text(tokens), atol=1e-5, rtol=1e-4)
    grads = []
    for model in (slow, fast):
        x = torch.rand(3, 3, 224, 224, generator=torch.Generator().manual_seed(1), requires_grad=True)
        out = model.encode_image(x)
        out.square().sum().backward()
        grads.append((out.detach(), x.grad))
    torch.testing.assert_close(grads[1][0], grads[0][0], atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(grads[1][1], grads[0][1], atol=1e-4, rtol=1e-3)
    assert fast.state_dict().keys() == slow.state_dict().keys()
