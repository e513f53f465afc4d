"""The ``watch`` and ``play`` commands, and the observer behind ``traitors run --live``.

Only argparse is imported at the top, so building the CLI parser stays fast.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO, TypeVar

T = TypeVar("T")

if TYPE_CHECKING:
    from rich.console import Console

    from traitors.episode.engine import EpisodeResult
    from traitors.episode.spec import ScenarioSpec
    from traitors.game.words import Words
    from traitors.view.spectate.app import WatchApp
    from traitors.view.spectate.live import LiveObserver

EXIT_BAD_INPUT = 2


def add_watch_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``traitors watch``."""
    watch = subparsers.add_parser(
        "watch",
        help="watch an episode live or replay it: transcript, players, votes, beliefs, LLM use",
        description=(
            "Show an episode in the terminal: an interactive view (pause, step, jump by phase "
            "or round, switch between the god view and any seat, read model calls; the keys "
            "are listed at the bottom), or plain lines with --plain or when output is not a "
            "terminal. PATH is an episode directory, or a run/sweep directory: then its "
            "episodes can be picked from (key e), and the one chosen with --episode (default: "
            "the most recently written running one) is followed."
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
        "--plain", action="store_true", help="the printed (non-interactive) view, in a terminal too"
    )
    watch.add_argument(
        "--poll", type=float, metavar="S", help="seconds between reads with --follow (default 0.25)"
    )
    watch.set_defaults(handler=run_watch)


def run_watch(args: argparse.Namespace, *, console: Console | None = None) -> int:
    """Run ``traitors watch``; exit code 2 for a bad path, episode or player."""
    from rich.console import Console

    from traitors.game.board import UnknownPlayer
    from traitors.store.log import LogError
    from traitors.store.shards import resolve_episode
    from traitors.view.spectate.runs import NoSuchEpisode, is_episode_dir
    from traitors.view.spectate.watch import watch_episode

    console = console or Console()
    path: Path = args.path
    try:
        follow: bool = args.follow
        if not path.exists():  # an episode packed into its run's shard
            path = resolve_episode(path)
        run_dir = None
        if is_episode_dir(path):
            if args.episode is not None:
                raise NoSuchEpisode(f"--episode needs a run directory; {path} is an episode")
            directory = path
        else:
            run_dir = path
            directory = _pick_episode(path, args.episode, console, quiet=interactive(args, console))
            follow = True
        if interactive(args, console):
            return _watch_app(directory, run_dir, args)
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


def interactive(args: argparse.Namespace, console: Console) -> bool:
    """Whether to open the interactive view: in a terminal, unless ``--plain``."""
    return console.is_terminal and not args.plain


def _watch_app(directory: Path, run_dir: Path | None, args: argparse.Namespace) -> int:
    """The interactive view of ``directory`` (and of its run's other episodes); a seat not
    at the table, or a damaged manifest, is refused before the view opens (a damaged line is
    named in the view)."""
    from traitors.game.board import check_seat
    from traitors.store.log import MANIFEST, load_manifest
    from traitors.view.spectate.app import DEFAULT_SPEED, POLL_SECONDS, WatchApp

    if (directory / MANIFEST).is_file():  # LogError if it is damaged
        check_seat(args.as_player, load_manifest(directory).players)
    app = WatchApp(
        directory,
        run_dir=run_dir,
        viewer=args.as_player,
        speed=DEFAULT_SPEED if args.speed is None else args.speed,
        follow_newest=run_dir is not None and args.episode is None,
        poll=args.poll or POLL_SECONDS,
    )
    app.run()
    return 0


def _pick_episode(
    run_dir: Path, episode_id: str | None, console: Console, *, quiet: bool = False
) -> Path:
    from collections import Counter

    from traitors.store.shards import resolve_episode
    from traitors.view.spectate.runs import (
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
    row = choose(rows, episode_id)
    directory = row.dir if row.dir.is_dir() else resolve_episode(run_dir, row.episode_id)
    if quiet:
        return directory
    if len(rows) > len(shown):
        title += f"; the {len(shown)} most recently written"
    if console.is_terminal:
        console.print(episodes_table(shown, title))
    else:
        console.print(title, markup=False, highlight=False)
        for listed in shown:
            console.print(episode_line(listed), markup=False, highlight=False)
    console.print(f"watching {row.episode_id} ({row.status})", markup=False, highlight=False)
    return directory


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
        "--plain", action="store_true", help="plain lines and a prompt, in a terminal too"
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

    from traitors.commands.play import play, seat_io, seats, with_human
    from traitors.commands.preflight import check_specs
    from traitors.episode.spec import load_spec

    spec = load_spec(args.spec, args.overrides)
    players = seats(spec)
    if args.as_player not in players:
        known = ", ".join(players)
        print(f"error: unknown player {args.as_player!r}; players: {known}", file=sys.stderr)
        return EXIT_BAD_INPUT
    spec = with_human(spec, args.as_player)
    check_specs([spec])
    seed = spec.seed if args.seed is None else args.seed
    out: Path = args.out or Path("runs") / f"{spec.name}-play-{time.strftime('%Y%m%d-%H%M%S')}"
    io = seat_io(spec.build_rules().words, stdin, stdout, f"{spec.name} seed {seed}")
    console = io.console
    in_app = interactive(args, console) and io.stdin.isatty()
    try:
        if in_app:
            result = _play_in_app(spec, seed, out, args.as_player)
        else:
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


def _play_in_app(spec: ScenarioSpec, seed: int, out: Path, seat: str) -> EpisodeResult:
    """Play in the interactive view, the game in a thread beside it."""
    import asyncio

    from traitors.commands.play import play
    from traitors.commands.play_app import AppSeat, PlayApp
    from traitors.episode.spec import episode_id
    from traitors.view.spectate.background import run_beside

    app = PlayApp(out / episode_id(spec, seed), seat)
    return run_beside(app, lambda: asyncio.run(play(spec, seed, out, AppSeat(app))))


def run_live(out: Path, work: Callable[[], T]) -> T:
    """``traitors run --live`` in a terminal: ``work`` (the run, writing into ``out``) in a
    thread, and the interactive view following its newest episode until it is quit."""
    from traitors.view.spectate.background import run_beside

    return run_beside(live_app(out), work)


def live_app(out: Path) -> WatchApp:
    """The interactive view of a run being written into ``out``: its newest episode."""
    from traitors.view.spectate.app import WatchApp

    return WatchApp(run_dir=out, speed=None, follow_newest=True)


def live_observer(
    words: Words, out_dir: Path | None = None, console: Console | None = None
) -> LiveObserver:
    """The episode observer for ``traitors run --live``: the watch view of each episode as
    it plays, in the scenario's ``words``. ``out_dir`` (the run's output directory) lets it
    read the running episode's LLM calls."""
    from rich.console import Console

    from traitors.view.spectate.live import LiveObserver

    return LiveObserver(console or Console(), words, out_dir)
