"""``traitors export EPISODE_DIR --html FILE [--as SEAT]``: an episode as one HTML replay.

Only argparse is imported at module level, so adding the subcommand costs nothing at start-up.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_BAD_INPUT = 2


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``export`` subcommand; its handler is :func:`run`."""
    parser = subparsers.add_parser(
        "export",
        help="write an episode as one self-contained HTML replay (god view or one seat's)",
        description=(
            "Write EPISODE_DIR (a finished episode, loose or packed in its run's shards) as one "
            "HTML file that needs no network: transcript, a step scrubber, the players, the "
            "votes, belief heatmaps and trust graphs, with a switch between the god view and "
            "each seat's view. With --as SEAT the file holds only what SEAT saw."
        ),
    )
    parser.add_argument("episode_dir", type=Path, metavar="EPISODE_DIR", help="episode directory")
    parser.add_argument("--html", type=Path, required=True, metavar="FILE", help="file to write")
    parser.add_argument(
        "--as", dest="as_player", metavar="SEAT", help="export only what SEAT saw (nothing else)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run ``traitors export``; a bad episode, seat or file prints one line and returns 2."""
    from traitors.game.board import UnknownPlayer
    from traitors.store.log import MANIFEST, LogError, problem, read_episode
    from traitors.store.shards import resolve_episode
    from traitors.view.htmlreplay.page import episode_page

    directory: Path = args.episode_dir
    seat: str | None = args.as_player
    try:
        if not (directory / MANIFEST).is_file():  # an episode packed into its run's shard
            directory = resolve_episode(directory)
        log = read_episode(directory)
        page = episode_page(log.manifest, log.events, seat)
    except (UnknownPlayer, LogError, FileNotFoundError) as exc:
        return _error(str(exc))
    except ValueError as exc:
        return _error(f"{directory}: {problem(exc)}")
    except OSError as exc:
        return _error(f"{directory}: cannot read: {exc.strerror or exc}")
    try:
        args.html.write_bytes(page.encode())
    except OSError as exc:
        return _error(f"{args.html}: cannot write: {exc.strerror or exc}")
    view = f"what {seat} saw" if seat else "the god view"
    print(f"wrote {args.html}: {view} of episode {log.manifest.episode_id}")
    return 0


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT
