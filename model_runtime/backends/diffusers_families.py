"""The open video models the diffusers backend knows: per family, the pipelines of each mode, the
frame and size rules, step and guidance ranges, dtype, call extras and the published latent → RGB
preview factors. A pipeline class not in the table runs through the generic adapter (family
"diffusers") when its `__call__` takes the arguments the backend passes (GENERIC_ARGS).

Frame counts and size multiples in the table are the published models'; the backend re-reads them
from the loaded VAE and transformer (`model_rules`), so a variant with other compression still
gets legal requests. This module names classes as strings: the folder check reads it without
importing diffusers.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Family:
    name: str  # "wan" | "ltx" | "diffusers"
    fps: float
    frames: int  # default clip length
    frame_step: int  # legal counts: frame_step × k + frame_offset (the VAE's temporal compression)
    frame_offset: int
    min_frames: int
    max_frames: int
    size_multiple: int  # VAE spatial compression × transformer patch
    min_side: int
    max_side: int
    default_size: tuple[int, int]  # (height, width)
    steps: tuple[int, int, int]  # min, max, default
    guidance: tuple[float, float, float]
    negative_prompt: bool = True
    cuda_dtype: str = "bfloat16"  # weights on CUDA (CPU: float32)
    vae_fp32: bool = False  # keep the VAE in float32 on CUDA (Wan's published recipe)
    fps_arg: str | None = None  # the __call__ argument that takes the frame rate (LTX: frame_rate)
    call_extras: dict[str, Any] = field(default_factory=dict)
    preview: str | None = None  # key of PREVIEW_FACTORS, when the latent channels match


WAN = Family("wan", fps=16.0, frames=81, frame_step=4, frame_offset=1, min_frames=5, max_frames=161,
             size_multiple=16, min_side=32, max_side=1280, default_size=(480, 832), steps=(1, 100, 50),
             guidance=(0.0, 20.0, 5.0), vae_fp32=True, preview="wan21")
# LTX-Video 0.9.x: 8k+1 frames at 24 fps, sides in multiples of 32 up to 1280 (720p);
# decode_timestep / decode_noise_scale are the published values for its timestep-conditioned VAE
# (ignored by a VAE without timestep conditioning)
LTX = Family("ltx", fps=24.0, frames=121, frame_step=8, frame_offset=1, min_frames=9, max_frames=257,
             size_multiple=32, min_side=32, max_side=1280, default_size=(480, 704), steps=(1, 100, 50),
             guidance=(0.0, 20.0, 3.0), fps_arg="frame_rate",
             call_extras={"decode_timestep": 0.05, "decode_noise_scale": 0.025}, preview="ltxv")
GENERIC = Family("diffusers", fps=16.0, frames=49, frame_step=4, frame_offset=1, min_frames=1, max_frames=257,
                 size_multiple=16, min_side=32, max_side=2048, default_size=(480, 832), steps=(1, 200, 50),
                 guidance=(0.0, 30.0, 5.0))

# pipeline class (model_index.json's _class_name) → (family, {mode: pipeline class that runs it});
# a second mode of the same weights is made with `from_pipe` (LTX: t2v and i2v share everything)
PIPELINES: dict[str, tuple[Family, dict[str, str]]] = {
    "WanPipeline": (WAN, {"t2v": "WanPipeline"}),
    "WanImageToVideoPipeline": (WAN, {"i2v": "WanImageToVideoPipeline"}),
    "LTXPipeline": (LTX, {"t2v": "LTXPipeline", "i2v": "LTXImageToVideoPipeline"}),
    "LTXImageToVideoPipeline": (LTX, {"t2v": "LTXPipeline", "i2v": "LTXImageToVideoPipeline"}),
}

# the native rate of known pipelines that run through the generic adapter (default GENERIC.fps)
GENERIC_FPS = {"HunyuanVideoPipeline": 24.0, "CogVideoXPipeline": 8.0, "CogVideoXImageToVideoPipeline": 8.0,
               "MochiPipeline": 30.0, "AllegroPipeline": 15.0, "LattePipeline": 8.0}

# what the backend passes every pipeline (i2v adds `image`)
GENERIC_ARGS = ("prompt", "negative_prompt", "height", "width", "num_frames", "num_inference_steps",
                "guidance_scale", "generator", "output_type", "callback_on_step_end")


def known(class_name: str) -> bool:
    return class_name in PIPELINES


def generic_modes(pipeline_cls) -> tuple[str, ...] | None:
    """The modes a pipeline class not in the table can run through the generic adapter, or None when
    its `__call__` does not take GENERIC_ARGS or needs an argument the backend cannot give (a source
    video, a control signal). A class whose call takes `image` is image-to-video."""
    try:
        params = inspect.signature(pipeline_cls.__call__).parameters
    except (TypeError, ValueError):
        return None
    if not all(a in params for a in GENERIC_ARGS):
        return None
    required = [n for n, p in params.items() if n != "self" and p.default is inspect.Parameter.empty
                and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if any(n not in ("prompt", "image") for n in required):
        return None
    return ("i2v",) if "image" in params else ("t2v",)


def resolve(class_name: str):
    """(family, {mode: pipeline class name}) of a folder's pipeline class; None when the backend
    cannot run it. Classes outside the table are looked up in diffusers (imported here, offline)."""
    if class_name in PIPELINES:
        return PIPELINES[class_name]
    if not class_name.isidentifier() or not class_name.endswith("Pipeline"):
        return None
    from model_runtime.backends import offline

    offline.ensure()
    import diffusers

    cls = getattr(diffusers, class_name, None)
    if cls is None or not isinstance(cls, type) or not issubclass(cls, diffusers.DiffusionPipeline):
        return None
    modes = generic_modes(cls)
    if modes is None:
        return None
    return GENERIC, {m: class_name for m in modes}


def call_defaults(pipeline_cls) -> dict[str, Any]:
    """The generic adapter's defaults: the pipeline's own `__call__` defaults for size, length, steps
    and guidance, where they are plain numbers."""
    params = inspect.signature(pipeline_cls.__call__).parameters
    out = {}
    for name in ("height", "width", "num_frames", "num_inference_steps", "guidance_scale"):
        p = params.get(name)
        if p is not None and isinstance(p.default, int | float) and not isinstance(p.default, bool):
            out[name] = p.default
    return out


# ---- latent → RGB preview ----------------------------------------------------------------------
# Linear maps from a family's normalised sampling latents (what the pipeline denoises: (z - mean) / std)
# to RGB in [-1, 1], as published in ComfyUI's comfy/latent_formats.py (Wan21, LTXV). A model whose
# latent channels differ gets a map fitted once at load from its own VAE (diffusers_preview.fit).
PREVIEW_FACTORS: dict[str, tuple[list[list[float]], list[float]]] = {
    "wan21": ([
        [-0.1299, -0.1692, 0.2932], [0.0671, 0.0406, 0.0442], [0.3568, 0.2548, 0.1747],
        [0.0372, 0.2344, 0.1420], [0.0313, 0.0189, -0.0328], [0.0296, -0.0956, -0.0665],
        [-0.3477, -0.4059, -0.2925], [0.0166, 0.1902, 0.1975], [-0.0412, 0.0267, -0.1364],
        [-0.1293, 0.0740, 0.1636], [0.0680, 0.3019, 0.1128], [0.0032, 0.0581, 0.0639],
        [-0.1251, 0.0927, 0.1699], [0.0060, -0.0633, 0.0005], [0.3477, 0.2275, 0.2950],
        [0.1984, 0.0913, 0.1861],
    ], [-0.1835, -0.0868, -0.3360]),
    "ltxv": ([
        [1.1202e-02, -6.3815e-04, -1.0021e-02], [8.6031e-02, 6.5813e-02, 9.5409e-04],
        [-1.2576e-02, -7.5734e-03, -4.0528e-03], [9.4063e-03, -2.1688e-03, 2.6093e-03],
        [3.7636e-03, 1.2765e-02, 9.1548e-03], [2.1024e-02, -5.2973e-03, 3.4373e-03],
        [-8.8896e-03, -1.9703e-02, -1.8761e-02], [-1.3160e-02, -1.0523e-02, 1.9709e-03],
        [-1.5152e-03, -6.9891e-03, -7.5810e-03], [-1.7247e-03, 4.6560e-04, -3.3839e-03],
        [1.3617e-02, 4.7077e-03, -2.0045e-03], [1.0256e-02, 7.7318e-03, 1.3948e-02],
        [-1.6108e-02, -6.2151e-03, 1.1561e-03], [7.3407e-03, 1.5628e-02, 4.4865e-04],
        [9.5357e-04, -2.9518e-03, -1.4760e-02], [1.9143e-02, 1.0868e-02, 1.2264e-02],
        [4.4575e-03, 3.6682e-05, -6.8508e-03], [-4.5681e-04, 3.2570e-03, 7.7929e-03],
        [3.3902e-02, 3.3405e-02, 3.7454e-02], [-2.3001e-02, -2.4877e-03, -3.1033e-03],
        [5.0265e-02, 3.8841e-02, 3.3539e-02], [-4.1018e-03, -1.1095e-03, 1.5859e-03],
        [-1.2689e-01, -1.3107e-01, -2.1005e-01], [2.6276e-02, 1.4189e-02, -3.5963e-03],
        [-4.8679e-03, 8.8486e-03, 7.8029e-03], [-1.6610e-03, -4.8597e-03, -5.2060e-03],
        [-2.1010e-03, 2.3610e-03, 9.3796e-03], [-2.2482e-02, -2.1305e-02, -1.5087e-02],
        [-1.5753e-02, -1.0646e-02, -6.5083e-03], [-4.6975e-03, 5.0288e-03, -6.7390e-03],
        [1.1951e-02, 2.0712e-02, 1.6191e-02], [-6.3704e-03, -8.4827e-03, -9.5483e-03],
        [7.2610e-03, -9.9326e-03, -2.2978e-02], [-9.1904e-04, 6.2882e-03, 9.5720e-03],
        [-3.7178e-02, -3.7123e-02, -5.6713e-02], [-1.3373e-01, -1.0720e-01, -5.3801e-02],
        [-5.3702e-03, 8.1256e-03, 8.8397e-03], [-1.5247e-01, -2.1437e-01, -2.1843e-01],
        [3.1441e-02, 7.0335e-03, -9.7541e-03], [2.1528e-03, -8.9817e-03, -2.1023e-02],
        [3.8461e-03, -5.8957e-03, -1.5014e-02], [-4.3470e-03, -1.2940e-02, -1.5972e-02],
        [-5.4781e-03, -1.0842e-02, -3.0204e-03], [-6.5347e-03, 3.0806e-03, -1.0163e-02],
        [-5.0414e-03, -7.1503e-03, -8.9686e-04], [-8.5851e-03, -2.4351e-03, 1.0674e-03],
        [-9.0016e-03, -9.6493e-03, 1.5692e-03], [5.0914e-03, 1.2099e-02, 1.9968e-02],
        [1.3758e-02, 1.1669e-02, 8.1958e-03], [-1.0518e-02, -1.1575e-02, -4.1307e-03],
        [-2.8410e-02, -3.1266e-02, -2.2149e-02], [2.9336e-03, 3.6511e-02, 1.8717e-02],
        [-1.6703e-02, -1.6696e-02, -4.4529e-03], [4.8818e-02, 4.0063e-02, 8.7410e-03],
        [-1.5066e-02, -5.7328e-04, 2.9785e-03], [-1.7613e-02, -8.1034e-03, 1.3086e-02],
        [-9.2633e-03, 1.0803e-02, -6.3489e-03], [3.0851e-03, 4.7750e-04, 1.2347e-02],
        [-2.2785e-02, -2.3043e-02, -2.6005e-02], [-2.4787e-02, -1.5389e-02, -2.2104e-02],
        [-2.3572e-02, 1.0544e-03, 1.2361e-02], [-7.8915e-03, -1.2271e-03, -6.0968e-03],
        [-1.1478e-02, -1.2543e-03, 6.2679e-03], [-5.4229e-02, 2.6644e-02, 6.3394e-03],
        [4.4216e-03, -7.3338e-03, -1.0464e-02], [-4.5013e-03, 1.6082e-03, 1.4420e-02],
        [1.3673e-02, 8.8877e-03, 4.1253e-03], [-1.0145e-02, 9.0072e-03, 1.5695e-02],
        [-5.6234e-03, 1.1847e-03, 8.1261e-03], [-3.7171e-03, -5.3538e-03, 1.2590e-03],
        [2.9476e-02, 2.1424e-02, 3.0424e-02], [-3.4925e-02, -2.4340e-02, -2.5316e-02],
        [-3.4127e-02, -2.2406e-02, -1.0589e-02], [-1.7342e-02, -1.3249e-02, -1.0719e-02],
        [-2.1478e-03, -8.6051e-03, -2.9878e-03], [1.2089e-03, -4.2391e-03, -6.8569e-03],
        [9.0411e-04, -6.6886e-03, -6.7547e-05], [1.6048e-02, -1.0057e-02, -2.8929e-02],
        [1.2290e-03, 1.0163e-02, 1.8861e-02], [1.7264e-02, 2.7257e-04, 1.3785e-02],
        [-1.3482e-02, -3.6427e-03, 6.7481e-04], [4.6782e-03, -5.2423e-03, 2.4467e-03],
        [-5.9113e-03, -6.2244e-03, -1.8162e-03], [1.5496e-02, 1.4582e-02, 1.9514e-03],
        [7.4958e-03, 1.5886e-03, -8.2305e-03], [1.9086e-02, 1.6360e-03, -3.9674e-03],
        [-5.7021e-03, -2.7307e-03, -4.1066e-03], [1.7450e-03, 1.4602e-02, 2.5794e-02],
        [-8.2788e-04, 2.2902e-03, 4.5161e-03], [1.1632e-02, 8.9193e-03, -7.2813e-03],
        [7.5721e-03, 2.6784e-03, 1.1393e-02], [5.1939e-03, 3.6903e-03, 1.4049e-02],
        [-1.8383e-02, -2.2529e-02, -2.4477e-02], [5.8842e-04, -5.7874e-03, -1.4770e-02],
        [-1.6125e-02, -8.6101e-03, -1.4533e-02], [2.0540e-02, 2.0729e-02, 6.4338e-03],
        [3.3587e-03, -1.1226e-02, -1.6444e-02], [-1.4742e-03, -1.0489e-02, 1.7097e-03],
        [2.8130e-02, 2.3546e-02, 3.2791e-02], [-1.8532e-02, -1.2842e-02, -8.7756e-03],
        [-8.0533e-03, -1.0771e-02, -1.7536e-02], [-3.9009e-03, 1.6150e-02, 3.3359e-02],
        [-7.4554e-03, -1.4154e-02, -6.1910e-03], [3.4734e-03, -1.1370e-02, -1.0581e-02],
        [1.1476e-02, 3.9281e-03, 2.8231e-03], [7.1639e-03, -1.4741e-03, -3.8066e-03],
        [2.2250e-03, -8.7552e-03, -9.5719e-03], [2.4146e-02, 2.1696e-02, 2.8056e-02],
        [-5.4365e-03, -2.4291e-02, -1.7802e-02], [7.4263e-03, 1.0510e-02, 1.2705e-02],
        [6.2669e-03, 6.2658e-03, 1.9211e-02], [1.6378e-02, 9.4933e-03, 6.6971e-03],
        [1.7173e-02, 2.3601e-02, 2.3296e-02], [-1.4568e-02, -9.8279e-03, -1.1556e-02],
        [1.4431e-02, 1.4430e-02, 6.6362e-03], [-6.8230e-03, 1.8863e-02, 1.4555e-02],
        [6.1156e-03, 3.4700e-03, -2.6662e-03], [-2.6983e-03, -5.9402e-03, -9.2276e-03],
        [1.0235e-02, 7.4173e-03, -7.6243e-03], [-1.3255e-02, 1.9322e-02, -9.2153e-04],
        [2.4222e-03, -4.8039e-03, -1.5759e-02], [2.6244e-02, 2.5951e-02, 2.0249e-02],
        [1.5711e-02, 1.8498e-02, 2.7407e-03], [-2.1714e-03, 4.7214e-03, -2.2443e-02],
        [-7.4747e-03, 7.4166e-03, 1.4430e-02], [-8.3906e-03, -7.9776e-03, 9.7927e-03],
        [3.8321e-02, 9.6622e-03, -1.9268e-02], [-1.4605e-02, -6.7032e-03, 3.9675e-03],
    ], [-0.0571, -0.1657, -0.2512]),
}
