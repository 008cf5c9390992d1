"""Ship a trained run as the bundled model: fp16 checkpoint in assets/models/ plus a model card with
its evaluation table.

    python -m model_runtime.release --run runs/toy_small [--n 64] [--guidance 3] [--no-eval]
    python -m model_runtime.release --run runs/toy_latent --name vstudio-toy-v2 --aspect 16:9   (a latent model;
        its autoencoder must already be in assets/models: `train_autoencoder --release`)
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from contract.files import atomic_write
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
  `model_runtime/subject_plan.py` says why: a pixel loss teaches colours long before motion words."""
ANCHORED = """
- Anchored noise: the diffusion noise is read from Gaussian fields fixed in the world and on the
  subject through the layout (the annotated one for {p:g} of the training clips, the planner's at
  sampling, ddpm's fresh noise too), so what the model draws out of the noise moves with the camera
  and the subject, as in noise warping (Go-with-the-Flow). Every frame is still N(0, 1) per pixel.
  `model_runtime/anchored_noise.py`."""
ATTRS = ("background", "color", "size", "subject", "motion", "camera", "consistency")


LATENT = """
- Latent space: a frame-wise convolutional autoencoder (`{ae}`, {ae_params:.2f} M parameters, 8× per side,
  {c} channels; `model_runtime/autoencoder.py`) turns each frame into latents; the U-ViT denoises
  them at native 16:9, 9:16 and 1:1 ({sizes}), one model for all three (aspect buckets in training,
  sin-cos positions by place in the frame so every grid shares them). Live previews are a linear
  latent → RGB map fitted to the decoder."""


def run_evals(checkpoint: Path, n: int, guidance: float, splits=("heldout", "train"),
              aspect: str | None = None, rows: list[tuple[str, str, int]] | None = None) -> dict:
    results = {}
    rows = rows or [(split, sampler, steps) for split in splits for sampler, steps in SETTINGS]
    with tempfile.TemporaryDirectory() as tmp:
        for split, sampler, steps in rows:
            out = Path(tmp) / f"{split}-{sampler}-{steps}.json"
            code = evaluate.main(["--checkpoint", str(checkpoint), "--split", split, "--n", str(n),
                                  "--steps", str(steps), "--sampler", sampler, "--guidance", str(guidance),
                                  "--json", str(out), "--batch", "32"] + (["--aspect", aspect] if aspect else []))
            if code:
                raise SystemExit(code)
            doc = json.loads(out.read_text())
            results[f"{split} {sampler} {steps}"] = {
                "split": split, "sampler": sampler, "steps": steps,
                "adherence": {a: v["adherence"] for a, v in doc["attributes"].items()},
                "scored": {a: v["scored"] for a, v in doc["attributes"].items()},
                "generate_s": doc["timings"]["generate_s"],
                "roughness": doc.get("roughness", {}).get("ratio"),
            }
    return results


def seam_figures(checkpoint: Path, n: int, guidance: float, aspect: str | None = None, seed: int = 0) -> dict:
    """How visible the seams are (picture_quality.seam_drop, dB below the shot's median step PSNR; ≤ 2
    is invisible): in 48-frame takes (a chain of clips) at every chain seam, and where a shot
    continues the previous one (image-to-video from its last frame) at the continued shot's first step."""
    import numpy as np

    from contract.prompt_parser import scene_prompt
    from model_runtime import toyworld as tw
    from model_runtime.picture_quality import chain_seams, seam_drop
    from model_runtime.pipeline import GenerationRequest, Generator

    gen = Generator(checkpoint=str(checkpoint))
    rng = np.random.default_rng([seed, 48])
    chain, cont = [], []
    for _ in range(n):
        scene = tw.sample_scene(rng, "heldout")
        prompt, s = scene_prompt(scene), int(rng.integers(2**31))
        take = gen.generate(GenerationRequest(prompt=prompt, seed=s, frames=48, guidance=guidance, aspect=aspect))
        chain += seam_drop(take, chain_seams(48, gen.cfg.frames, 4))
        nxt = gen.generate(GenerationRequest(prompt=prompt, seed=s + 1, mode="i2v", image=take[-1], guidance=guidance,
                                             aspect=aspect))
        cont += seam_drop(np.concatenate([take[-1:], nxt[1:]]), [1])

    def summary(v):
        return {"median_db": float(np.median(v)), "max_db": float(np.max(v)),
                "within_2db": float(np.mean(np.asarray(v) <= 2.0)), "seams": len(v)}

    return {"chain_48": summary(chain), "continuity": summary(cont)}


