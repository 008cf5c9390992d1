"""Headless rendering: `python main.py render STORYBOARD -o film.mp4`.

A storyboard (.json / .csv) or a project folder (.vstudio) becomes a finished film without the GUI:
every shot is generated in order by the model worker (through the engine's job queue, as in the
studio), its take written into a project folder, the chosen takes laid on the timeline with the
storyboard's transitions, and the timeline exported (studio.media.deliver) with its provenance
sidecar beside the film.

No Qt and no torch here: the model runs in the worker process the engine client spawns.

Failures are one line on stderr. Exit codes: 0 done, 1 the render failed (the model or the encoder
broke), 2 bad input (file, column, value, preset, output folder, checkpoint), 130 / 143 interrupted by
SIGINT / SIGTERM (handled alike at any moment: studio.interrupts). Nothing half-written is left: the
film and its sidecar appear only when both are complete, and a temporary project is removed (unless
--keep-project); a film complete before the signal is kept and reported as written.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from studio import interrupts
from studio.engine.variations import MAX_TAKES
from studio.errors import StudioError
from studio.headless_bars import Bars
from studio.interrupts import Interrupted
from studio.project.choice import chosen
from studio.project.schema import ProjectData, Shot

PROG = "main.py render"
EXIT_FAILED, EXIT_BAD_INPUT = 1, 2  # interrupted: 130 (SIGINT) or 143 (SIGTERM), studio.interrupts
# Error kinds that mean "the input or the command line is wrong" (exit 2), not "the render broke".
USER_KINDS = frozenset({
    "usage", "storyboard", "settings", "path", "checkpoint", "device", "model_config", "bad_params",
    "bad_request", "missing_reference", "missing_input", "bad_input", "timeline", "missing_media",
    "project_missing", "project_corrupt", "project_too_new", "project_invalid", "project_exists", "empty",
    "project_link", "model_folder", "config", "range",
})
# Output suffix -> export format when no --preset is given (H.264 1080p is the default).
SUFFIX_FORMATS = {".mp4": "h264", ".webm": "vp9", ".mov": "prores", ".gif": "gif"}
PROJECT_PRESET = "project"  # --preset project: H.264 at the storyboard's own size and frame rate


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line and exit 2 (argparse would print the usage too)
        raise StudioError("usage", f"{message} (see {PROG} -h)")


def build_parser() -> argparse.ArgumentParser:
    ap = _Parser(prog=PROG, description="Render a storyboard (.json/.csv) or a project (.vstudio) to a film, "
                                        "without the GUI.")
    ap.add_argument("storyboard", help="a storyboard .json or .csv, or a NAME.vstudio project folder")
    ap.add_argument("-o", "--output", required=True,
                    help="the film to write; its suffix picks the format without --preset "
                         "(.mp4 H.264, .webm VP9, .mov ProRes, all at the storyboard's own size and frame rate; "
                         ".gif: the gif_preview preset)")
    ap.add_argument("--preset", help="an export preset (landscape_1080p, vertical_1080x1920, square_1080, "
                                     "prores_master, gif_preview); default: the storyboard's own size and rate")
    ap.add_argument("--motion", choices=("flow", "blend", "repeat"),
                    help="how clips slower than the film are brought to its rate: flow (smooth, along optical flow; "
                         "the default), blend, or repeat frames")
    ap.add_argument("--range", metavar="IN-OUT",
                    help="export only this part of the film: seconds (2.5-6) or timecodes (00:00:02:12-00:00:06:00)")
    ap.add_argument("--steps", type=int, help="sampler steps for every shot (overrides the storyboard)")
    ap.add_argument("--seed", type=int, help="seeds for every shot: shot i (from 0) gets SEED + i")
    ap.add_argument("--takes", type=int, default=1, metavar="N",
                    help="N takes of every shot, seeds S, S+1, … from the shot's seed S (the first is chosen)")
    ap.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto",
                    help="where the model runs (default: auto)")
    ap.add_argument("--checkpoint", help="model checkpoint (default: the bundled model in assets/models/)")
    ap.add_argument("--model", metavar="DIR",
                    help="an open video model: a local diffusers folder with model_index.json (Wan, LTX-Video, ...)")
    ap.add_argument("--random-init", action="store_true", help="an untrained model (plumbing tests)")
    ap.add_argument("--model-config", metavar="JSON",
                    help="with --random-init: the model's config (a configs/*.json or a plain dict of "
                         "UViTConfig fields), e.g. a tiny one for tests")
    ap.add_argument("--threads", type=int, help="CPU threads for the model (default: torch's choice)")
    ap.add_argument("--project-dir", help="write the takes into this new project folder and keep it "
                                          "(default: a temporary project beside the film)")
    ap.add_argument("--keep-project", action="store_true",
                    help="keep the temporary project (as FILM.vstudio beside the film when that name is free)")
    ap.add_argument("--regenerate", action="store_true",
                    help="with a .vstudio: generate every shot again instead of using its chosen takes")
    ap.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    return ap


# ---- preflight: everything that can be wrong with the input, before any work starts ------------------
def _is_project(path: Path) -> bool:
    return path.is_dir() or path.name.endswith(".vstudio") or path.name == "project.json"


def load_input(path: Path) -> tuple[ProjectData, Path | None]:
    """(project, its folder) for a .vstudio, (project, None) for a storyboard file."""
    if _is_project(path):
        from studio.project import store

        folder = store.project_dir(path)
        return store.open_project(folder), folder
    from studio.project.storyboard import load_storyboard

    try:
        special = path.exists() and not path.is_file()
    except OSError as e:  # a name too long for the file system, a loop of links
        raise StudioError("storyboard", f"cannot read {path.name[:80]}: {e.strerror or e}") from None
    if special:  # a FIFO would block the read forever, a device never ends
        raise StudioError("storyboard", f"{path} is not a regular file")
    return load_storyboard(path), None


def export_settings(output: Path, preset: str | None, project: ProjectData):
    """The ExportSettings for this film, and the film's path (extension added when it has none)."""
    from studio.media import presets
    from studio.media.deliver import project_settings

    suffix = output.suffix.lower()
    if preset == PROJECT_PRESET:
        s = project_settings(project)
    elif preset is not None:
        if preset not in presets.PRESETS and preset not in {p.label for p in presets.PRESETS.values()}:
            raise StudioError("settings", f"unknown export preset {preset!r}; choose one of "
                                          f"{', '.join([*presets.PRESETS, PROJECT_PRESET])}")
        s = presets.resolve_settings(preset)
    elif not suffix or suffix == ".mp4":
        s = project_settings(project)  # the storyboard's own size and frame rate
    elif suffix == ".gif":
        s = presets.resolve_settings("gif_preview")
    elif suffix in SUFFIX_FORMATS:
        base = presets.resolve_settings("prores_master") if suffix == ".mov" else presets.ExportSettings(format="vp9")
        own = project_settings(project)
        s = base.model_copy(update={"fps": own.fps, "width": own.width, "height": own.height})
    else:
        raise StudioError("settings", f"cannot tell the film's format from {output.name!r}: use "
                                      f"{', '.join(SUFFIX_FORMATS)} or --preset")
    if not suffix:
        output = output.with_name(output.name + s.extension)
    elif s.extension and suffix != s.extension:
        raise StudioError("settings", f"{output.name} does not fit the {presets.FORMAT_LABELS[s.format]} "
                                      f"format of this preset: name it *{s.extension}")
    return s, output


