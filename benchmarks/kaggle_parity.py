"""Rules parity with Kaggle Game Arena's Werewolf: random agents on both engines, side by side.

Plays N games with Kaggle's built-in ``random`` agents under each chosen rule config of
``kaggle-environments`` (in its own virtual environment, created when missing; never a
dependency of the project) and N with our ``random_active`` policy (uniform like Kaggle's
random agent: it never passes a vote) under the matching preset
(``scenarios/werewolf_kaggle_standard.yaml`` or ``..._balanced.yaml``, plus ``--set``
overrides for the other configs), then prints per config: the villagers' win rate with
Wilson 95% intervals and the difference with Newcombe's 95% interval, the mean game length
in days, the share of days with no exile and the share of nights with a successful save.

Goal: every difference's interval contains 0, and the mean lengths agree within 10%.
Days (and nights) of one game are counted as independent trials, so their intervals are a
little narrow; the win rate's interval is exact in that respect (one trial per game).

    python benchmarks/kaggle_parity.py [--games 500] [--configs standard balanced | all]
        [--venv PATH] [--jobs 1] [--policy random_active] [--kaggle-from FILE] [--kaggle-out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import subprocess
import sys
import venv
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from traitors.episode.engine import run_episode
from traitors.episode.spec import SpecError, load_spec
from traitors.game import registry
from traitors.game.events import EliminationEvent, GameOverEvent, VoteResultEvent
from traitors.util.stats import wilson

ROOT = Path(__file__).resolve().parent.parent
KAGGLE_SIDE = Path(__file__).resolve().parent / "kaggle_side.py"
KAGGLE_PACKAGE = "kaggle-environments==1.33.2"
DEFAULT_VENV = Path.home() / ".cache" / "traitors" / "kaggle-environments-1.33.2"
SCENARIOS = ROOT / "scenarios"
PRESETS = {"standard": "werewolf_kaggle_standard.yaml", "balanced": "werewolf_kaggle_balanced.yaml"}
DEFAULT_POLICY = "random_active"
"""Our policy closest to Kaggle's random agent: uniform, and it never passes a vote."""
Z95 = 1.959963984540054
LENGTH_TOLERANCE = 0.10
TABLE_WIDTH = 150
VILLAGERS, WEREWOLVES = "villagers", "werewolves"

NO_SELF_SAVE = "rules.doctor_self_protect=false"
NO_REPEAT = "rules.doctor_repeat=false"
FIXED_ORDER = ("rules.first_wolf=fixed", "rules.first_speaker=fixed", "rules.first_voter=fixed")
SEER_TEAM = "rules.seer_learns=team"
PARALLEL = "rules.voting=simultaneous"
NO_SELF = "standard_DisableDoctorSelfSave_"
"""The common prefix of several Kaggle config names."""


@dataclass(frozen=True)
class Match:
    """Our preset (``standard`` or ``balanced``) and the ``--set`` overrides that express
    one Kaggle rule config."""

    preset: str
    overrides: tuple[str, ...] = ()


CONFIGS: dict[str, Match] = {
    "standard": Match("standard"),
    "balanced": Match("balanced"),
    "standard_disable_doctor_self_save": Match("standard", (NO_SELF_SAVE,)),
    f"{NO_SELF}DisableDoctorConsecutiveSave": Match("standard", (NO_SELF_SAVE, NO_REPEAT)),
    "standard_disable_doctor_self_save_no_tie_break_no_rand_first": Match(
        "balanced", (*FIXED_ORDER, "rules.doctor_repeat=true")
    ),
    f"{NO_SELF}DisableDoctorConsecutiveSave_NoTieBreak_NoRandFirst": Match("balanced", FIXED_ORDER),
    f"{NO_SELF}SeerRevealTeam": Match("standard", (NO_SELF_SAVE, SEER_TEAM)),
    f"{NO_SELF}SeerRevealTeam_NightEliminationNoReveal_DayExileNoReveal": Match(
        "standard",
        (NO_SELF_SAVE, SEER_TEAM, "rules.exile_reveals=nothing", "rules.death_reveals=nothing"),
    ),
    f"{NO_SELF}SeerRevealTeam_NightEliminationRevealTeam_DayExileRevealTeam": Match(
        "standard",
        (NO_SELF_SAVE, SEER_TEAM, "rules.exile_reveals=team", "rules.death_reveals=team"),
    ),
    "standard_parallel_voting": Match("standard", (PARALLEL,)),
    "standard_parallel_voting_no_tie_exile": Match(
        "standard", (PARALLEL, "rules.exile_tie=nobody")
    ),
    "standard_parallel_voting_roundbiddiscussion": Match(
        "standard", (PARALLEL, "rules.discussion=bidding")
    ),
}
"""Kaggle rule config (its YAML's name) -> how our presets express it."""


