"""A finished clip's files, written the way the wire protocol names them (contract.protocol.CLIP_FILES):
the native frames (.npy), a viewing MP4, a poster PNG and the metadata JSON. Each is written under
its hidden partial name first and all are renamed into place at the end, metadata last, so a
`<stem>.json` on disk means the whole clip is there; on any failure or cancel nothing is left."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from contract import protocol as P
from model_runtime import video_io


def write_clip(job: P.SubmitJob, frames: np.ndarray, info: dict[str, Any], mp4_min_side: int, protocol_version: int,
               timings: dict[str, float], t_start: float,
               before_commit: Callable[[], None] | None = None) -> tuple[dict[str, str], dict[str, Any]]:
    """Write the clip's four files into job.out_dir; returns (role -> path, metadata).
    `before_commit` runs after everything is written and before anything is renamed into place (a
    cancel raised there leaves nothing)."""
    out_dir = Path(job.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    final = {role: out_dir / P.clip_name(job.stem, role) for role in P.CLIP_FILES}
    temp = {role: out_dir / P.partial_name(job.stem, role) for role in P.CLIP_FILES}
    frames = np.ascontiguousarray(frames, dtype=np.uint8)
    t0 = time.perf_counter()
    placed: list[Path] = []
    try:
        with open(temp["frames"], "wb") as f:
            np.save(f, frames, allow_pickle=False)
            _fsync(f)
        video_io.write_mp4(temp["video"], frames, float(info["fps"]), min_side=mp4_min_side)
        video_io.write_png(temp["poster"], video_io.poster_frame(frames, mp4_min_side))
        write_s = time.perf_counter() - t0
        meta = {
            "job_id": job.job_id,
            "parameters": job.request,
            "seed": int(job.request.get("seed", 0)),
            "model_id": info.get("model_id", ""),
            "checkpoint_hash": info.get("checkpoint_hash", ""),
            "device": info.get("device", ""),
            "frames": int(frames.shape[0]),
            "width": int(frames.shape[2]),
            "height": int(frames.shape[1]),
            "fps": float(info["fps"]),
            "files": {role: p.name for role, p in final.items()},
            "timings": {
                **{k: round(v, 4) for k, v in timings.items()},
                "write_s": round(write_s, 4),
                "total_s": round(time.perf_counter() - t_start, 4),
            },
            "created": time.time(),
            "protocol_version": protocol_version,
        }
        with open(temp["metadata"], "w", encoding="utf-8") as f:
            json.dump(meta, f, indent=2, sort_keys=True)
            _fsync(f)
        if before_commit is not None:
            before_commit()
        # Metadata last: a <stem>.json on disk means the whole clip is there.
        for role in P.CLIP_FILES:
            os.replace(temp[role], final[role])
            placed.append(final[role])
    except BaseException:
        for p in (*temp.values(), *placed):
            _unlink(p)
        raise
    return {role: str(p) for role, p in final.items()}, meta


def _fsync(f) -> None:
    f.flush()
    try:
        os.fsync(f.fileno())
    except OSError:
        pass


def _unlink(p: Path) -> None:
    try:
        p.unlink()
    except FileNotFoundError:
        pass
