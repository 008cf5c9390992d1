"""Entry point. `python main.py [PROJECT]` opens the studio (the demo project by default);
`python main.py render ...` renders a storyboard headless.

Nothing heavy is imported at module level: the render path never loads Qt (and the GUI never
loads torch)."""

from __future__ import annotations

import argparse
import importlib
import sys


def render_main(argv: list[str]) -> int:
    """The headless renderer (studio/headless.py) when it is there."""
    try:
        headless = importlib.import_module("studio.headless")
    except ModuleNotFoundError as e:
        if e.name != "studio.headless":
            raise
        headless = None
    if headless is not None and hasattr(headless, "main"):
        return int(headless.main(argv) or 0)
    parser = argparse.ArgumentParser(prog="main.py render", description="Render a storyboard without the GUI.")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="storyboard and options")
    parser.parse_args(argv)
    print("main.py render: not built yet", file=sys.stderr)
    return 1


def gui_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="main.py", description="Video Diffusion Studio. `main.py render -h` for headless rendering.")
    parser.add_argument("project", nargs="?", help="a NAME.vstudio project folder (default: the demo project)")
    parser.add_argument("--no-engine", action="store_true", help="do not start the generation worker")
    parser.add_argument("--screenshot", metavar="PNG", help="save a screenshot of the window after a second, then quit")
    args = parser.parse_args(argv)
    from studio.app import run

    return run(args.project, engine=False if args.no_engine else None, screenshot=args.screenshot)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "render":
        return render_main(argv[1:])
    return gui_main(argv)


if __name__ == "__main__":
    sys.exit(main())