class BenchError(Exception):
    """Bad input or a broken environment: reported in one line."""


# --- the stats of one game ------------------------------------------------------------


@dataclass(frozen=True)
class GameStats:
    """What the parity table needs from one game, on either engine."""

    winner: str | None
    """``villagers``, ``werewolves``, or None (truncated, or ended on an agent error)."""
    days: int
    """Game length: the last day reached (Kaggle's ``last_day``, our last round)."""
    exiles: tuple[bool, ...]
    """Per day with an exile vote: whether someone was exiled."""
    saves: tuple[bool, ...]
    """Per night with a werewolf vote: whether the doctor saved the wolves' target."""


def our_game_stats(events: Iterable[Any]) -> GameStats:
    """The stats of one of our Werewolf episodes, from its events.

    Our round r is Kaggle's Night r-1 and Day r, so the last round is Kaggle's last day. A
    night's save: the werewolves decided a target and nobody was killed that round."""
    events = list(events)
    kill_rounds = {e.round for e in events if isinstance(e, EliminationEvent) and e.cause == "kill"}
    exiles, saves = [], []
    for e in events:
        if isinstance(e, VoteResultEvent) and e.purpose == "exile":
            exiles.append(e.decided is not None)
        elif isinstance(e, VoteResultEvent) and e.purpose == "kill":
            saves.append(e.decided is not None and e.round not in kill_rounds)
    ends = [e for e in events if isinstance(e, GameOverEvent)]
    if not ends:
        raise ValueError("episode without a game_over event")
    return GameStats(ends[-1].winner, ends[-1].round, tuple(exiles), tuple(saves))


def kaggle_game_stats(line: dict[str, Any]) -> GameStats:
    """The stats of one Kaggle game, from its line of ``kaggle_side.py``."""
    winner = None if line.get("agent_error") else line.get("winner")
    return GameStats(
        winner=winner,
        days=int(line["last_day"]),
        exiles=tuple(bool(d["exiled"]) for d in line["days"]),
        saves=tuple(bool(n["saved"]) for n in line["nights"]),
    )


# --- summaries and intervals ------------------------------------------------------------


@dataclass(frozen=True)
class Share:
    """``hits`` out of ``n`` trials."""

    hits: int
    n: int

    @property
    def rate(self) -> float:
        return self.hits / self.n if self.n else math.nan

    def interval(self) -> tuple[float, float]:
        """Wilson 95% interval."""
        return wilson(self.hits, self.n, Z95)


@dataclass(frozen=True)
class Summary:
    """One side's games under one config."""

    games: int
    undecided: int
    """Games without a winner (our truncations, Kaggle's agent errors)."""
    villager_wins: Share
    """Over decided games."""
    mean_days: float
    no_exile_days: Share
    save_nights: Share


def summarize(games: Sequence[GameStats]) -> Summary:
    """Win rate, length and shares over ``games``."""
    decided = [g for g in games if g.winner is not None]
    exiles = [e for g in games for e in g.exiles]
    saves = [s for g in games for s in g.saves]
    return Summary(
        games=len(games),
        undecided=len(games) - len(decided),
        villager_wins=Share(sum(g.winner == VILLAGERS for g in decided), len(decided)),
        mean_days=sum(g.days for g in games) / len(games) if games else math.nan,
        no_exile_days=Share(sum(not e for e in exiles), len(exiles)),
        save_nights=Share(sum(saves), len(saves)),
    )


