"""The ``watch`` and ``play`` commands, and the observer behind ``traitors run --live``.

Only argparse is imported at the top, so building the CLI parser stays fast.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.console import Console

    from traitors.spectate.live import LiveObserver
    from traitors.words import Words

EXIT_BAD_INPUT = 2


def add_watch_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``traitors watch``."""
    watch = subparsers.add_parser(
        "watch",
        help="watch an episode live or replay it: transcript, players, votes, beliefs, LLM use",
        description=(
            "Show an episode in the terminal (plain lines when output is not a terminal). PATH "
            "is an episode directory, or a run/sweep directory: then a table of its episodes "
            "first, and the episode chosen with --episode (default: the most recently written "
            "running one) is followed."
        ),
    )
    watch.add_argument("path", type=Path, metavar="PATH", help="episode, run or sweep directory")
    watch.add_argument(
        "--follow", action="store_true", help="keep reading while the episode is written"
    )
    view = watch.add_mutually_exclusive_group()
    view.add_argument("--as", dest="as_player", metavar="PLAYER", help="show only what PLAYER saw")
    view.add_argument("--god", action="store_true", help="show everything (the default)")
    watch.add_argument(
        "--speed",
        type=float,
        metavar="X",
        help="replay a finished episode at X events/s (0: at once; default 10 in a terminal)",
    )
    watch.add_argument("--episode", metavar="ID", help="episode of a run directory (id or prefix)")
    watch.add_argument(
        "--poll", type=float, metavar="S", help="seconds between reads with --follow (default 0.25)"
    )
    watch.set_defaults(handler=run_watch)


def run_watch(args: argparse.Namespace, *, console: Console | None = None) -> int:
    """Run ``traitors watch``; exit code 2 for a bad path, episode or player."""
    from rich.console import Console

    from traitors.log import LogError
    from traitors.runner.shards import resolve_episode
    from traitors.spectate.board import UnknownPlayer
    from traitors.spectate.runs import NoSuchEpisode, is_episode_dir
    from traitors.spectate.watch import watch_episode

    console = console or Console()
    path: Path = args.path
    try:
        follow: bool = args.follow
        if not path.exists():  # an episode packed into its run's shard
            path = resolve_episode(path)
        if is_episode_dir(path):
            if args.episode is not None:
                raise NoSuchEpisode(f"--episode needs a run directory; {path} is an episode")
            directory = path
        else:
            directory = _pick_episode(path, args.episode, console)
            follow = True
        watch_episode(
            directory,
            console,
            viewer=args.as_player,
            follow=follow,
            speed=args.speed,
            poll=args.poll,
        )
    except (UnknownPlayer, NoSuchEpisode, FileNotFoundError, LogError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0


def _pick_episode(run_dir: Path, episode_id: str | None, console: Console) -> Path:
    from collections import Counter

    from traitors.runner.shards import resolve_episode
    from traitors.spectate.runs import (
        SHOWN,
        choose,
        episode_line,
        episodes_table,
        list_episodes,
    )

    rows = list_episodes(run_dir)
    shown = sorted(rows, key=lambda row: row.modified)[-SHOWN:]
    counts = ", ".join(
        f"{n} {status}" for status, n in sorted(Counter(r.status for r in rows).items())
    )
    title = f"{run_dir}: {len(rows)} episode(s) ({counts})"
    if len(rows) > len(shown):
        title += f"; the {len(shown)} most recently written"
    if console.is_terminal:
        console.print(episodes_table(shown, title))
    else:
        console.print(title, markup=False, highlight=False)
        for row in shown:
            console.print(episode_line(row), markup=False, highlight=False)
    row = choose(rows, episode_id)
    console.print(f"watching {row.episode_id} ({row.status})", markup=False, highlight=False)
    return row.dir if row.dir.is_dir() else resolve_episode(run_dir, row.episode_id)


def add_play_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``traitors play``."""
    play = subparsers.add_parser(
        "play",
        help="take a seat at the table yourself; the spec's agents play the others",
        description=(
            "Play one episode of SPEC as player NAME: each turn shows what NAME sees and the "
            "legal choices, and reads the answer from stdin (a keyboard or a pipe). The "
            "episode is written like `traitors run` writes it."
        ),
    )
    play.add_argument("spec", metavar="SPEC.yaml", help="scenario spec file")
    play.add_argument("--as", dest="as_player", required=True, metavar="NAME", help="your seat")
    play.add_argument("--seed", type=int, metavar="S", help="episode seed (default: the spec's)")
    play.add_argument(
        "--out", type=Path, metavar="DIR", help="output directory (default runs/<name>-play-<time>)"
    )
    play.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
        help="override a spec field, e.g. --set rules.n_players=6 (repeatable)",
    )  # fmt: skip
    play.set_defaults(handler=run_play)


def run_play(
    args: argparse.Namespace, *, stdin: TextIO | None = None, stdout: TextIO | None = None
) -> int:
    """Run ``traitors play``: 0 when the game was played to the end, 1 if input ran out."""
    import asyncio

    from traitors.spec import load_spec
    from traitors.spectate.play import play, seat_io, seats, with_human

    spec = load_spec(args.spec, args.overrides)
    players = seats(spec)
    if args.as_player not in players:
        known = ", ".join(players)
        print(f"error: unknown player {args.as_player!r}; players: {known}", file=sys.stderr)
        return EXIT_BAD_INPUT
    spec = with_human(spec, args.as_player)
    seed = spec.seed if args.seed is None else args.seed
    out: Path = args.out or Path("runs") / f"{spec.name}-play-{time.strftime('%Y%m%d-%H%M%S')}"
    io = seat_io(spec.build_rules().words, stdin, stdout, f"{spec.name} seed {seed}")
    console = io.console
    try:
        result = asyncio.run(play(spec, seed, out, io))
    except EOFError:
        console.print(f"input ended before the game did; the unfinished episode is in {out}")
        return 1
    outcome = result.outcome
    role = result.manifest.roles[args.as_player]
    console.print(
        f"game over: {outcome.winner or 'draw'} ({outcome.reason}); your role: {role}. "
        f"Episode written to {out / result.episode_id}",
        highlight=False,
    )
    return 0


def live_observer(
    words: Words, out_dir: Path | None = None, console: Console | None = None
) -> LiveObserver:
    """The episode observer for ``traitors run --live``: the watch view of each episode as
    it plays, in the scenario's ``words``. ``out_dir`` (the run's output directory) lets it
    read the running episode's LLM calls."""
    from rich.console import Console

    from traitors.spectate.live import LiveObserver

    return LiveObserver(console or Console(), words, out_dir)