def parse_range(text: str, fps: float) -> tuple[int, int]:
    """"IN-OUT" in seconds (2.5-6) or timecodes (00:00:02:12-00:00:06:00) → frames [in, out) at `fps`."""
    from studio.media.timecode import parse_timecode

    def frame(part: str) -> int:
        part = part.strip()
        if ":" in part:
            return parse_timecode(part, fps)
        seconds = float(part)
        if not seconds >= 0 or seconds == float("inf"):
            raise ValueError(part)
        return round(seconds * fps)

    head, sep, tail = text.partition("-")
    try:
        if not sep:
            raise ValueError(text)
        start, stop = frame(head), frame(tail)
    except ValueError:
        raise StudioError("usage", f"--range {text!r}: give IN-OUT in seconds (2.5-6) or timecodes "
                                   "(00:00:02:12-00:00:06:00)") from None
    if stop <= start:
        raise StudioError("usage", f"--range {text!r}: OUT must come after IN")
    return start, stop


def check_output(output: Path) -> None:
    """The film can be written and its sidecar replaces nothing of the user's (before any work;
    the export checks the sidecar again, studio.media.deliver.check_sidecar)."""
    from studio.media.deliver import check_sidecar

    folder = output.parent
    if any(ord(c) < 32 or ord(c) == 127 for c in output.name):
        raise StudioError("path", f"the film's name {output.name!r} has control characters; choose a plain name")
    try:
        if not folder.is_dir():
            raise StudioError("path", f"the output folder {folder} does not exist")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise StudioError("path", f"the output folder {folder} is not writable")
        if output.is_dir():
            raise StudioError("path", f"{output} is a folder; name a file to write")
        if output.exists() and not output.is_file():
            raise StudioError("path", f"{output} is not a regular file (a device, a pipe?); name a file to write")
        name_max = os.pathconf(folder, "PC_NAME_MAX")
    except OSError as e:
        raise StudioError("path", f"cannot write {output.name[:80]}…: {e.strerror or e}") from None
    # the longest names the render makes beside the film: the encoder's partial file, the sidecar and
    # the temporary project (studio.media.export, provenance, make_folder)
    stem = output.stem
    longest = max(len(n.encode()) for n in (output.name + ".json", f".{stem}.partial-00000000{output.suffix}",
                                            f".{stem}.render-00000000.vstudio"))
    if longest > name_max:
        raise StudioError("path", f"the film's name is too long for this file system ({len(output.name.encode())} "
                                  f"bytes; at most {name_max - (longest - len(output.name.encode()))})")
    check_sidecar(output)


def apply_overrides(project: ProjectData, shots: list[Shot], steps: int | None, seed: int | None) -> None:
    """--steps for every generated shot; --seed S gives shot i (its place in the film, from 0) S + i."""
    from studio.project.schema import GenParams

    limits = GenParams.model_fields
    max_steps = next(m.le for m in limits["steps"].metadata if hasattr(m, "le"))
    max_seed = next(m.le for m in limits["seed"].metadata if hasattr(m, "le"))
    if steps is not None and not 1 <= steps <= max_steps:
        raise StudioError("usage", f"--steps must be from 1 to {max_steps}, got {steps}")
    if seed is not None and not 0 <= seed <= max_seed - (len(project.shots) - 1):
        raise StudioError("usage", f"--seed must be from 0 to {max_seed - (len(project.shots) - 1)} "
                                   f"for {len(project.shots)} shots, got {seed}")
    index = {s.id: i for i, s in enumerate(project.shots)}
    for shot in shots:
        if steps is not None:
            shot.params.steps = steps
        if seed is not None:
            shot.params.seed = seed + index[shot.id]


def load_model_config(path: str) -> dict[str, Any]:
    try:
        d = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StudioError("model_config", f"model config not found: {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise StudioError("model_config", f"cannot read the model config {path}: {e}") from None
    if isinstance(d, dict) and isinstance(d.get("model"), dict):
        d = d["model"]  # a configs/*.json (model + train sections)
    if not isinstance(d, dict):
        raise StudioError("model_config", f"{path}: a model config is a JSON object")
    return d


# ---- the render ---------------------------------------------------------------------------------------
class Render:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.bars = Bars(args.quiet)
        self.t0 = time.monotonic()
        self.client = None
        self.film: tuple[Path, int, float] | None = None  # (path, frames, seconds) once complete on disk
        self.folder: Path | None = None  # the project folder takes go into
        self.temporary = False  # we made self.folder and remove it at the end (unless --keep-project)
        self.source = Path(args.storyboard).expanduser()
        self.project, existing = load_input(self.source)
        self.settings, self.output = export_settings(Path(args.output).expanduser().absolute(), args.preset,
                                                     self.project)
        if args.motion:
            self.settings = self.settings.model_copy(update={"motion": args.motion})
        check_output(self.output)
        self.span = parse_range(args.range, self.settings.fps) if args.range else None
        if existing is not None and args.project_dir:
            raise StudioError("usage", "--project-dir is for storyboards; a .vstudio renders into its own folder")
        self.existing = existing
        if existing is not None and not args.regenerate:
            self.todo = [s for s in self.project.shots if chosen(s) is None]
        else:
            self.todo = list(self.project.shots)
        apply_overrides(self.project, self.todo, args.steps, args.seed)
        if not 1 <= args.takes <= MAX_TAKES:
            raise StudioError("usage", f"--takes must be from 1 to {MAX_TAKES}, got {args.takes}")
        from studio.headless_jobs import preflight

        preflight(self.project, self.todo, existing)  # references a shot needs: before the model loads
        if args.model_config and not args.random_init:
            raise StudioError("usage", "--model-config only applies with --random-init")
        if args.threads is not None and args.threads < 1:
            raise StudioError("usage", f"--threads must be at least 1, got {args.threads}")
        if sum(bool(x) for x in (args.random_init, args.checkpoint, args.model)) > 1:
            raise StudioError("usage", "use one of --checkpoint, --model and --random-init")
        if args.model:
            from contract.model_folder import ModelFolderError, inspect_model_folder

            try:
                inspect_model_folder(args.model)  # the worker checks again before it loads
            except ModelFolderError as e:
                raise StudioError(e.kind, e.message) from None
        self.model_config = load_model_config(args.model_config) if args.model_config else None
        if args.project_dir:
            from studio.project import store

            target = store.with_suffix(Path(args.project_dir).expanduser().absolute())
            if (target / store.PROJECT_FILE).exists():
                raise StudioError("project_exists", f"a project already exists at {target}; render it with "
                                                    f"{PROG} {target} -o ...")
            if not target.parent.is_dir():
                raise StudioError("path", f"the folder {target.parent} does not exist")

    # -- engine -------------------------------------------------------------------------------------
    def worker_options(self):
        from studio.engine.client import WorkerOptions

        a = self.args
        return WorkerOptions(checkpoint=a.model or a.checkpoint, device=a.device, random_init=a.random_init,
                             config=self.model_config, threads=a.threads)

    async def start_engine(self):
        from contract import protocol as P
        from studio.engine.client import EngineClient

        self.bars.status("loading the model…")
        self.client = EngineClient(self.worker_options(), auto_restart=False)
        try:
            info = await self.client.start()
        except P.ProtocolError as e:
            raise StudioError("protocol", str(e)) from None
        finally:
            self.bars.status()
        self.bars.note(f"model {info.model_id or '?'} on {info.device}: {info.frames} frames of "
                       f"{info.width}×{info.height} at {info.fps:g} fps per clip")
        return info

    # -- project folder ---------------------------------------------------------------------------------
    def make_folder(self) -> None:
        from studio.project import store

        if self.existing is not None:
            self.folder = self.existing
            return
        if self.args.project_dir:
            self.folder = store.new_project(Path(self.args.project_dir).expanduser().absolute(), self.project)
            return
        # hidden, beside the film: same disk, and obviously the film's scratch space
        self.folder = Path(tempfile.mkdtemp(prefix=f".{self.output.stem}.render-", suffix=store.SUFFIX,
                                            dir=self.output.parent))
        self.temporary = True
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self.folder, 0o777 & ~umask)  # mkdtemp's 0700 is wrong for a project that may be kept
        store.save_project(self.folder, self.project)

    def save(self) -> None:
        from studio.project import store

        store.save_project(self.folder, self.project)

    # -- generation -----------------------------------------------------------------------------------
    async def generate(self) -> None:
        """Every shot in self.todo through the engine's generation service (studio.headless_jobs)."""
        from studio.headless_jobs import render_shots

        info = await self.start_engine()
        self.make_folder()
        try:
            await render_shots(self.client, info, self.project, self.folder, self.todo, self.bars, self.save,
                               takes=self.args.takes)
        finally:
            self.bars.close()
            with contextlib.suppress(Exception):
                await self.client.stop()  # a running job is cancelled; the worker removes its partial files

    # -- export --------------------------------------------------------------------------------------
    async def export(self) -> tuple[Path, int, float]:
        from studio.media.deliver import export_project, plan

        n, seconds = plan(self.project, self.folder, self.settings, self.span)
        cancel = threading.Event()
        bar = self.bars._bar(total=n, desc="export", unit="frame", position=0)

        def progress(done: int, total: int) -> None:
            bar.update(max(0, done - bar.n))

        loop = asyncio.get_running_loop()
        work = loop.run_in_executor(None, lambda: export_project(
            self.project, self.folder, self.output, self.settings, progress=progress, cancel=cancel,
            span=self.span))
        try:
            film = await asyncio.shield(work)
        except asyncio.CancelledError:
            cancel.set()  # the encoder stops at the next frame and removes its partial file
            with contextlib.suppress(Exception):
                # it may have finished in the same instant: then the film and its sidecar are complete
                self.film = (await work, n, seconds)
            raise
        finally:
            bar.close()
        self.film = (film, n, seconds)
        return film, n, seconds

    async def run(self) -> str:
        if self.todo:
            await self.generate()
        else:
            self.folder = self.existing
        for shot in self.project.shots:
            if chosen(shot) is None:  # a .vstudio shot with no take and nothing generated: cannot be
                raise StudioError("timeline", f"shot {self.project.shots.index(shot) + 1} has no take")
        if self.existing is not None and not self.args.regenerate:
            stale = [i for i, s in enumerate(self.project.shots, 1) if s.status.value == "stale"]
            if stale:
                many = len(stale) > 1
                self.bars.note(f"note: shot{'s' if many else ''} {', '.join(map(str, stale))} changed since "
                               f"{'their' if many else 'its'} chosen take was made; --regenerate renders "
                               f"{'them' if many else 'it'} again")
        film, n, seconds = await self.export()
        if self.temporary and self.args.keep_project:
            self.keep_temporary()
        return self.summary(film, n, seconds)

    def summary(self, film: Path, n: int, seconds: float) -> str:
        from studio.media.presets import FORMAT_LABELS
        from studio.media.provenance import sidecar_path

        s = self.settings
        took = time.monotonic() - self.t0
        kept = ""
        if self.folder is not None and (not self.temporary or self.args.keep_project):
            kept = f"; project {self.folder}"
        return (f"wrote {film} ({seconds:.2f} s, {n} frames, {s.width}×{s.height} {s.fps:g} fps "
                f"{FORMAT_LABELS[s.format]}) in {_clock(took)}; provenance {sidecar_path(film).name}{kept}")

    def keep_temporary(self) -> None:
        """A kept temporary project becomes FILM.vstudio beside the film when that name is free."""
        target = self.output.with_name(self.output.stem + ".vstudio")
        if not target.exists():
            with contextlib.suppress(OSError):
                os.replace(self.folder, target)
                self.folder = target

    def cleanup(self) -> None:
        """Runs however the render ended: no worker left running, no temporary project left behind."""
        if self.client is not None:
            with contextlib.suppress(Exception):
                self.client.close()
        if self.temporary and self.folder is not None and not self.args.keep_project:
            shutil.rmtree(self.folder, ignore_errors=True)


