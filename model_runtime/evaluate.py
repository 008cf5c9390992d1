"""Prompt adherence of toy-world clips, measured from the pixels alone (TOYWORLD.md, "How a clip is
scored"), and the evaluator CLI: `python -m model_runtime.evaluate --split heldout`.

The scorer never sees the prompt while measuring: `measure_clip` reads background, subject color,
shot size, shape, subject path, camera move and temporal consistency from the clip, and only
`score_clip` compares those measurements with a scene.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from contract.aspects import ASPECTS, frame_width
from contract.files import atomic_write
from contract.prompt_parser import scene_prompt
from contract.rules import DEFAULT_SAMPLER, SAMPLERS
from contract.vocabulary import SUBJECTS
from model_runtime import toyworld as tw
from model_runtime.camera_motion import _accumulate, classify_camera, estimate_camera  # noqa: F401 (re-exported)

ATTRS = ("subject", "color", "background", "size", "motion", "camera", "consistency")

_BG = np.asarray(tw.BACKGROUND_RGB, np.float32)
_COL = np.asarray(tw.COLOR_RGB, np.float32)
SUBJECT_THRESHOLD = 60.0   # background pixels stay within 50 of their mean; subjects are far from it
_LOG_SIZES = np.log(np.asarray(tw.SIZE_FRACTION))


# ---- background and subject mask -----------------------------------------------------------------
def _border(f: np.ndarray, k: int) -> np.ndarray:
    T, H, W, _ = f.shape
    return np.concatenate([f[:, :k].reshape(T, -1, 3), f[:, -k:].reshape(T, -1, 3),
                           f[:, k:-k, :k].reshape(T, -1, 3), f[:, k:-k, -k:].reshape(T, -1, 3)], axis=1)


def _background_class(f: np.ndarray) -> int:
    """Nearest background mean to the frame borders (per-channel median: a subject crossing the
    border is a minority of the border pixels over a clip)."""
    k = max(1, f.shape[1] // 16)
    med = np.median(_border(f, k).reshape(-1, 3), axis=0)
    return int(np.argmin(np.linalg.norm(_BG - med, axis=1)))


def _local_background(f: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Per frame, a linear color field fitted to the pixels near the background color: the local
    background, with the background's gradient removed."""
    T, H, W, _ = f.shape
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    A = np.stack([np.ones(H * W, np.float32), (xx.ravel() - W / 2) / H, (yy.ravel() - H / 2) / H], 1)
    F = f.reshape(T, H * W, 3)
    w = (np.linalg.norm(F - ref, axis=-1) < SUBJECT_THRESHOLD).astype(np.float32)  # T×N
    WA = (w[:, :, None] * A[None]).transpose(0, 2, 1)  # T×3×N
    AtA = WA @ A + 1e-3 * np.eye(3, dtype=np.float32)
    beta = np.linalg.solve(AtA, WA @ F)  # T×3×3
    # a frame with no background left falls back to the flat reference color
    empty = w.sum(1) < 8
    fit = A @ beta
    fit[empty] = ref
    return fit.reshape(T, H, W, 3)


def _clean(mask: np.ndarray, min_area: float) -> np.ndarray:
    """Drop specks: components smaller than min_area or 5% of the frame's largest one."""
    out = np.zeros_like(mask)
    for t in range(mask.shape[0]):
        n, lab, stats, _ = cv2.connectedComponentsWithStats(mask[t].astype(np.uint8), connectivity=8)
        if n <= 1:
            continue
        areas = stats[1:, cv2.CC_STAT_AREA]
        lut = np.concatenate([[False], areas >= max(min_area, 0.05 * areas.max())])
        out[t] = lut[lab]
    return out


def _subject_mask(f: np.ndarray, fit: np.ndarray):
    """Pixels far from the local background. A second pass puts the cut at half the subject's own
    contrast, so an anti-aliased edge counts where it is at least half covered."""
    resid = np.linalg.norm(f - fit, axis=-1)
    first = resid > SUBJECT_THRESHOLD
    if not first.any():
        return first, resid
    thr = max(SUBJECT_THRESHOLD, 0.5 * float(np.median(resid[first])))
    mask = _clean(resid > thr, 2.0 * (f.shape[1] / 32) ** 2)
    return mask, resid


