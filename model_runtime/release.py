"""Ship a trained run as the bundled model: fp16 checkpoint in assets/models/ plus a model card with
its evaluation table.

    python -m model_runtime.release --run runs/toy_small [--n 64] [--guidance 3] [--no-eval]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from model_runtime import checkpoint as ckpt
from model_runtime import evaluate

SETTINGS = [("dpmpp_2m", 10), ("dpmpp_2m", 20), ("dpmpp_2m", 50), ("ddpm", 250)]
ADALN = """
- Global conditions also take a direct path: each block's two LayerNorms are scaled and shifted by a
  projection of (time embedding + mean of the text tokens), as in DiT's adaLN, zero-initialised. The
  tokens stay in the sequence as U-ViT has them."""
LAYOUT = """
- Layout: a planner (a bag of its own word embeddings and an MLP) predicts the per-frame camera centre and zoom and
  the subject's centre and box; the U-ViT sees that layout as 4 extra input channels (presence, the
  world x and y of every pixel, the subject's box), patchified into the same video tokens. Training
  feeds the layout annotated on each clip (and scores the planner against it); sampling feeds the
  planner's. An empty prompt has no layout (all zeros), so guidance also pushes toward the plan.
  `model_runtime/layout.py` says why: a pixel loss teaches colours long before motion words."""
ANCHORED = """
- Anchored noise: the diffusion noise is read from Gaussian fields fixed in the world and on the
  subject through the layout (the annotated one for {p:g} of the training clips, the planner's at
  sampling, ddpm's fresh noise too), so what the model draws out of the noise moves with the camera
  and the subject, as in noise warping (Go-with-the-Flow). Every frame is still N(0, 1) per pixel.
  `model_runtime/anchored_noise.py`."""
ATTRS = ("background", "color", "size", "subject", "motion", "camera", "consistency")


def run_evals(checkpoint: Path, n: int, guidance: float, splits=("heldout", "train")) -> dict:
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for split in splits:
            for sampler, steps in SETTINGS:
                out = Path(tmp) / f"{split}-{sampler}-{steps}.json"
                code = evaluate.main(["--checkpoint", str(checkpoint), "--split", split, "--n", str(n),
                                      "--steps", str(steps), "--sampler", sampler, "--guidance", str(guidance),
                                      "--json", str(out), "--batch", "32"])
                if code:
                    raise SystemExit(code)
                doc = json.loads(out.read_text())
                results[f"{split} {sampler} {steps}"] = {
                    "split": split, "sampler": sampler, "steps": steps,
                    "adherence": {a: v["adherence"] for a, v in doc["attributes"].items()},
                    "scored": {a: v["scored"] for a, v in doc["attributes"].items()},
                    "generate_s": doc["timings"]["generate_s"],
                }
    return results


def table(results: dict) -> str:
    head = "| split | sampler | steps | " + " | ".join(ATTRS) + " | s/clip (batched 32) |"
    rows = [head, "|" + "---|" * (len(ATTRS) + 4)]
    for r in results.values():
        n = max(r["scored"].values())
        cells = ["—" if r["adherence"].get(a) is None else f"{100 * r['adherence'][a]:.1f}" for a in ATTRS]
        rows.append(f"| {r['split']} | {r['sampler']} | {r['steps']} | " + " | ".join(cells)
                    + f" | {r['generate_s'] / n:.2f} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m model_runtime.release", description=__doc__.splitlines()[0])
    ap.add_argument("--run", required=True, help="a training run folder (its ema checkpoint is shipped)")
    ap.add_argument("--name", default=ckpt.DEFAULT_NAME)
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--guidance", type=float, default=3.0)
    ap.add_argument("--no-eval", action="store_true")
    ap.add_argument("--results", help="reuse evaluation results from this JSON instead of running them")
    ap.add_argument("--history", default="", help="how the run got here (objective or architecture changes)")
    args = ap.parse_args(argv)
    run = Path(args.run)
    src = run / "ema.safetensors"
    model, info = ckpt.load(src)
    meta = info["meta"]
    dst = ckpt.ASSETS / f"{args.name}.safetensors"
    digest = ckpt.save(model, dst, meta={**meta, "guidance": args.guidance, "released": time.strftime("%Y-%m-%d")},
                       half=True)
    print(f"{dst}: {dst.stat().st_size / 1e6:.1f} MB, sha256 {digest[:16]}…")
    results = {}
    if args.results:
        results = json.loads(Path(args.results).read_text())
    elif not args.no_eval:
        results = run_evals(dst, args.n, args.guidance)
        (ckpt.ASSETS / f"{args.name}.eval.json").write_text(json.dumps(results, indent=1))
    cfg = model.cfg
    tr = meta.get("train", {})
    card = f"""# {args.name}: the bundled toy-world video model

A {model.describe()['parameters'] / 1e6:.2f} M-parameter video U-ViT (text encoder included) that makes
{cfg.frames}-frame {cfg.size}×{cfg.size} clips at {cfg.fps:g} fps of the procedural world in
`../shared/TOYWORLD.md`, from English or Chinese prompts. Weights: `{args.name}.safetensors` (fp16,
sha256 `{digest}`), config beside it in `{args.name}.json`.

## Model
- Pixel space, tubelet patches {tuple(cfg.patch)} → {cfg.num_tokens} tokens (1 time, {cfg.text_len} text,
  {cfg.num_patches} video); width {cfg.width}, depth {cfg.depth} ({cfg.depth // 2} in-blocks, 1 middle,
  {cfg.depth // 2} out-blocks with long skips), {cfg.heads} heads, MLP ×{cfg.mlp_ratio:g}; 3×3×3 conv after unpatchify{
  ' (which also sees the noisy input)' if cfg.input_skip else ''}.{ADALN if cfg.adaln else ''}{LAYOUT if cfg.layout else ''}{
  ANCHORED.format(p=tr.get('p_anchored', 0)) if cfg.anchored_noise else ''}
- Text: one token per recognised concept (subject, color, background, shot size, motion, camera), a
  {cfg.text_layers}-layer set encoder of width {cfg.text_width}, trained jointly. Unknown words are reported and ignored.
- Diffusion: {cfg.schedule} VP schedule, 1000 steps, {'v-prediction (v = α·ε − σ·x0)' if cfg.prediction == 'v' else 'ε-prediction'}; classifier-free guidance
  (default guidance {args.guidance:g}); DPM-Solver++(2M) at 20 steps by default.
- {model.describe()['flops_per_forward'] / 1e9:.2f} GFLOPs per forward at batch 1.

## Training recipe and cost
- Command: `python -m model_runtime.train --config configs/toy_small.json --out {run.as_posix()}` (resumed
  in stretches with `--resume`).
- Data: clips rendered on the fly from the training split (held-out subject/color/background triples
  never rendered); each prompt slot left out with p={tr.get('p_drop_slot')}, condition dropped with
  p={tr.get('p_uncond')} for guidance; {tr.get('p_known')} of clips with 1 or 4 known first frames (image-to-video
  and extend are trained the same way).
- Loss: MSE on the {'v' if cfg.prediction == 'v' else 'ε'} target{f", {tr.get('p_high_noise')} of the clips with t drawn from t ≥ {tr.get('high_noise_from', 0) * 1000:.0f}" if tr.get('p_high_noise') else ''}{f" (plus the planner's layout MSE × {tr.get('plan_weight')})" if cfg.layout else ''}.
- AdamW lr {tr.get('lr')}, warmup {tr.get('warmup')} steps, batch {tr.get('batch')}, EMA {tr.get('ema')}, bf16 autocast.
{('- History: ' + args.history) if args.history else ''}
- Trained for {meta.get('step')} steps ({meta.get('step', 0) * tr.get('batch', 0):,} clips) in
  {meta.get('elapsed_s', 0) / 60:.0f} minutes of wall time on a shared 2-core CPU (no GPU).

## Evaluation
`python -m model_runtime.evaluate --checkpoint assets/models/{args.name}.safetensors --split SPLIT --n {args.n}
--steps S --sampler M --guidance {args.guidance:g}`: adherence in % per attribute as TOYWORLD.md scores it
({args.n} clips per row; the renderer's own clips score ≥ 98% on every attribute). `subject` is the
shape where it is decidable; `consistency` is color and size stable over the frames.

{table(results) if results else '(not evaluated)'}

## Limits
Trained only on the toy world; a few CPU-hours of training. See the evaluation above for what it does
and does not follow yet; training resumes from `{run.as_posix()}` with `--resume`.
"""
    (ckpt.ASSETS / f"{args.name}.md").write_text(card)
    print(card)
    return 0


if __name__ == "__main__":
    sys.exit(main())
