"""Generate a clip from a prompt: `python -m model_runtime.generate --prompt "..." --out clip.mp4|clip.npy`.

`.npy` is uint8 T×H×W×3 at the model's native size; `.mp4` is upscaled for viewing. The bundled U-ViT
(or `--checkpoint FILE`), or an open video model from a local diffusers folder (`--model DIR`, with
`--frames N --width W --height H`: model_runtime.backends).
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

import numpy as np

from contract.aspects import ASPECTS
from contract.files import atomic_path
from contract.request import RequestError
from contract.rules import DEFAULT_SAMPLER, SAMPLERS
from model_runtime.errors import RuntimeUserError


def _fail(msg: str) -> int:
    print(f"error: {msg}", file=sys.stderr)
    return 2


def write_clip(path: Path, frames: np.ndarray, fps: float) -> None:
    """Atomic (contract.files): nothing is left on failure."""
    from model_runtime import video_io

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        if path.suffix == ".npy":
            np.save(tmp, frames, allow_pickle=False)
        else:
            video_io.write_mp4(tmp, frames, fps)


def _backend(args):
    """The generator class: --model is always a diffusers folder (checked as one); a --checkpoint
    folder too, a file (or nothing: the bundled model) the U-ViT (model_runtime.backends)."""
    import importlib

    from model_runtime.backends import DIFFUSERS, generator_spec

    spec = DIFFUSERS if args.model else generator_spec(args.checkpoint)
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def main(argv: list[str] | None = None) -> int:
    """SIGINT and SIGTERM stop the run the same way: the clip is written atomically (contract.files),
    so a stopped run leaves nothing; one line, exit 130 / 143."""
    got: list[int] = []

    def stop(signum, _frame) -> None:
        got.append(signum)
        raise KeyboardInterrupt

    old = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        return _main(argv)
    except KeyboardInterrupt:
        signum = got[0] if got else signal.SIGINT
        print(f"cancelled ({signal.Signals(signum).name}); nothing was written", file=sys.stderr)
        return 128 + signum
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _main(argv: list[str] | None) -> int:
    ap = argparse.ArgumentParser(prog="python -m model_runtime.generate", description=__doc__.splitlines()[0])
    ap.add_argument("--prompt", required=True)
    ap.add_argument("--negative-prompt", default="")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=None, help="sampler steps (default: the model's; U-ViT 20)")
    ap.add_argument("--sampler", default=DEFAULT_SAMPLER, choices=list(SAMPLERS))
    ap.add_argument("--guidance", type=float, default=None, help="classifier-free guidance (default: the model's)")
    ap.add_argument("--frames", type=int, default=None, help="longer than the model's clip = chained extend")
    ap.add_argument("--image", help="first frame (PNG/JPEG): image-to-video")
    ap.add_argument("--extend", help="clip (.npy/.mp4) whose last frames open the new one")
    ap.add_argument("--video", help="source clip for video-to-video")
    ap.add_argument("--strength", type=float, default=0.6, help="video-to-video noise strength (0, 1]")
    ap.add_argument("--aspect", default=None, choices=list(ASPECTS),
                    help="frame aspect (default: the model's first, 16:9 for a latent model); the model's "
                         "native size for it is written")
    ap.add_argument("--checkpoint", default=None, help="a U-ViT checkpoint (.safetensors)")
    ap.add_argument("--model", default=None, metavar="DIR",
                    help="an open video model: a local diffusers folder (with model_index.json)")
    ap.add_argument("--width", type=int, default=None, help="frame width (a model of free size; with --height)")
    ap.add_argument("--height", type=int, default=None, help="frame height (with --width)")
    ap.add_argument("--random-init", action="store_true", help="untrained model, for plumbing tests")
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    ap.add_argument("--out", required=True)
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)

    out = Path(args.out)
    if out.suffix not in (".mp4", ".npy"):
        return _fail(f"--out must end in .mp4 or .npy, got {out.name!r}")
    modes = [m for m, v in (("i2v", args.image), ("extend", args.extend), ("v2v", args.video)) if v]
    if len(modes) > 1:
        return _fail("use only one of --image, --extend and --video")
    if args.model and (args.checkpoint or args.random_init):
        return _fail("use --model DIR or --checkpoint / --random-init, not both")
    try:
        from model_runtime import video_io
        from model_runtime.pipeline import GenerationRequest, Generator, validate

        image = video = None
        for name, p in (("--image", args.image), ("--extend", args.extend), ("--video", args.video)):
            if p and not Path(p).exists():
                return _fail(f"{name} file not found: {p}")
        try:
            if args.image:
                image = video_io.read_image(args.image)
            if args.extend or args.video:
                video = video_io.read_video(args.extend or args.video)
        except (ValueError, OSError, RuntimeError) as e:
            return _fail(str(e).splitlines()[0])
        gen = _backend(args)(checkpoint=args.model or args.checkpoint, device=args.device,
                             random_init=args.random_init)
        caps = getattr(gen, "capabilities", None)  # contract.capabilities: the model's defaults
        guidance = args.guidance if args.guidance is not None else float(
            caps.guidance[2] if caps else gen.info.get("config", {}).get("extra", {}).get("guidance", 3.0))
        steps = args.steps if args.steps is not None else (caps.steps[2] if caps else 20)
        req = GenerationRequest(prompt=args.prompt, negative_prompt=args.negative_prompt, seed=args.seed,
                                steps=steps, sampler=args.sampler, guidance=guidance, frames=args.frames,
                                mode=modes[0] if modes else "t2v", image=image, video=video, strength=args.strength,
                                aspect=args.aspect, width=args.width, height=args.height)
        if isinstance(gen, Generator):
            validate(req, gen.cfg.frames, gen.cfg.aspect_names)
            if caps is not None and req.width is not None:  # a size it must make natively
                try:
                    req.validate_for(caps)
                except RequestError as e:
                    return _fail(e.message)
        else:
            gen.validate(req)
        unknown = gen.unknown_words(args.prompt)
        if unknown:
            print(f"warning: words the model does not know (ignored): {', '.join(unknown)}", file=sys.stderr)
        bar = None
        if not args.quiet:
            from tqdm import tqdm
            bar = tqdm(unit="step", file=sys.stderr, dynamic_ncols=True)

        def progress(step, total, _preview):
            if bar is not None:
                bar.total = total
                bar.n = step
                bar.refresh()
            return False

        try:
            frames = gen.generate(req, callback=progress)
        finally:
            if bar is not None:
                bar.close()
        write_clip(out, frames, float(gen.info["fps"]))
    except RuntimeUserError as e:
        return _fail(str(e))
    if not args.quiet:
        print(f"{out}: {frames.shape[0]} frames, {frames.shape[2]}×{frames.shape[1]} native, "
              f"{gen.info['model_id']} on {gen.info['device']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