# ---- subject geometry -----------------------------------------------------------------------------
def _boxes(mask: np.ndarray):
    """Per frame bounding boxes [x0, x1) × [y0, y1) in pixels, NaN where the subject is absent."""
    T = mask.shape[0]
    box = np.full((T, 4), np.nan)
    cols = mask.any(axis=1)
    rows = mask.any(axis=2)
    for t in range(T):
        xs, ys = np.nonzero(cols[t])[0], np.nonzero(rows[t])[0]
        if len(xs):
            box[t] = (xs[0], xs[-1] + 1, ys[0], ys[-1] + 1)
    return box


def _centres(lo, hi, limit, S):
    """Centre of the subject along one axis, in frame-0 pixels, using an uncut edge and the subject's
    extent where the frame cuts the other edge (a close-up may run off the frame)."""
    cut_lo, cut_hi = lo <= 0, hi >= limit
    ext0 = (hi - lo) / S
    whole = ~cut_lo & ~cut_hi & np.isfinite(lo)
    extent = float(np.median(ext0[whole])) if whole.any() else np.nan
    c = (lo + hi) / 2
    if np.isfinite(extent):
        c = np.where(cut_lo & ~cut_hi, hi - extent * S / 2, c)
        c = np.where(cut_hi & ~cut_lo, lo + extent * S / 2, c)
    c = np.where(cut_lo & cut_hi, np.nan, c)
    return c, extent, whole


def classify_motion(x: np.ndarray, y: np.ndarray) -> int | None:
    """Subject path in world units of H (camera removed) → motion index."""
    ok = np.isfinite(x) & np.isfinite(y)
    if ok.sum() < 3:
        return None
    t = np.nonzero(ok)[0]
    xv, yv = x[ok], y[ok]
    # bouncing: falls (y grows) to a low point, then rises again by a clear margin
    run_max = np.maximum.accumulate(yv)
    rebound = run_max - yv
    k = int(np.argmax(rebound))
    peak = int(np.argmax(yv[: k + 1]))
    if yv[peak] - yv[0] > 0.1 and rebound[k] > 0.08:
        return 5
    span = (len(x) - 1)
    dx = np.polyfit(t, xv, 1)[0] * span
    dy = np.polyfit(t, yv, 1)[0] * span
    if max(abs(dx), abs(dy)) < 0.4 * tw.TRAVEL:
        return 0
    if abs(dx) >= abs(dy):
        return 1 if dx < 0 else 2
    return 3 if dy < 0 else 4


_UNMIX = np.concatenate([_COL, np.asarray([tw.DARK_RGB], np.float32)])


def _unmix(pix: np.ndarray, bg: np.ndarray):
    """For pixels = a·C + (1-a)·B (B the local background), the palette color C (or the dark parts'
    color, index 7) that explains each best, and its coverage a."""
    v = _UNMIX[None] - bg[:, None]                     # N×8×3
    dp = (pix - bg)[:, None]
    a = np.clip((dp * v).sum(-1) / np.maximum((v * v).sum(-1), 1.0), 0.0, 1.0)
    r = np.linalg.norm(dp - a[..., None] * v, axis=-1)
    k = np.argmin(r, axis=1)
    return k, a[np.arange(len(k)), k]