def _clock(seconds: float) -> str:
    m, s = divmod(seconds, 60)
    return f"{int(m)}m{s:04.1f}s" if m else f"{s:.1f}s"


def _kept_note(render: Render | None) -> str:
    """Where the takes made so far are, when the project folder stays after a failed render."""
    if render is None or render.folder is None or (render.temporary and not render.args.keep_project):
        return ""
    return f" (the takes made so far are in {render.folder})"


def _error(e: StudioError, render: Render | None = None) -> int:
    print(f"{PROG}: error: {e.message}{_kept_note(render)}", file=sys.stderr)
    return EXIT_BAD_INPUT if e.kind in USER_KINDS else EXIT_FAILED


def _interrupted(sig: Interrupted, render: Render | None) -> int:
    """One true line: a film that was complete before the signal is kept and reported as written."""
    if render is not None and render.film is not None:
        film, n, seconds = render.film
        print(render.summary(film, n, seconds))
        print(f"{PROG}: interrupted ({sig.name}) after the film was written; {film.name} is complete and kept",
              file=sys.stderr)
    else:
        print(f"{PROG}: cancelled ({sig.name}); no film was written{_kept_note(render)}", file=sys.stderr)
    return sig.exit_code


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    render: Render | None = None
    try:
        with interrupts.interruptible():
            args = build_parser().parse_args(argv)
            render = Render(args)
            line = interrupts.run(render.run)
    except StudioError as e:
        if render is not None:
            render.bars.close()
        return _error(e, render)
    except Interrupted as sig:
        if render is not None:
            render.bars.close()
        return _interrupted(sig, render)
    finally:
        if render is not None:
            with interrupts.held():  # no second signal cuts the cleanup short
                render.cleanup()
    print(line)
    return 0
