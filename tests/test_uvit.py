import pytest
import torch

from model_runtime.model import VideoDiffusionModel
from model_runtime.uvit import UViT, UViTConfig, count_parameters, forward_flops

TINY = dict(frames=8, size=16, patch=(4, 8, 8), width=32, depth=3, heads=2, text_len=4, text_width=16)


def test_forward_shape_and_tokens():
    cfg = UViTConfig(**TINY)
    net = UViT(cfg)
    x = torch.randn(2, 3, 8, 16, 16)
    out = net(x, torch.tensor([0.0, 999.0]), torch.randn(2, 4, 16))
    assert out.shape == x.shape
    # time token + text tokens + tubelets: (8/4)*(16/8)*(16/8) = 8 patches
    assert cfg.num_tokens == 1 + 4 + 8
    assert net.pos_embed.shape == (1, cfg.num_tokens, 32)


def test_long_skips_mirror_blocks():
    net = UViT(UViTConfig(**{**TINY, "depth": 7}))
    assert len(net.in_blocks) == len(net.out_blocks) == 3
    assert all(b.skip_linear is not None for b in net.out_blocks)
    assert all(b.skip_linear is None for b in net.in_blocks)
    assert net.out_blocks[0].skip_linear.in_features == 2 * 32


def test_every_input_conditions_the_output():
    torch.manual_seed(0)
    cfg = UViTConfig(**TINY)
    model = VideoDiffusionModel(cfg)
    x = torch.randn(1, 3, 8, 16, 16)
    ids = torch.tensor([[1, 9, 0, 0]])
    base = model(x, torch.tensor([10.0]), ids)
    assert not torch.allclose(base, model(x, torch.tensor([500.0]), ids))
    assert not torch.allclose(base, model(x, torch.tensor([10.0]), torch.tensor([[2, 9, 0, 0]])))
    # a change in the last frame reaches the first one: attention is over space and time
    x2 = x.clone()
    x2[:, :, -1] += 1
    assert not torch.allclose(base[:, :, 0], model(x2, torch.tensor([10.0]), ids)[:, :, 0])


def test_text_encoder_is_a_set_encoder():
    torch.manual_seed(0)
    model = VideoDiffusionModel(UViTConfig(**TINY))
    a = model.text(torch.tensor([[1, 9, 17, 0]]))
    b = model.text(torch.tensor([[17, 1, 9, 0]]))
    # permuting the tokens permutes the context rows and changes nothing else
    assert torch.allclose(a[:, [2, 0, 1, 3]], b, atol=1e-5)


def test_parameter_and_flop_helpers():
    cfg = UViTConfig(**TINY)
    model = VideoDiffusionModel(cfg)
    d = model.describe()
    assert d["parameters"] == count_parameters(model) > 0
    bigger = UViTConfig(**{**TINY, "width": 64, "heads": 2})
    assert forward_flops(bigger) > 2 * forward_flops(cfg)


@pytest.mark.parametrize("bad", [dict(frames=10), dict(width=33)])
def test_bad_config_is_a_clear_error(bad):
    with pytest.raises(ValueError):
        UViTConfig(**{**TINY, **bad})


def test_input_skip_lets_the_final_conv_see_the_noisy_pixels():
    torch.manual_seed(0)
    cfg = UViTConfig(**TINY, input_skip=True)
    net = UViT(cfg)
    assert net.final_layer.in_channels == 6
    x = torch.randn(1, 3, 8, 16, 16)
    t, ctx = torch.tensor([10.0]), torch.randn(1, 4, 16)
    base = net(x, t, ctx)
    # with every transformer weight frozen out of the picture, a pixel change still reaches the output
    # locally through the conv: only the 3x3x3 neighbourhood of the changed voxel can move
    with torch.no_grad():
        net.decoder_pred.weight.zero_()
        net.decoder_pred.bias.zero_()
        x2 = x.clone()
        x2[0, :, 4, 8, 8] += 1.0
        diff = (net(x2, t, ctx) - net(x, t, ctx)).abs().sum(dim=1)[0]
    assert diff[4, 8, 8] > 0 and diff[0, 0, 0] == 0
    assert base.shape == x.shape


def test_adaln_starts_as_the_identity_and_then_carries_the_condition():
    torch.manual_seed(0)
    plain = VideoDiffusionModel(UViTConfig(**TINY))
    mod = VideoDiffusionModel(UViTConfig(**TINY, adaln=True))
    # every weight of the plain model fits; only the zero-initialised modulations are new
    missing, unexpected = mod.load_state_dict(plain.state_dict(), strict=False)
    assert unexpected == [] and missing and all("modulation" in k for k in missing)
    x, t = torch.randn(2, 3, 8, 16, 16), torch.tensor([10.0, 700.0])
    ids = torch.tensor([[1, 9, 0, 0], [2, 9, 0, 0]])
    with torch.no_grad():
        assert torch.allclose(mod(x, t, ids), plain(x, t, ids), atol=1e-6)
        # once a modulation has weights, the pooled text reaches every block through it
        for blk in mod.uvit.blocks():
            torch.nn.init.normal_(blk.modulation[1].weight, std=0.05)
        assert not torch.allclose(mod(x, t, ids), plain(x, t, ids), atol=1e-4)
    assert forward_flops(UViTConfig(**TINY, adaln=True)) > forward_flops(UViTConfig(**TINY))