def _votes(kind: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    return np.bincount(kind, weights=alpha, minlength=len(_UNMIX))[: len(_COL)]


def _size_class(frac: float) -> int:
    return int(np.argmin(np.abs(_LOG_SIZES - math.log(max(frac, 1e-3)))))


def _shape(f: np.ndarray, fit: np.ndarray, box: np.ndarray, color: np.ndarray, whole: np.ndarray) -> int | None:
    """Analysis by synthesis: redraw every subject at the measured box and color over the local
    background, and keep the one closest to the pixels, in the frame where the subject is largest."""
    H = f.shape[1]
    heights = np.where(whole, box[:, 3] - box[:, 2], -1)
    t = int(np.argmax(heights))
    if heights[t] < 6:
        return None
    x0, x1, y0, y1 = box[t]
    ext = y1 - y0
    m = 2
    r0, r1 = int(max(0, y0 - m)), int(min(H, y1 + m))
    c0, c1 = int(max(0, x0 - m)), int(min(f.shape[2], x1 + m))
    obs = f[t, r0:r1, c0:c1]
    bg = fit[t, r0:r1, c0:c1]
    ys, xs = np.mgrid[r0:r1, c0:c1].astype(np.float32) + 0.5
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2

    def errors(subjects, variants):
        sc, oy, ox = (np.asarray(v, np.float32) for v in zip(*variants, strict=True))
        hh = (ext * sc)[:, None, None]
        lx = (xs[None] - (cx + ox)[:, None, None]) / hh
        ly = (ys[None] - (cy + oy * ext)[:, None, None]) / hh
        pix = 1.0 / hh
        out = {}
        for subject in subjects:
            img = np.broadcast_to(bg, lx.shape + (3,)).copy()
            for sdf, rgb in tw.subject_layers(subject, color, lx, ly):
                a = np.clip(0.5 - sdf / pix, 0.0, 1.0)[..., None]
                img += a * (np.asarray(rgb, np.float32) - img)
            out[subject] = float(np.minimum(np.linalg.norm(img - obs, axis=-1), 150.0).mean(axis=(1, 2)).min())
        return out

    # Coarse (size only) for all subjects, then sub-pixel placement for the three best. The larger
    # sizes allow for dark parts that vanish on a dark background (wheels, hull, caps at night).
    coarse = errors(range(len(SUBJECTS)), [(1.0, 0, 0), (1.08, 0.04, 0), (1.16, 0.07, 0)])
    finalists = sorted(coarse, key=coarse.get)[:3]
    grid = [(a, b, c) for a in (1.0, 1.08, 1.16) for b in (-0.07, 0.0, 0.07) for c in (-0.4, 0.0, 0.4)]
    fine = errors(finalists, grid)
    return min(fine, key=fine.get)


# ---- the measurement ------------------------------------------------------------------------------
def subject_mask(clip: np.ndarray) -> np.ndarray:
    """T×H×W: the pixels the scorer reads as the subject (far from the local background)."""
    f = np.asarray(clip).astype(np.float32)
    return _subject_mask(f, _local_background(f, _BG[_background_class(f)]))[0]


def measure_clip(clip: np.ndarray) -> dict:
    """Everything the scorer reads from a clip (uint8 T×H×W×3, at its native size)."""
    clip = np.asarray(clip)
    if clip.ndim != 4 or clip.shape[-1] != 3:
        raise ValueError(f"expected a T×H×W×3 clip, got shape {clip.shape}")
    f = clip.astype(np.float32)
    T, H, W, _ = f.shape
    bg = _background_class(f)
    fit = _local_background(f, _BG[bg])
    mask, _ = _subject_mask(f, fit)
    s, d = estimate_camera(f, mask)
    S, D = _accumulate(s, d)
    camera = classify_camera(S, D, H)
    out: dict = {"background": bg, "camera": camera, "camera_zoom": float(S[-1]),
                 "camera_shift": [float(D[-1, 0] / H), float(D[-1, 1] / H)],
                 "color": None, "color_rgb": None, "size": None, "size_fraction": None, "subject": None,
                 "motion": None, "path": None, "consistent": None, "visible_frames": 0}
    box = _boxes(mask)
    visible = np.isfinite(box[:, 0])
    out["visible_frames"] = int(visible.sum())
    if not visible.any():
        return out

    # color: every subject pixel is unmixed against the local background (anti-aliased edges are
    # part background) and votes, by its coverage, for its palette color; dark parts do not vote.
    kind, alpha = _unmix(f[mask], fit[mask])
    votes = _votes(kind, alpha)
    out["color"] = int(np.argmax(votes)) if votes.sum() > 0 else 5
    med = np.median(f[mask], axis=0)
    out["color_rgb"] = [float(v) for v in med]

    # geometry in frame-0 pixels, then in H units at the middle frame's zoom
    mid = (T - 1) / 2
    S_mid = float(np.exp(np.interp(mid, np.arange(T), np.log(S))))
    cxs, _, whole_x = _centres(box[:, 0], box[:, 1], W, S)
    cys, ext_y, whole_y = _centres(box[:, 2], box[:, 3], H, S)
    c = np.array([W / 2, H / 2])
    x0 = (c[0] + (cxs - c[0] - D[:, 0]) / S - c[0]) * S_mid / H
    y0 = (c[1] + (cys - c[1] - D[:, 1]) / S - c[1]) * S_mid / H
    out["path"] = [[float(a), float(b)] for a, b in zip(x0, y0, strict=True)]
    out["motion"] = classify_motion(x0, y0)

    heights = (box[:, 3] - box[:, 2]) / S * S_mid / H
    if whole_y.any():
        frac = float(np.median(heights[whole_y]))
    else:
        frac = float(np.nanmax(heights))  # cut in every frame: at least this tall
    out["size_fraction"] = frac
    out["size"] = _size_class(frac)
    out["subject"] = _shape(f, fit, box, _COL[out["color"]], whole_x & whole_y)

    # temporal consistency: the same color and the same size (zoom removed) all through the clip
    # (color as the mix of palette votes, so a two-tone panda is stable too)
    area = mask.sum(axis=(1, 2))
    big = np.nonzero(visible & (area >= 0.3 * area.max()))[0]
    frame_of = np.nonzero(mask)[0]
    whole_mix = votes / max(votes.sum(), 1e-6)
    drift = []
    for t in big:
        v = _votes(kind[frame_of == t], alpha[frame_of == t])
        drift.append(np.abs(v / max(v.sum(), 1e-6) - whole_mix).sum())
    same_color = np.mean(np.asarray(drift) <= 0.6) >= 0.8
    # (size within 30%, or within 1.5 px where a small subject's pixel grid is the limit)
    hs = heights[whole_y]
    tol = max(math.log(1.3), math.log1p(1.5 / max(frac * H, 1.0)))
    same_size = len(hs) < 2 or np.mean(np.abs(np.log(hs / frac)) < tol) >= 0.8
    out["consistent"] = bool(same_color and same_size and visible.mean() >= 0.75)
    return out


def score_clip(clip: np.ndarray, scene: tw.Scene, measured: dict | None = None) -> dict:
    """attr → True/False (measured value equals the scene's), or None where not scored."""
    m = measured if measured is not None else measure_clip(clip)
    out: dict = {}
    for attr in ATTRS:
        if not tw.is_scored(attr, scene):
            out[attr] = None
        elif attr == "consistency":
            out[attr] = bool(m["consistent"])
        else:
            out[attr] = m[attr] is not None and m[attr] == getattr(scene, attr)
    return out


def background_roughness(clips, scenes, seeds) -> dict:
    """Mean background roughness (picture_quality.roughness, the subject masked as the scorer sees it)
    of the clips and of the renderer's clips of the same scenes and seeds at the same size and aspect."""
    from model_runtime.picture_quality import roughness

    ours, truth = [], []
    for clip, scene, seed in zip(clips, scenes, seeds, strict=True):
        t, h, w, _ = clip.shape
        aspect = min(ASPECTS, key=lambda a: abs(frame_width(h, a) - w))
        gt = tw.render(scene, seed, size=h, frames=t, aspect=aspect)
        ours.append(roughness(clip, subject_mask(clip)))
        truth.append(roughness(gt, subject_mask(gt)))
    a, b = float(np.nanmean(ours)), float(np.nanmean(truth))
    return {"clips": a, "renderer": b, "ratio": a / b if b > 0 else float("nan")}


def evaluate_clips(clips, scenes) -> dict:
    """Score many clips; per-attribute adherence = correct / scored."""
    per_clip = []
    tally = {a: [0, 0] for a in ATTRS}
    for clip, scene in zip(clips, scenes, strict=True):
        m = measure_clip(clip)
        sc = score_clip(clip, scene, m)
        for a, v in sc.items():
            if v is not None:
                tally[a][0] += 1
                tally[a][1] += int(v)
        per_clip.append({"scene": scene.__dict__.copy(), "prompt": scene_prompt(scene),
                         "scores": sc, "measured": m})
    attrs = {a: {"scored": n, "correct": k, "adherence": (k / n if n else None)} for a, (n, k) in tally.items()}
    rates = [v["adherence"] for v in attrs.values() if v["adherence"] is not None]
    return {"n": len(per_clip), "attributes": attrs, "mean_adherence": float(np.mean(rates)) if rates else None,
            "clips": per_clip}


# ---- CLI ------------------------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2 (argparse would print the usage too)
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(2)


class EvalError(Exception):
    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind, self.message = kind, message


def _generate(prompts: list[str], seeds: list[int], args) -> tuple[list[np.ndarray], dict]:
    """Clips from the model (imported here: --ground-truth must work without torch)."""
    from tqdm import tqdm

    from model_runtime.errors import RuntimeUserError
    from model_runtime.pipeline import GenerationRequest, Generator

    try:
        gen = Generator(checkpoint=args.checkpoint, device=args.device)
        reqs = [GenerationRequest(prompt=p, seed=s, steps=args.steps, sampler=args.sampler, guidance=args.guidance,
                                  aspect=args.aspect) for p, s in zip(prompts, seeds, strict=True)]
        clips: list[np.ndarray] = []
        batched = getattr(gen, "generate_batch", None)
        with tqdm(total=len(reqs), desc="generating", unit="clip", file=sys.stderr) as bar:
            for i in range(0, len(reqs), args.batch):
                chunk = reqs[i:i + args.batch]
                clips.extend(batched(chunk) if batched else [gen.generate(r) for r in chunk])
                bar.update(len(chunk))
    except RuntimeUserError as e:
        raise EvalError(e.kind, e.message) from None
    return clips, dict(gen.info)


def _table(res: dict) -> str:
    lines = [f"{'attribute':<13}{'scored':>8}{'adherence':>11}"]
    for a, v in res["attributes"].items():
        rate = "-" if v["adherence"] is None else f"{100 * v['adherence']:.1f}%"
        lines.append(f"{a:<13}{v['scored']:>8}{rate:>11}")
    if res["mean_adherence"] is not None:
        lines.append(f"{'mean':<13}{'':>8}{100 * res['mean_adherence']:>10.1f}%")
    return "\n".join(lines)


def _write_json(doc: dict, path: Path) -> None:
    atomic_write(path, json.dumps(doc, indent=1, ensure_ascii=False))


def main(argv: list[str] | None = None) -> int:
    ap = _Parser(prog="python -m model_runtime.evaluate",
                 description="Prompt adherence of the model (or of the renderer) on toy-world scenes.")
    ap.add_argument("--checkpoint", help="model checkpoint (default: the bundled model)")
    ap.add_argument("--split", choices=["heldout", "train"], default="heldout")
    ap.add_argument("--n", type=int, default=200, help="number of scenes")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--sampler", default=DEFAULT_SAMPLER, choices=list(SAMPLERS))
    ap.add_argument("--guidance", type=float, default=3.0)
    ap.add_argument("--seed", type=int, default=0, help="draws the scenes and the clips' seeds")
    ap.add_argument("--lang", choices=["en", "zh"], default="en", help="language of the prompts")
    ap.add_argument("--json", help="write the full results here")
    ap.add_argument("--ground-truth", action="store_true", help="score the renderer's own clips (the ceiling)")
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    ap.add_argument("--batch", type=int, default=16, help="clips generated at once")
    ap.add_argument("--aspect", choices=list(ASPECTS), default=None,
                    help="frame aspect (default: the model's own; the renderer's 1:1)")
    ap.add_argument("--height", type=int, default=32, help="--ground-truth: frame height in pixels")
    args = ap.parse_args(argv)
    try:
        if args.n < 1 or args.batch < 1:
            raise EvalError("bad_argument", "--n and --batch must be at least 1")
        if not 0 <= args.seed < 2**63:
            raise EvalError("bad_argument", f"--seed must be a non-negative integer, got {args.seed}")
        out = Path(args.json) if args.json else None
        if out is not None and not out.parent.is_dir():
            raise EvalError("bad_output", f"folder {str(out.parent)!r} does not exist")
        rng = np.random.default_rng(args.seed)
        scenes = [tw.sample_scene(rng, args.split) for _ in range(args.n)]
        seeds = [int(v) for v in rng.integers(0, 2**31, size=args.n)]
        prompts = [scene_prompt(s, args.lang) for s in scenes]
        t0 = time.perf_counter()
        if args.ground_truth:
            if not 16 <= args.height <= 1024:
                raise EvalError("bad_argument", "--height must be between 16 and 1024")
            clips = [tw.render(s, k, size=args.height, aspect=args.aspect or "1:1")
                     for s, k in zip(scenes, seeds, strict=True)]
            info = {"model_id": "ground-truth renderer"}
        else:
            clips, info = _generate(prompts, seeds, args)
        t1 = time.perf_counter()
        res = evaluate_clips(clips, scenes)
        res["roughness"] = background_roughness(clips, scenes, seeds)
        t2 = time.perf_counter()
        for c, p, k in zip(res["clips"], prompts, seeds, strict=True):
            c["prompt"], c["seed"] = p, k
    except EvalError as e:
        print(f"error: {e.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("cancelled", file=sys.stderr)
        return 130
    what = "ground truth" if args.ground_truth else info.get("model_id", "model")
    print(f"{what}, split {args.split}, {args.n} clips "
          f"(generate {t1 - t0:.1f} s, score {t2 - t1:.1f} s)")
    print(_table(res))
    r = res["roughness"]
    print(f"background roughness {r['clips']:.2f}, the renderer's {r['renderer']:.2f} at the same size: {r['ratio']:.2f}×")
    if out is not None:
        settings = {k: getattr(args, k) for k in ("split", "n", "steps", "sampler", "guidance", "seed", "lang",
                                                  "checkpoint", "ground_truth")}
        info = {k: v for k, v in info.items() if k != "config"} | {"config": info.get("config")}
        try:
            _write_json({"settings": settings, "model": info, "timings": {"generate_s": t1 - t0, "score_s": t2 - t1},
                         **res}, out)
        except OSError as e:
            print(f"error: cannot write {out}: {e.strerror or e}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
