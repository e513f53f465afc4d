"""The ``traitors`` command line: run, sweep, replay, check, watch, play, analyze.

Heavy modules are imported inside the commands, so ``traitors --help`` starts fast.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

from traitors.commands.options import UsageError, add_run_options

if TYPE_CHECKING:
    from traitors.episode.spec import ScenarioSpec

EXIT_BAD_INPUT = 2
COMMANDS = "traitors.commands"
"""Entry-point group of commands other packages add (each entry adds its subparser)."""
AGENT_CHOICES = {
    "scripted": "heuristic",
    "heuristic": "heuristic",
    "random": "random",
    "llm": "llm",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="traitors",
        description="Multi-agent deception simulation engine: run, sweep, analyze, watch, play.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="play episodes of a scenario spec and write their logs",
        description="Play episodes of SPEC and write one directory per episode under --out.",
    )
    run.add_argument("spec", metavar="SPEC.yaml", help="scenario spec file")
    run.add_argument(
        "--agents",
        choices=sorted(AGENT_CHOICES),
        help="put every seat on one policy (scripted = heuristic; default: the spec's)",
    )
    run.add_argument(
        "--model", metavar="M", help="model of every LLM seat, e.g. local/smollm2-135m"
    )
    run.add_argument(
        "--events",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="print every event as it happens (default: on when LLM seats play)",
    )
    run.add_argument(
        "--live",
        action="store_true",
        help="follow the episodes in the interactive view as they play (lines when piped)",
    )
    run.add_argument("--episodes", type=int, default=1, metavar="N", help="episodes (default 1)")
    run.add_argument(
        "--seed", type=int, metavar="S", help="seed of the first episode (default: the spec's)"
    )
    run.add_argument(
        "--out", type=Path, metavar="DIR", help="output directory (default runs/<name>-<time>)"
    )
    run.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a spec field, e.g. --set rules.n_players=6 (repeatable)",
    )
    run.set_defaults(handler=_cmd_run)

    sweep = commands.add_parser(
        "sweep",
        help="run a sweep (models x parameters x seeds) locally or on Ray; resumable",
        description=(
            "Expand SWEEP.yaml (base spec, grid, zip, episodes, seed) and run every episode "
            "into --out (default runs/<sweep-name>). Complete episodes are skipped, so running "
            "the same command again resumes after a crash or Ctrl-C."
        ),
    )
    sweep.add_argument("sweep", metavar="SWEEP.yaml", help="sweep spec file")
    sweep.add_argument("--dry-run", action="store_true", help="print the expansion and exit")
    add_run_options(sweep)
    sweep.set_defaults(handler=_cmd_sweep)

    compact = commands.add_parser(
        "compact",
        help="pack a run's finished episodes into Parquet shards",
        description=(
            "Pack every finished (complete or degraded) episode directory of DIR into "
            "DIR/shards/*.parquet and remove the directories; analyze, watch and replay read "
            "shards. Sweeps do this by themselves at the end once 1,000 episodes are loose."
        ),
    )
    compact.add_argument("path", type=Path, metavar="DIR", help="run or sweep directory")
    compact.set_defaults(handler=_cmd_compact)

    replay = commands.add_parser(
        "replay",
        help="re-execute a recorded episode and compare it with its log",
        description="Re-run EPISODE_DIR from its manifest; print OK or the first divergence.",
    )
    replay.add_argument("episode_dir", type=Path, metavar="EPISODE_DIR", nargs="+")
    replay.set_defaults(handler=_cmd_replay)

    check = commands.add_parser(
        "check",
        help="conformance check of a scenario over many seeds",
        description=(
            "Random legal play over many seeds: the game ends in time, eliminated players "
            "never act, actions are legal, the outcome matches the win condition, and no "
            "observation leaks a hidden event; and the rules text the prompts state is the "
            "rules played."
        ),
    )
    check.add_argument("scenario", metavar="SCENARIO", help="scenario name or spec file")
    check.add_argument("--seeds", type=int, default=300, metavar="N", help="seeds (default 300)")
    check.add_argument("--policy", default="random", help="policy for every seat (default random)")
    check.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
        help="override a spec field (repeatable)",
    )  # fmt: skip
    check.set_defaults(handler=_cmd_check)

    from traitors.commands import (
        analyze,
        dataset,
        export,
        import_,
        influence,
        judge,
        models,
        plan,
        probe,
    )
    from traitors.commands.fork import add_fork_parser
    from traitors.commands.spectate import add_play_parser, add_watch_parser

    add_fork_parser(commands)
    add_watch_parser(commands)
    add_play_parser(commands)
    for module in (analyze, dataset, judge, probe, export, import_, influence, plan, models):
        module.add_parser(commands)
    for entry in sorted(entry_points(group=COMMANDS), key=lambda e: e.name):
        entry.load()(commands)  # commands other packages add
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``traitors`` console script."""
    args = _parser().parse_args(argv)
    from traitors.episode.spec import SpecError
    from traitors.game.registry import UnknownName
    from traitors.sweep.ray_setup import RayJoinError

    try:
        code: int = args.handler(args)
    except (SpecError, UnknownName, UsageError, FileNotFoundError, RayJoinError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return code


def _load(
    path: str, overrides: Sequence[str], agents: str | None = None, model: str | None = None
) -> ScenarioSpec:
    from traitors.episode.spec import load_spec, with_model, with_policy

    spec = load_spec(path, overrides)
    if agents is not None:
        spec = with_policy(spec, AGENT_CHOICES[agents], f"{path} --agents {agents}")
    if model is not None:
        spec = with_model(spec, model, f"{path} --model")
    return spec


def _cmd_run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from traitors.commands.preflight import check_specs
    from traitors.commands.spectate import live_observer, run_live
    from traitors.episode.spec import uses_policy
    from traitors.game.lines import LinePrinter
    from traitors.sweep.episodes import EpisodeSummary, run_episodes

    if args.episodes < 1:
        raise UsageError("--episodes must be at least 1")
    spec = _load(args.spec, args.overrides, args.agents, args.model)
    if uses_policy(spec, "human"):
        raise UsageError(f"{args.spec}: a human seat plays through `traitors play --as SEAT`")
    check_specs([spec])
    words = spec.build_rules().words
    show_events = uses_policy(spec, "llm") if args.events is None else args.events
    first = spec.seed if args.seed is None else args.seed
    out = args.out or Path("runs") / f"{spec.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    console = Console()
    console.print(f"running {args.episodes} episode(s) of [bold]{spec.name}[/] into {out}")

    def done(summary: EpisodeSummary) -> None:
        manifest = summary.manifest
        outcome = manifest.outcome
        ended = "-"
        if outcome is not None:
            rounds = _rounds(outcome.rounds, _ended_in(summary.dir))
            ended = f"{outcome.winner or 'draw'} after {rounds}"
        state = "kept (already complete)" if summary.skipped else manifest.status
        console.print(f"  {summary.episode_id}  seed {summary.seed}: {ended}, {state}")
        if not manifest.played:
            console.print(f"    [red]{manifest.status}[/]: {manifest.status_reason}")

    seeds = range(first, first + args.episodes)
    if args.live and console.is_terminal:  # the interactive view; the lines after it closes
        finished: list[EpisodeSummary] = []
        summaries = run_live(out, lambda: run_episodes(spec, seeds, out, finished.append))
        for summary in finished:
            done(summary)
    elif args.live:
        with live_observer(words, out, console) as live:
            summaries = run_episodes(spec, seeds, out, done, [live])
    else:
        observers = [LinePrinter(words)] if show_events else []
        summaries = run_episodes(spec, seeds, out, done, observers)
    table = Table(title=f"{spec.name}: {len(summaries)} episode(s) in {out}")
    for column in ("episode", "seed", "status", "winner", "rounds played", "eliminated"):
        table.add_column(column)
    for summary in summaries:
        manifest = summary.manifest
        outcome = manifest.outcome
        assert outcome is not None
        winner = outcome.winner or ("draw (truncated)" if outcome.truncated else "draw")
        table.add_row(
            summary.episode_id,
            str(summary.seed),
            manifest.status,
            winner,
            _rounds(outcome.rounds, _ended_in(summary.dir), short=True),
            ", ".join(_eliminations(summary.dir, words)),
        )
    console.print(table)
    unplayed = [s for s in summaries if not s.manifest.played]
    if unplayed:
        console.print(
            f"[red]{len(unplayed)} of {len(summaries)} episode(s) not played as specified[/] "
            "(failed model calls or defaulted actions; see the status above); the analysis "
            "leaves them out unless asked (--include-degraded)."
        )
        return 1
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    from traitors.commands.run import run_sweep_command

    return run_sweep_command(args)


def _cmd_compact(args: argparse.Namespace) -> int:
    from traitors.commands.run import run_compact_command

    return run_compact_command(args)


def _rounds(played: int, ended_in: int, short: bool = False) -> str:
    """The rounds played (``short``: the number alone), and the round the game ended in
    when that is a later one (it ended at the next round's opening), numbered as the log's
    events are."""
    if short:
        return f"{played} (over in r{ended_in})" if ended_in > played else str(played)
    text = f"{played} round{'' if played == 1 else 's'}"
    return f"{text} (game over in round {ended_in})" if ended_in > played else text


def _ended_in(directory: Path) -> int:
    """The round of the episode's last event (0 for none)."""
    from traitors.store.log import iter_events

    last = 0
    for event in iter_events(directory):
        last = event.round
    return last


def _eliminations(directory: Path, words: Any) -> list[str]:
    from traitors.game.events import EliminationEvent
    from traitors.store.log import iter_events

    return [
        f"{e.target} ({words.elimination(e.cause)} r{e.round})"
        for e in iter_events(directory)
        if isinstance(e, EliminationEvent)
    ]


def _cmd_replay(args: argparse.Namespace) -> int:
    """0 when every episode replays exactly, 1 if one diverges (or asks for a call the
    recording lacks), 2 if one cannot be read; each directory gets one line (an imported
    episode, played elsewhere, is named as such and is not replayed)."""
    from traitors.episode.core import RestoreError
    from traitors.episode.spec import SpecError
    from traitors.store.calls import ReplayMiss
    from traitors.store.log import LogError, load_manifest
    from traitors.store.shards import resolve_episode
    from traitors.sweep.replay import replay_episode
    from traitors.util.text import printable

    codes = [0]
    for directory in args.episode_dir:
        try:
            if not directory.exists():  # packed into a shard: extracted to replay it
                directory = resolve_episode(directory)
            source = load_manifest(directory).source
            if source is not None:
                print(
                    f"IMPORTED {directory}: read from {source.format} "
                    f"({printable(source.file)}); it has no model calls to replay"
                )
                continue
            result = replay_episode(directory)
        except (ReplayMiss, RestoreError) as exc:
            print(f"DIVERGED {directory}: {exc}")
            codes.append(1)
        except (LogError, SpecError, FileNotFoundError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            codes.append(EXIT_BAD_INPUT)
        else:
            if result.ok:
                print(f"OK {directory} ({result.events} events)")
            else:
                print(f"DIVERGED {directory}: {result.divergence}")
                codes.append(1)
    return max(codes)


def _cmd_check(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from traitors.episode.conformance import check_scenario
    from traitors.episode.spec import validate_spec

    if args.seeds < 1:
        raise UsageError("--seeds must be at least 1")
    if Path(args.scenario).suffix in (".yaml", ".yml"):
        spec = _load(args.scenario, args.overrides)
    else:
        from traitors.episode.spec import apply_override

        raw: dict[str, Any] = {"name": args.scenario, "scenario": args.scenario}
        for item in args.overrides:
            raw = apply_override(raw, item, source=args.scenario)
        spec = validate_spec(raw, source=args.scenario)
    console = Console()
    started = time.perf_counter()
    source = f"{args.scenario} --policy {args.policy}"
    report = check_scenario(spec, range(args.seeds), args.policy, source)
    elapsed = time.perf_counter() - started
    table = Table(title=f"conformance: {spec.scenario} ({args.policy} play)")
    table.add_column("check")
    table.add_column("result")
    table.add_row("episodes", str(report.episodes))
    table.add_row("events / decisions", f"{report.events} / {report.decisions}")
    table.add_row("outcomes", ", ".join(f"{k} {v}" for k, v in sorted(report.winners.items())))
    table.add_row("longest game (rounds)", str(report.max_round))
    table.add_row("problems", str(len(report.problems)))
    rules_text = report.rules_text
    if rules_text is not None:
        table.add_row("rules text of the prompts", rules_text.summary())
    table.add_row("time", f"{elapsed:.1f} s")
    console.print(table)
    for problem in report.problems[:20]:
        console.print(f"[red]FAIL[/] {problem}", highlight=False)
    if rules_text is not None and not rules_text.ok:
        console.print(f"[red]FAIL[/] the rules text {rules_text.summary()}", highlight=False)
    if report.ok:
        unchecked = rules_text is not None and not rules_text.declared
        console.print(
            "[green]OK[/]: every contract held"
            + (f" (the rules text was {rules_text.summary()})" if unchecked and rules_text else ""),
            highlight=False,
        )
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