def newcombe(first: Share, second: Share) -> tuple[float, float]:
    """95% interval of ``first.rate - second.rate`` (Newcombe's hybrid score interval,
    built from the two Wilson intervals)."""
    p1, p2 = first.rate, second.rate
    l1, u1 = first.interval()
    l2, u2 = second.interval()
    diff = p1 - p2
    return (
        diff - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
        diff + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
    )


@dataclass(frozen=True)
class Row:
    """One line of the table: a metric on both sides and whether it meets the goal."""

    metric: str
    kaggle: str
    ours: str
    difference: str
    ok: bool


def share_row(metric: str, kaggle: Share, ours: Share) -> Row:
    """A proportion on both sides; the goal: the difference's interval contains 0."""
    if not kaggle.n or not ours.n:
        return Row(metric, fmt_share(kaggle), fmt_share(ours), "-", kaggle.n == ours.n == 0)
    low, high = newcombe(ours, kaggle)
    difference = f"{ours.rate - kaggle.rate:+.3f} [{low:+.3f}, {high:+.3f}]"
    return Row(metric, fmt_share(kaggle), fmt_share(ours), difference, low <= 0 <= high)


def length_row(kaggle: float, ours: float) -> Row:
    """Mean game length on both sides; the goal: within 10% of Kaggle's."""
    ratio = ours / kaggle if kaggle else math.nan
    ok = abs(ratio - 1) <= LENGTH_TOLERANCE
    return Row("mean length (days)", f"{kaggle:.2f}", f"{ours:.2f}", f"x{ratio:.3f}", ok)


def compare(kaggle: Summary, ours: Summary) -> list[Row]:
    """The table's rows for one config."""
    return [
        share_row("villager win rate", kaggle.villager_wins, ours.villager_wins),
        length_row(kaggle.mean_days, ours.mean_days),
        share_row("days with no exile", kaggle.no_exile_days, ours.no_exile_days),
        share_row("nights with a save", kaggle.save_nights, ours.save_nights),
    ]


def fmt_share(share: Share) -> str:
    """``0.224 [0.188, 0.265]``."""
    if not share.n:
        return "- (0 trials)"
    low, high = share.interval()
    return f"{share.rate:.3f} [{low:.3f}, {high:.3f}]"


# --- our side ----------------------------------------------------------------------------


def our_spec_args(
    config: str, policy: str = DEFAULT_POLICY, presets: Path = SCENARIOS
) -> tuple[Path, list[str]]:
    """The preset file and overrides playing Kaggle's ``config`` with every seat on
    ``policy``."""
    match = CONFIGS[config]
    seats = [f"agents.default.policy={policy}"]
    return presets / PRESETS[match.preset], [*match.overrides, *seats]


def play_ours(
    config: str, seeds: range, policy: str, presets: Path, tick: Callable[[], None]
) -> list[GameStats]:
    """Play an episode of our engine per seed under ``config``'s preset, nothing written."""
    if policy not in registry.names("policy"):
        known = ", ".join(registry.names("policy"))
        raise BenchError(f"--policy {policy}: no such policy installed; known: {known}")
    path, overrides = our_spec_args(config, policy, presets)
    if not path.exists():
        raise BenchError(f"{path} is missing (the preset for {config})")
    try:
        spec = load_spec(path, overrides)
    except SpecError as error:
        raise BenchError(f"{config}: {error}") from None

    async def play() -> list[GameStats]:
        found = []
        for seed in seeds:
            result = await run_episode(spec, seed)
            found.append(our_game_stats(result.events))
            tick()
        return found

    return asyncio.run(play())


# --- Kaggle's side ----------------------------------------------------------------------


def venv_python(path: Path) -> Path:
    """The interpreter of the virtual environment at ``path``."""
    return path / "bin" / "python"


