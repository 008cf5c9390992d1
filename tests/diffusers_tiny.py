"""Tiny random-weight diffusers video pipelines, built from small configs and saved as safetensors
folders: Wan 2.1 text-to-video and image-to-video (with a tiny CLIP vision encoder) and LTX-Video.
For the diffusers backend's tests and benchmarks (benchmarks/bench_diffusers_overhead.py,
benchmarks/gpu_backends.py). Importing it sets the Hugging Face offline switches
(model_runtime.backends.offline); diffusers / transformers are imported only inside the builders.
Measured: each folder is ~0.3-0.7 MB and makes 9 frames at 48×32 in well under a second on a CPU.
"""

from __future__ import annotations

from pathlib import Path

import torch

from model_runtime.backends import offline

WORDS = ["<pad>", "</s>", "<unk>"] + "a red blue ball cat dog moves left right at night day in the park".split()


def _tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(WORDS)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")


def _t5(cls_name):
    import transformers

    cfg_cls = transformers.UMT5Config if cls_name == "UMT5EncoderModel" else transformers.T5Config
    cfg = cfg_cls(vocab_size=len(WORDS), d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4,
                  relative_attention_num_buckets=8)
    return getattr(transformers, cls_name)(cfg)


def _wan_parts(in_channels=16, image_dim=None):
    from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler, WanTransformer3DModel

    torch.manual_seed(0)
    vae = AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                           temperal_downsample=[False, True, True])
    transformer = WanTransformer3DModel(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12,
                                        in_channels=in_channels, out_channels=16, text_dim=32, freq_dim=256,
                                        ffn_dim=32, num_layers=2, cross_attn_norm=True,
                                        qk_norm="rms_norm_across_heads", rope_max_seq_len=32, image_dim=image_dim)
    return dict(tokenizer=_tokenizer(), text_encoder=_t5("UMT5EncoderModel"), vae=vae,
                scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0), transformer=transformer)


def _build_wan(folder):
    from diffusers import WanPipeline

    WanPipeline(**_wan_parts()).save_pretrained(folder, safe_serialization=True)


def _build_wan_i2v(folder):
    """Wan 2.1 image-to-video: 36 input channels and a (tiny) CLIP vision encoder for the image."""
    from diffusers import WanImageToVideoPipeline
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    parts = _wan_parts(in_channels=36, image_dim=4)
    encoder = CLIPVisionModelWithProjection(CLIPVisionConfig(
        hidden_size=4, projection_dim=4, num_hidden_layers=2, num_attention_heads=2, image_size=32,
        intermediate_size=16, patch_size=1))
    WanImageToVideoPipeline(**parts, image_encoder=encoder, image_processor=CLIPImageProcessor(
        crop_size=32, size=32)).save_pretrained(folder, safe_serialization=True)


def _build_ltx(folder):
    """LTX-Video's shape (32× spatial and 8× temporal compression, packed latents) at toy width. The
    decoder is causal and the encoder confident (log-variance −30), so a clip's first frame is exactly
    what this VAE makes of the conditioning image: what image-to-video can promise of random weights."""
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXPipeline,
        LTXVideoTransformer3DModel,
    )

    torch.manual_seed(0)
    vae = AutoencoderKLLTXVideo(
        latent_channels=8, block_out_channels=(8, 8, 8, 8), decoder_block_out_channels=(8, 8, 8, 8),
        layers_per_block=(1, 1, 1, 1, 1), decoder_layers_per_block=(1, 1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, True, False), decoder_spatio_temporal_scaling=(True, True, True, False),
        decoder_inject_noise=(False,) * 5, upsample_residual=(False,) * 4, upsample_factor=(1,) * 4,
        patch_size=4, patch_size_t=1, encoder_causal=True, decoder_causal=True)
    with torch.no_grad():
        vae.encoder.conv_out.conv.weight[-1] = 0
        vae.encoder.conv_out.conv.bias[-1] = -30.0
    transformer = LTXVideoTransformer3DModel(in_channels=8, out_channels=8, patch_size=1, patch_size_t=1,
                                             num_attention_heads=4, attention_head_dim=8, cross_attention_dim=32,
                                             num_layers=1, caption_channels=32)
    LTXPipeline(scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae, text_encoder=_t5("T5EncoderModel"),
                tokenizer=_tokenizer(), transformer=transformer).save_pretrained(folder, safe_serialization=True)


BUILDERS = {"wan": _build_wan, "wan_i2v": _build_wan_i2v, "ltx": _build_ltx}


def build(kind: str, folder: str | Path) -> Path:
    """Save the tiny `kind` pipeline ("wan", "wan_i2v" or "ltx") to `folder`; returns the folder."""
    offline.ensure()
    import transformers

    transformers.utils.logging.disable_progress_bar()  # "Writing model shards" on every save
    folder = Path(folder)
    BUILDERS[kind](folder)
    return folder
