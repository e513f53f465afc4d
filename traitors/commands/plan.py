"""``traitors plan SWEEP.yaml --ci-width W [--pilot RUN_DIR]``: episodes a sweep needs.

Per cell: episodes for a Wilson interval of the hidden side's win rate at most W wide. Per
pair of the design's models, on each side: seeds (and episodes) for an interval of their win
rate difference at most W wide (see :mod:`analysis.planning`). Rates come from the pilot
run's complete episodes when given (a cell's own factors when the pilot has them, else the
whole pilot; smoothed as (wins + 1) / (games + 2)), else the worst case 0.5.
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import polars as pl

    from traitors.sweep.jobs import Job
    from traitors.sweep.spec import SweepSpec

EXIT_BAD_INPUT = 2
Pilot = tuple["pl.DataFrame", "pl.DataFrame"]
"""A pilot run's complete episodes (with ``hidden_won``) and its seats (with ``won``)."""
SIDES = {True: "deception", False: "detection"}
"""A seat's side (on the hidden side or not) as the ratings name it."""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``plan`` subcommand."""
    parser = subparsers.add_parser(
        "plan",
        help="episodes a sweep needs for intervals of a given width (win rates, model pairs)",
        description=" ".join(__doc__.split("\n\n")[1].split()) if __doc__ else None,
    )
    parser.add_argument("sweep", type=Path, metavar="SWEEP.yaml")
    parser.add_argument(
        "--ci-width", type=float, default=0.1, metavar="W", help="interval width (default 0.1)"
    )
    parser.add_argument("--pilot", type=Path, metavar="RUN_DIR", help="a run to take rates from")
    parser.add_argument(
        "--alpha", type=float, default=0.05, help="1 - the intervals' level (default 0.05)"
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the plan; bad input prints one line and returns 2."""
    from analysis.errors import AnalysisError

    try:
        return _plan(args)
    except (AnalysisError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _plan(args: argparse.Namespace) -> int:
    from rich.console import Console

    from analysis.planning import z_for
    from traitors.sweep.jobs import Job
    from traitors.sweep.spec import load_sweep

    if not 0 < args.ci_width < 1 or not 0 < args.alpha < 1:
        raise ValueError("--ci-width and --alpha must be between 0 and 1")
    sweep, episodes = load_sweep(args.sweep)
    jobs = [Job.of(e) for e in episodes]
    pilot = _pilot(args.pilot) if args.pilot is not None else None
    z = z_for(args.alpha)
    console = Console()
    console.print(_cell_table(sweep, jobs, pilot, args.ci_width, z))
    if sweep.design is not None:
        console.print(_pair_table(jobs, pilot, args.ci_width, z))
    source = f"rates from {args.pilot}" if pilot is not None else "worst case: rates of 0.5"
    console.print(f"{1 - args.alpha:.0%} intervals; {source}.", highlight=False)
    return 0


def _pilot(path: Path) -> Pilot:
    """The pilot's complete episodes (with ``hidden_won``) and its seats (with ``won``)."""
    import polars as pl

    from analysis.errors import AnalysisError
    from analysis.loader import load

    if not path.is_dir():
        raise AnalysisError(f"{path}: no such directory")
    data = load(path)
    episodes = data.episodes.with_columns(
        hidden_won=pl.col("winner")
        .cast(pl.String)
        .is_in(pl.col("hidden_factions"))
        .fill_null(False)
    ).collect()
    if episodes.height == 0:
        raise AnalysisError(f"{path}: no complete episode to take rates from")
    seats = (
        data.players.select("episode_id", "label", "hidden")
        .drop_nulls("hidden")
        .unique()
        .collect()
        .join(episodes.select("episode_id", "hidden_won", "winner"), on="episode_id")
        .with_columns(
            won=pl.when(pl.col("hidden"))
            .then(pl.col("hidden_won"))
            .otherwise(pl.col("winner").is_not_null() & ~pl.col("hidden_won"))
        )
    )
    return episodes, seats


def _cell_rate(pilot: Pilot | None, factors: dict[str, Any]) -> tuple[float, str]:
    """The hidden side's win rate for a cell and where it came from."""
    from analysis.planning import WORST_CASE

    if pilot is None:
        return WORST_CASE, "worst case"
    import polars as pl

    episodes = pilot[0]
    matching = episodes
    for name, value in factors.items():
        if name in episodes.columns:
            matching = matching.filter(pl.col(name).cast(pl.String) == str(value))
    if factors and matching.height and matching.height < episodes.height:
        return _share(matching["hidden_won"]), f"pilot cell ({matching.height} ep)"
    return _share(episodes["hidden_won"]), f"pilot ({episodes.height} ep)"


def _cell_table(
    sweep: SweepSpec,
    jobs: Sequence[Job],
    pilot: Pilot | None,
    width: float,
    z: float,
) -> Any:
    from rich.table import Table

    from analysis.planning import episodes_for_rate

    table = Table(title=f"episodes per cell for a win-rate interval {width} wide (Wilson)")
    columns = ["cell", "factors", "rate", "from", "episodes", "seeds", "planned"]
    if sweep.stop is not None:
        columns.append("with stop's looks")
    for column in columns:
        table.add_column(column, justify="left" if column in ("factors", "from") else "right")
    cells: dict[int, list[Job]] = {}
    for job in jobs:
        cells.setdefault(job.cell, []).append(job)
    for cell, members in cells.items():
        rate, source = _cell_rate(pilot, members[0].factors)
        needed = episodes_for_rate(rate, width, z)
        block = sum(job.seed == members[0].seed for job in members)
        factors = ", ".join(f"{k}={v}" for k, v in members[0].factors.items()) or "(base)"
        row = [str(cell), factors, f"{rate:.3f}", source, str(needed)]
        row += [str(math.ceil(needed / block)), str(len(members))]
        if sweep.stop is not None:
            row.append(str(episodes_for_rate(rate, width, sweep.stop.z())))
        table.add_row(*row)
    return table


def _pair_table(jobs: Sequence[Job], pilot: Pilot | None, width: float, z: float) -> Any:
    """Seeds and episodes for each pair of the design's models, per side."""
    from rich.table import Table

    from analysis.planning import WORST_CASE, seeds_for_difference

    per_seed, blocks, block = _plays_per_seed(jobs)
    table = Table(title=f"seeds per pair of models for a win-rate difference {width} wide")
    for column in ("side", "pair", "rates", "plays per seed", "seeds", "episodes"):
        table.add_column(column, justify="right")
    models = sorted({model for model, _ in per_seed})
    for hidden, side in SIDES.items():
        for a, b in itertools.combinations(models, 2):
            rates = (_seat_rate(pilot, a, hidden), _seat_rate(pilot, b, hidden))
            plays = (per_seed[a, hidden] / blocks, per_seed[b, hidden] / blocks)
            if min(plays) == 0:
                table.add_row(side, f"{a} - {b}", "", "never", "-", "-")
                continue
            seeds = seeds_for_difference(rates, plays, width, z)
            shown = ", ".join(f"{r:.2f}" if pilot else f"{WORST_CASE}" for r in rates)
            table.add_row(
                side,
                f"{a} - {b}",
                shown,
                f"{plays[0]:.2f}, {plays[1]:.2f}",
                str(seeds),
                str(seeds * block),
            )
    return table


def _plays_per_seed(jobs: Sequence[Job]) -> tuple[Counter[tuple[str, bool]], int, int]:
    """Episodes in which each model plays each side, the number of (cell, seed) blocks, and
    the episodes of one block."""
    from traitors.sweep.design_view import seat_models

    plays: Counter[tuple[str, bool]] = Counter()
    blocks: Counter[tuple[int, int]] = Counter()
    hidden_roles: dict[int, frozenset[str]] = {}
    for job in jobs:
        if job.cell not in hidden_roles:
            hidden_roles[job.cell] = job.spec.build_rules().words.hidden_roles()
        blocks[job.cell, job.seed] += 1
        sides = {(model, role in hidden_roles[job.cell]) for model, role in seat_models(job)}
        plays.update(sides)
    return plays, len(blocks), max(blocks.values())


def _seat_rate(pilot: Pilot | None, model: str, hidden: bool) -> float:
    """A model's win rate on a side in the pilot (0.5 without one, or without such seats)."""
    from analysis.planning import WORST_CASE

    if pilot is None:
        return WORST_CASE
    import polars as pl

    label = pl.col("label").cast(pl.String)
    games = pilot[1].filter((label == model) & (pl.col("hidden") == hidden)).unique("episode_id")
    return _share(games["won"]) if games.height else WORST_CASE


def _share(flags: pl.Series) -> float:
    """The share of true values, as (true + 1) / (n + 2): a pilot that won all or none of
    its few games still leaves room for the other outcome (a rate of 0 or 1 would plan no
    variance at all)."""
    values = flags.to_list()
    return (sum(bool(v) for v in values) + 1) / (len(values) + 2)