def has_kaggle(python: Path) -> bool:
    """Whether ``python`` imports the pinned kaggle-environments."""
    if not python.exists():
        return False
    check = "import importlib.metadata as m; print(m.version('kaggle-environments'))"
    done = subprocess.run([python, "-c", check], capture_output=True, text=True)
    return done.returncode == 0 and done.stdout.strip() == KAGGLE_PACKAGE.split("==")[1]


def ensure_venv(path: Path, console: Console) -> Path:
    """The python of a virtual environment holding kaggle-environments, made if missing."""
    python = venv_python(path)
    if has_kaggle(python):
        return python
    console.print(f"installing {KAGGLE_PACKAGE} into {path} (about a minute, 1.6 GB)")
    try:
        if not python.exists():
            venv.create(path, with_pip=True)
    except OSError as error:
        raise BenchError(f"--venv {path}: cannot create a virtual environment: {error}") from None
    install = [str(python), "-m", "pip", "install", "-q", KAGGLE_PACKAGE]
    done = subprocess.run(install, capture_output=True, text=True)
    if done.returncode != 0 or not has_kaggle(python):
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise BenchError(f"--venv {path}: pip could not install {KAGGLE_PACKAGE}: {last}")
    return python


def kaggle_configs(python: Path, names: Iterable[str]) -> dict[str, Any]:
    """``game_config`` of each named rule config, read from the installed package."""
    where = subprocess.run([python, str(KAGGLE_SIDE), "--where"], capture_output=True, text=True)
    if where.returncode != 0:
        raise BenchError(f"{python}: cannot locate kaggle-environments' rule configs")
    folder = Path(where.stdout.strip())
    configs = {}
    for name in names:
        path = folder / f"{name}.yaml"
        if not path.exists():
            raise BenchError(f"{path}: no such rule config in kaggle-environments")
        configs[name] = yaml.safe_load(path.read_text())["game_config"]
    return configs