def table(results: dict) -> str:
    rows_of = {k: r for k, r in results.items() if k not in ("seams", "autoencoder")}
    rough = any(r.get("roughness") is not None for r in rows_of.values())
    head = "| split | sampler | steps | " + " | ".join(ATTRS) + (" | roughness ×" if rough else "") \
        + " | s/clip (batched 32) |"
    rows = [head, "|" + "---|" * (len(ATTRS) + 4 + rough)]
    for r in rows_of.values():
        n = max(r["scored"].values())
        cells = ["—" if r["adherence"].get(a) is None else f"{100 * r['adherence'][a]:.1f}" for a in ATTRS]
        if rough:
            cells.append("—" if r.get("roughness") is None else f"{r['roughness']:.2f}")
        rows.append(f"| {r['split']} | {r['sampler']} | {r['steps']} | " + " | ".join(cells)
                    + f" | {r['generate_s'] / n:.2f} |")
    seams = results.get("seams")
    if seams:
        rows.append("")
        rows.append("Seams (dB the seam's step PSNR lies below the shot's median step; ≤ 2 is invisible):")
        for name, v in seams.items():
            rows.append(f"- {name}: median {v['median_db']:.1f}, max {v['max_db']:.1f}, "
                        f"{100 * v['within_2db']:.0f}% of {v['seams']} seams within 2 dB")
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
    ap.add_argument("--aspect", default=None, help="evaluate at this aspect (latent models; default theirs)")
    ap.add_argument("--rows", default=None, help="evaluate only these rows, e.g. heldout:dpmpp_2m:20,train:ddpm:250 "
                                                 "(default: both splits at DPM++ 10, 20, 50 and DDPM 250)")
    ap.add_argument("--config-name", default="configs/toy_small.json", help="the config the run trained with")
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
        rows = None
        if args.rows:
            try:
                rows = [(a, b, int(c)) for a, b, c in (r.split(":") for r in args.rows.split(","))]
            except ValueError:
                print(f"error: --rows must list split:sampler:steps, got {args.rows!r}", file=sys.stderr)
                return 2
        results = run_evals(dst, args.n, args.guidance, aspect=args.aspect, rows=rows)
        results["seams"] = seam_figures(dst, max(4, args.n // 8), args.guidance, args.aspect)
        atomic_write(ckpt.ASSETS / f"{args.name}.eval.json", json.dumps(results, indent=1))
    cfg = model.cfg
    tr = meta.get("train", {})
    ae_section = ""
    space = f"- Pixel space, tubelet patches {tuple(cfg.patch)}"
    size = f"{cfg.size}×{cfg.size}"
    if cfg.autoencoder:
        from model_runtime import autoencoder as aem

        ae, _ = aem.load(ckpt.autoencoder_path(dst, cfg.autoencoder))
        sizes = ", ".join(f"{w * 8}×{h * 8}" for h, w in cfg.aspects.values())
        space = LATENT.format(ae=cfg.autoencoder, ae_params=sum(p.numel() for p in ae.parameters()) / 1e6,
                              c=cfg.channels, sizes=sizes).strip("\n") + f"\n- Tubelet patches {tuple(cfg.patch)} (latent frames × latent pixels)"
        h, w = cfg.frame_shape()
        size = f"{w * 8}×{h * 8} ({cfg.default_aspect}; also {', '.join(cfg.aspect_names[1:])})"
        if "autoencoder" not in results and not args.no_eval:
            from model_runtime.evaluate_autoencoder import evaluate as evaluate_ae

            results["autoencoder"] = evaluate_ae(ae, n=8)
            atomic_write(ckpt.ASSETS / f"{args.name}.eval.json", json.dumps(results, indent=1))
        ae_meta = json.loads(ckpt.paths_for(ckpt.autoencoder_path(dst, cfg.autoencoder))[1].read_text())["meta"]
        ae_rows = "\n".join(f"| {a} | {r['width']}×{r['height']} | {r['psnr_db']:.2f} | {r['psnr_min_db']:.2f} | "
                            f"{r['roughness_ratio']:.2f} |" for a, r in results.get("autoencoder", {}).items())
        ae_section = f"""
## The autoencoder ({cfg.autoencoder})
Frame-wise, 8× per side, {cfg.channels} latent channels, no temporal compression (the U-ViT's tubelets of
{cfg.patch[0]} latent frames do that; frame-wise latents keep image-to-video, continuity and extend exact and
let a long take chain in latent space). Trained by `python -m model_runtime.train_autoencoder` on
64-px crops of training-split frames at every aspect's native height (L1 + MSE, decoder fed latents with
10% noise), {ae_meta.get('step')} steps{', then the decoder alone (encoder frozen, so cached latents stay valid)' if ae_meta.get('train', {}).get('freeze_encoder') else ''};
{ae_meta.get('elapsed_s', 0) / 60:.0f} minutes on the shared 2-core CPU. Held-out clips, 16 frames at native size
(`python -m model_runtime.evaluate_autoencoder --n 8`; roughness = mean |Laplacian| of background
luminance over the renderer's):

| aspect | size | PSNR dB | worst clip dB | background roughness × |
|---|---|---|---|---|
{ae_rows}
"""
    card = f"""# {args.name}: the bundled toy-world video model

A {model.describe()['parameters'] / 1e6:.2f} M-parameter video U-ViT (text encoder included) that makes
{cfg.frames}-frame {size} clips at {cfg.fps:g} fps of the procedural world in
`../shared/TOYWORLD.md`, from English or Chinese prompts. Weights: `{args.name}.safetensors` (fp16,
sha256 `{digest}`), config beside it in `{args.name}.json`.

## Model
{space} → {cfg.num_tokens} tokens (1 time, {cfg.text_len} text,
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
- Command: `python -m model_runtime.train --config {args.config_name} --out {run.as_posix()}` (resumed
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
--steps S --sampler M --guidance {args.guidance:g}{' --aspect ' + args.aspect if args.aspect else ''}`: adherence in % per attribute as TOYWORLD.md scores it
({args.n} clips per row; the renderer's own clips score ≥ 98% on every attribute). `subject` is the
shape where it is decidable; `consistency` is color and size stable over the frames.

{table(results) if results else '(not evaluated)'}

{ae_section}
## Limits
Trained only on the toy world; a few CPU-hours of training. See the evaluation above for what it does
and does not follow yet; training resumes from `{run.as_posix()}` with `--resume`.
"""
    atomic_write(ckpt.ASSETS / f"{args.name}.md", card)
    print(card)
    return 0


if __name__ == "__main__":
    sys.exit(main())
