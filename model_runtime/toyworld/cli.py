"""`python -m model_runtime.toyworld --prompt ... --seed N --out x.npy|x.mp4`: the ground-truth clip
of a prompt. A user mistake is one line on stderr and exit code 2; no half-written file is left."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from contract.aspects import ASPECTS, frame_width
from contract.errors import ToyworldError
from contract.files import atomic_path
from contract.prompt_parser import parse_prompt, scene_prompt
from model_runtime.toyworld.motion import FPS
from model_runtime.toyworld.render import render
from model_runtime.toyworld.scenes import complete_scene


def write_clip(clip: np.ndarray, path: str | Path) -> None:
    """.npy: the clip as it is (uint8 T×H×W×3); .mp4: H.264 upscaled for viewing (video_io's rule)."""
    path = Path(path)
    if path.suffix.lower() == ".npy":
        with atomic_path(path) as tmp:
            np.save(tmp, clip)
    else:
        from model_runtime.video_io import write_mp4  # cv2 and ffmpeg: only when a video is asked for

        with atomic_path(path) as tmp:
            write_mp4(tmp, clip, fps=FPS)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m model_runtime.toyworld",
                                 description="Render a ground-truth toy-world clip from a prompt.")
    ap.add_argument("--prompt", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--height", "--size", dest="size", type=int, default=32,
                    help="frame height in pixels (>= 16); the width follows --aspect")
    ap.add_argument("--aspect", default="1:1", choices=list(ASPECTS), help="frame aspect (width:height)")
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--out", required=True, help="output .npy (uint8 T×H×W×3) or .mp4")
    args = ap.parse_args(argv)
    try:
        out = Path(args.out)
        if out.suffix.lower() not in (".npy", ".mp4"):
            raise ToyworldError("bad_output", f"--out must end in .npy or .mp4, got {args.out!r}")
        if not out.parent.is_dir():
            raise ToyworldError("bad_output", f"folder {str(out.parent)!r} does not exist")
        if not 0 <= args.seed < 2**63:
            raise ToyworldError("bad_seed", f"seed must be a non-negative integer, got {args.seed}")
        if args.frames > 10_000 or args.size > 1024:
            raise ToyworldError("too_large", "at most 10000 frames of at most 1024 px")
        if args.frames * args.size * frame_width(args.size, args.aspect) > 2**31:
            raise ToyworldError("too_large", "that clip would not fit in memory; use fewer frames or a smaller height")
        parsed = parse_prompt(args.prompt)
        if parsed.unknown:
            print(f"warning: ignored words not in the toy world's vocabulary: {', '.join(parsed.unknown)}",
                  file=sys.stderr)
        scene = complete_scene(parsed, np.random.default_rng([args.seed, 1]))
        clip = render(scene, args.seed, size=args.size, frames=args.frames, aspect=args.aspect)
        write_clip(clip, out)
    except ToyworldError as e:
        print(f"error: {e.message}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"error: cannot write {args.out}: {e.strerror or e}", file=sys.stderr)
        return 2
    print(f"{scene_prompt(scene)} -> {out}")
    return 0