def kaggle_lines(python: Path, job: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Run ``kaggle_side.py`` on ``job``; its JSON lines as they come."""
    with subprocess.Popen(
        [python, str(KAGGLE_SIDE)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as process:
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(json.dumps(job))
        process.stdin.close()
        for text in process.stdout:
            if text.startswith("{"):
                yield json.loads(text)
        stderr = process.stderr.read() if process.stderr else ""
    if process.returncode != 0:
        last = (stderr.strip().splitlines() or ["no output"])[-1]
        raise BenchError(f"kaggle_side.py failed: {last}")


def split_lines(
    lines: Iterable[dict[str, Any]],
) -> tuple[dict[str, list[GameStats]], dict[str, str]]:
    """Kaggle's games per config, and the configs that could not run (with the error)."""
    games: dict[str, list[GameStats]] = {}
    failed: dict[str, str] = {}
    for line in lines:
        if "error" in line:
            failed[line["config"]] = line["error"]
        else:
            games.setdefault(line["config"], []).append(kaggle_game_stats(line))
    return games, failed


# --- the command --------------------------------------------------------------------------


def chosen_configs(names: Sequence[str]) -> list[str]:
    """The configs named on the command line (``all``: every one), checked."""
    if list(names) == ["all"]:
        return list(CONFIGS)
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        raise BenchError(f"unknown config {unknown[0]!r}; known: all, {', '.join(CONFIGS)}")
    return list(dict.fromkeys(names))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--games", type=int, default=500, help="games per config and side")
    parser.add_argument("--configs", nargs="+", default=["standard", "balanced"])
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    parser.add_argument("--policy", default=DEFAULT_POLICY, help="our seats' policy")
    parser.add_argument("--presets", type=Path, default=SCENARIOS, help="folder of our presets")
    parser.add_argument("--jobs", type=int, default=1, help="Kaggle games played at once")
    parser.add_argument("--base-seed", type=int, default=0, help="first game's seed")
    parser.add_argument("--kaggle-from", type=Path, help="Kaggle's JSON lines of an earlier run")
    parser.add_argument("--kaggle-out", type=Path, help="save Kaggle's JSON lines here")
    args = parser.parse_args(argv)
    if args.games < 1 or args.jobs < 1:
        parser.error("--games and --jobs must be at least 1")
    return args


def run_kaggle(
    args: argparse.Namespace, configs: list[str], console: Console, progress: Progress
) -> Iterator[dict[str, Any]]:
    """Kaggle's JSON lines: read from ``--kaggle-from``, or played now (saved if asked)."""
    if args.kaggle_from:
        try:
            text = args.kaggle_from.read_text()
            lines = [json.loads(t) for t in text.splitlines() if t.strip()]
        except (OSError, ValueError) as error:
            raise BenchError(f"--kaggle-from {args.kaggle_from}: {error}") from None
        yield from (line for line in lines if line.get("config") in configs)
        return
    python = ensure_venv(args.venv, console)
    job = {
        "configs": kaggle_configs(python, configs),
        "games": args.games,
        "base_seed": args.base_seed,
        "jobs": args.jobs,
    }
    try:
        saved = args.kaggle_out.open("w") if args.kaggle_out else None
    except OSError as error:
        raise BenchError(f"--kaggle-out {args.kaggle_out}: {error}") from None
    task = progress.add_task("Kaggle games", total=args.games * len(configs))
    played: dict[str, int] = {}
    try:
        for line in kaggle_lines(python, job):
            if saved:
                saved.write(json.dumps(line) + "\n")
            config = line["config"]
            step = args.games - played.get(config, 0) if "error" in line else 1
            played[config] = played.get(config, 0) + step
            progress.advance(task, step)
            yield line
    finally:
        if saved:
            saved.close()


def report(
    configs: list[str],
    kaggle: dict[str, list[GameStats]],
    failed: dict[str, str],
    ours: dict[str, list[GameStats]],
    console: Console,
    policy: str = DEFAULT_POLICY,
) -> bool:
    """Print the table; whether every compared config meets the goal."""
    title = f"Werewolf parity: Kaggle's random agents vs our {policy} (95% intervals)"
    table = Table(title=title)
    table.add_column("config", overflow="fold", max_width=34)
    table.add_column("metric")
    for column in ("Kaggle", "ours", "ours - Kaggle", "ok"):
        table.add_column(column, justify="right")
    all_ok = True
    for config in configs:
        if config in failed:
            table.add_row(config, "not runnable on Kaggle's side", failed[config], "", "", "-")
            continue
        if not kaggle.get(config):
            table.add_row(config, "no Kaggle games (--kaggle-from)", "", "", "", "-")
            continue
        theirs, mine = summarize(kaggle[config]), summarize(ours[config])
        label = f"{config}\nKaggle {theirs.games} games ({theirs.undecided} undecided)"
        label += f"\nours {mine.games} games ({mine.undecided} undecided)"
        for i, row in enumerate(compare(theirs, mine)):
            all_ok &= row.ok
            mark = "[green]yes[/]" if row.ok else "[red]no[/]"
            table.add_row(label if i == 0 else "", row.metric, row.kaggle, row.ours,
                          row.difference, mark)  # fmt: skip
        table.add_section()
    console.print(table)
    return all_ok


def main(argv: Sequence[str] | None = None) -> int:
    console = Console()
    if not console.is_terminal:
        console.width = max(console.width, TABLE_WIDTH)
    try:
        args = parse_args(argv)
        configs = chosen_configs(args.configs)
        with Progress(console=console, transient=True) as progress:
            kaggle, failed = split_lines(run_kaggle(args, configs, console, progress))
            runnable = [c for c in configs if kaggle.get(c)]
            task = progress.add_task("our games", total=args.games * len(runnable))
            seeds = range(args.base_seed, args.base_seed + args.games)
            ours = {
                c: play_ours(c, seeds, args.policy, args.presets, lambda: progress.advance(task))
                for c in runnable
            }
    except BenchError as error:
        print(f"kaggle_parity: {error}", file=sys.stderr)
        return 2
    ok = report(configs, kaggle, failed, ours, console, args.policy)
    verdict = "met" if ok else "NOT met"
    console.print(
        f"goal ({verdict}): every difference's interval contains 0, mean lengths within 10%"
        f"{'' if not failed else f'; {len(failed)} config(s) not runnable on Kaggle side'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
