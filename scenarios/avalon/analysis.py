"""Avalon's analysis plug-in (:data:`ANALYSIS`, entry point ``traitors.analysis``): its own
metric group, ``avalon``, its figure and the facts its rules text states.

The group: quests by number, the assassination, and how early the private probes rank Merlin
(the evil side's P(Merlin)) and the evil seats (the good side's P(evil)).

The Avalon episodes are those whose manifest names the scenario ``avalon``; the tables have
no rows for any other game. Like The Traitors' ``paper``, this group keeps its game's words:
the factions ``good`` and ``evil`` in its column names and the role ``merlin``. Who is on
which side comes from the manifests' words as everywhere (the ``players`` frame's
``hidden``: evil), and good wins when the winner is not a hidden faction.

Avalon's own facts are fields the common frames do not hold (a team vote's count, a quest's
fail cards, a P(Merlin) report, whether the assassination hit): they are read from each
Avalon episode's ``events.jsonl``, the kinds of :data:`KINDS` only. The engine's ``belief``
reports (P(evil)) come from the ``beliefs`` frame.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from analysis.figures import BOUNDS, Words, error_bars, split_groups
from analysis.frames import KEY
from analysis.loader import RunData
from analysis.plugin import Figure, GameAnalysis
from analysis.suite import HIDDEN_SIDE_GROUPS
from analysis.summary import Table, grouped, summarize, wilson_interval
from analysis.tables import round_beliefs, shared, unique_columns
from traitors.game.rules_text import always, number, rule
from traitors.store.log import EVENTS

if TYPE_CHECKING:
    from matplotlib.figure import Figure as PyplotFigure

SCENARIO = "avalon"
"""The manifests' ``scenario`` of the games this group reads."""
GOOD, EVIL = "good", "evil"
"""Avalon's factions, as its words name them (column names and titles use them)."""
MERLIN = "merlin"
"""The role the evil side hunts."""
MAX_REJECTIONS = 5
"""Teams rejected in a row that end the game (the rules'; a ``team_result`` says how many)."""
KINDS = ("team_result", "quest_result", "merlin_belief", "assassination")
"""Avalon's event kinds this group reads from the logs."""
_KIND = re.compile(rb'"kind"\s*:\s*"(?:' + "|".join(KINDS).encode() + rb')"')

EVENT_SCHEMA: dict[str, pl.DataType] = {
    "episode_id": KEY,
    "seq": pl.Int64(),
    "round": pl.Int64(),
    "kind": KEY,
    "actor": KEY,
    "attempt": pl.Int64(),
    "approved": pl.Boolean(),
    "rejected_in_a_row": pl.Int64(),
    "fails": pl.Int64(),
    "fails_needed": pl.Int64(),
    "succeeded": pl.Boolean(),
    "target": KEY,
    "hit": pl.Boolean(),
    "probs": pl.List(pl.Struct({"target": pl.String(), "p": pl.Float64()})),
}
"""One row per event of :data:`KINDS`: ``team_result`` (attempt, approved,
rejected_in_a_row), ``quest_result`` (fails, fails_needed, succeeded), ``merlin_belief``
(actor, probs: player -> P(Merlin)), ``assassination`` (actor, target, hit)."""

DEDUCTION = (
    "merlin_top_round",
    "merlin_top_reached",
    "merlin_rank_last",
    "merlin_top_last",
    "separated_round",
    "separated_reached",
    "separated_round_without_merlin",
    "separated_reached_without_merlin",
)
"""Per-episode deduction metrics (table ``avalon_deduction``)."""


# --- reading ---------------------------------------------------------------------------------


def avalon_episodes(data: RunData) -> pl.LazyFrame:
    """(episode_id, path, winner, hidden_factions) of the Avalon episodes."""
    return data.episodes.filter(pl.col("scenario") == SCENARIO).select(
        "episode_id", "path", "winner", "hidden_factions"
    )


@shared
def avalon_events(data: RunData) -> pl.DataFrame:
    """Every event of :data:`KINDS` of the Avalon episodes, in log order (see
    :data:`EVENT_SCHEMA`)."""
    episodes = avalon_episodes(data).select("episode_id", "path").collect()
    events = (
        (str(episode_id), json.loads(line))
        for episode_id, path in episodes.iter_rows()
        for line in _lines(Path(path) / EVENTS)
    )
    rows = [_row(episode_id, event) for episode_id, event in events if event.get("kind") in KINDS]
    return pl.DataFrame(rows, schema=EVENT_SCHEMA).sort("episode_id", "seq", maintain_order=True)


def _lines(path: Path) -> Iterator[bytes]:
    """The lines of an events file that may hold one of :data:`KINDS` (none if it is gone)."""
    if not path.is_file():
        return
    for line in path.read_bytes().splitlines():
        if _KIND.search(line):
            yield line


def _row(episode_id: str, event: dict[str, Any]) -> dict[str, Any]:
    probs = event.get("probs")
    return {
        "episode_id": episode_id,
        **{name: event.get(name) for name in EVENT_SCHEMA if name not in ("episode_id", "probs")},
        "fails_needed": event.get("fails_needed") if event.get("kind") == "quest_result" else None,
        "probs": [{"target": t, "p": p} for t, p in probs.items()]
        if isinstance(probs, dict)
        else None,
    }


def _kind(data: RunData, kind: str) -> pl.LazyFrame:
    return avalon_events(data).lazy().filter(pl.col("kind") == kind)


def _factors(data: RunData, by: Sequence[str]) -> pl.LazyFrame:
    return data.episodes.select(unique_columns("episode_id", *by))


# --- quests and games ------------------------------------------------------------------------


@shared
def quests(data: RunData) -> pl.DataFrame:
    """One row per (Avalon episode, quest the game reached): ``proposals`` and ``rejections``
    (teams voted on and rejected in that quest), ``five_rejections`` (the game ended there on
    the fifth rejection in a row), ``played`` (a team went), ``succeeded``, ``fails`` (fail
    cards played; null when no team went) and ``fails_needed``."""
    teams = (
        _kind(data, "team_result")
        .group_by("episode_id", pl.col("round").alias("quest"))
        .agg(
            pl.len().alias("proposals"),
            (~pl.col("approved")).sum().alias("rejections"),
            (pl.col("rejected_in_a_row") >= MAX_REJECTIONS).any().alias("five_rejections"),
        )
    )
    results = _kind(data, "quest_result").select(
        "episode_id", pl.col("round").alias("quest"), "succeeded", "fails", "fails_needed"
    )
    return (
        teams.join(results, on=["episode_id", "quest"], how="full", coalesce=True)
        .with_columns(
            pl.col("proposals", "rejections").fill_null(0),
            pl.col("five_rejections").fill_null(False),
            played=pl.col("succeeded").is_not_null(),
        )
        .select(
            "episode_id",
            "quest",
            "proposals",
            "rejections",
            "five_rejections",
            "played",
            "succeeded",
            "fails",
            "fails_needed",
        )
        .sort("episode_id", "quest")
        .collect()
    )


def games(data: RunData) -> pl.DataFrame:
    """One row per Avalon episode: ``quests_played``, ``quests_succeeded``, ``rejections``
    (teams rejected in the game), ``three_failed`` (three quests failed), ``five_rejections``
    (ended by five rejections in a row), ``assassination`` (reached), ``assassin_hit`` (null
    without an assassination), ``three_succeeded`` (three quests succeeded: good's win
    without the assassination), ``good_won`` and ``draw`` (no winner)."""
    per_quest = (
        quests(data)
        .lazy()
        .group_by("episode_id")
        .agg(
            pl.col("played").sum().alias("quests_played"),
            pl.col("succeeded").fill_null(False).sum().alias("quests_succeeded"),
            (~pl.col("succeeded")).fill_null(False).sum().alias("quests_failed"),
            pl.col("rejections").sum(),
            pl.col("five_rejections").any(),
        )
    )
    shots = (
        _kind(data, "assassination")
        .group_by("episode_id")
        .agg(pl.col("hit").last().alias("assassin_hit"))
    )
    winner = pl.col("winner")
    return (
        avalon_episodes(data)
        .join(per_quest, on="episode_id", how="left")
        .join(shots, on="episode_id", how="left")
        .select(
            "episode_id",
            pl.col("quests_played").fill_null(0),
            pl.col("quests_succeeded").fill_null(0),
            pl.col("rejections").fill_null(0),
            (pl.col("quests_failed").fill_null(0) >= 3).alias("three_failed"),
            pl.col("five_rejections").fill_null(False),
            pl.col("assassin_hit").is_not_null().alias("assassination"),
            "assassin_hit",
            (pl.col("quests_succeeded").fill_null(0) >= 3).alias("three_succeeded"),
            (winner.is_not_null() & ~pl.col("hidden_factions").list.contains(winner)).alias(
                "good_won"
            ),
            winner.is_null().alias("draw"),
        )
        .sort("episode_id")
        .collect()
    )


def quest_table(data: RunData, by: Sequence[str]) -> pl.DataFrame:
    """Per group and quest number: the games that reached it, quests played and succeeded
    (Wilson 95% interval), mean fail cards, mean rejected teams, games ended there by five
    rejections."""
    frame = quests(data).lazy().join(_factors(data, by), on="episode_id")
    counts = grouped(
        frame,
        [*by, "quest"],
        [
            pl.len().alias("episodes"),
            pl.col("played").sum(),
            pl.col("succeeded").fill_null(False).sum(),
            pl.col("fails").cast(pl.Float64()).mean().alias("mean_fails"),
            pl.col("rejections").cast(pl.Float64()).mean().alias("mean_rejections"),
            pl.col("five_rejections").sum(),
        ],
    )
    return (
        counts.with_columns(
            *_rate("succeeded", "played", "success"),
            *_rate("five_rejections", "episodes", "five_rejection"),
        )
        .select(
            *unique_columns(*by, "quest"),
            "episodes",
            "played",
            "succeeded",
            "success_rate",
            "success_low",
            "success_high",
            "mean_fails",
            "mean_rejections",
            "five_rejections",
            "five_rejection_rate",
            "five_rejection_low",
            "five_rejection_high",
        )
        .collect()
    )


def game_table(data: RunData, by: Sequence[str]) -> pl.DataFrame:
    """Per group: how the games ended, the assassination's reach and success, and good's win
    rate with and without it (Wilson 95% intervals)."""
    frame = games(data).lazy().join(_factors(data, by), on="episode_id")
    counts = grouped(
        frame,
        by,
        [
            pl.len().alias("episodes"),
            pl.col("draw").sum().alias("draws"),
            pl.col("three_failed").sum(),
            pl.col("five_rejections").sum(),
            pl.col("assassination").sum().alias("assassinations"),
            pl.col("assassin_hit").fill_null(False).sum().alias("assassin_hits"),
            pl.col("good_won").sum().alias(f"{GOOD}_wins"),
            pl.col("three_succeeded").sum(),
        ],
    )
    episodes = pl.col("episodes")
    return (
        counts.with_columns(
            *_rate("five_rejections", "episodes", "five_rejection"),
            *_rate("assassinations", "episodes", "assassination"),
            *_rate("assassin_hits", "assassinations", "assassin_hit"),
            *_rate(f"{GOOD}_wins", "episodes", f"{GOOD}_win"),
            (pl.col("three_succeeded") / episodes).alias(f"{GOOD}_win_rate_without_assassination"),
            (pl.col("assassin_hits") / episodes).alias("assassination_toll"),
        )
        .drop("three_succeeded")
        .filter(episodes > 0)  # no Avalon episode: no row
        .collect()
    )


def _rate(successes: str, trials: str, name: str) -> list[pl.Expr]:
    """``<name>_rate``, ``<name>_low`` and ``<name>_high``: k / n and its Wilson 95% interval,
    null when n is 0."""
    k, n = pl.col(successes), pl.col(trials)
    low, high = wilson_interval(k, n)
    defined = n > 0
    return [
        pl.when(defined).then(k / n).alias(f"{name}_rate"),
        pl.when(defined).then(low).alias(f"{name}_low"),
        pl.when(defined).then(high).alias(f"{name}_high"),
    ]


# --- Merlin: the evil side's P(Merlin) -------------------------------------------------------


@shared
def merlin_ranks(data: RunData) -> pl.DataFrame:
    """One row per (Avalon episode, round with a P(Merlin) report naming Merlin):
    ``candidates`` (good seats given a P(Merlin)), ``merlin_p`` (the evil side's averaged
    P(Merlin) of the true Merlin), ``merlin_rank`` (his rank among the candidates, 1 = top,
    ties averaged) and ``merlin_top`` (ranked first alone).

    The evil side's averaged P(Merlin) of a good seat is the mean over the evil observers
    whose last report of the round gives it a probability. Evil seats are no candidates: none
    is Merlin, and only Oberon's reports (he knows no ally) or the others' about Oberon (whom
    they do not know) name them.
    """
    seats = data.players.select("episode_id", "player", "role", "hidden")
    reports = (
        _kind(data, "merlin_belief")
        .select("episode_id", "seq", "round", pl.col("actor").alias("player"), "probs")
        .join(seats, on=["episode_id", "player"], how="left")
        .filter(pl.col("hidden").fill_null(False))
        .filter(pl.struct("episode_id", "round", "player").is_last_distinct())
        .explode("probs")
        .drop_nulls("probs")
        .unnest("probs")
        .drop_nulls("p")
    )
    good = seats.filter(~pl.col("hidden").fill_null(True)).select(
        "episode_id", pl.col("player").alias("target")
    )
    averaged = (
        reports.with_columns(pl.col("target").cast(KEY))
        .join(good, on=["episode_id", "target"])
        .group_by("episode_id", "round", "target")
        .agg(pl.col("p").mean().alias("q"))
    )
    ranked = averaged.with_columns(
        rank=pl.col("q").rank("average", descending=True).over("episode_id", "round"),
        candidates=pl.len().over("episode_id", "round"),
    )
    merlin = seats.filter(pl.col("role") == MERLIN).select(
        "episode_id", pl.col("player").alias("target")
    )
    return (
        ranked.join(merlin, on=["episode_id", "target"])
        .select(
            "episode_id",
            "round",
            "candidates",
            pl.col("q").alias("merlin_p"),
            pl.col("rank").alias("merlin_rank"),
            (pl.col("rank") == 1).alias("merlin_top"),
        )
        .sort("episode_id", "round")
        .collect()
    )


def merlin_table(data: RunData, by: Sequence[str]) -> pl.DataFrame:
    """Per group and round: the games with a ranking of Merlin, mean candidates, Merlin's mean
    averaged P(Merlin) and rank, and the share of games ranking him first (Wilson 95%)."""
    frame = merlin_ranks(data).lazy().join(_factors(data, by), on="episode_id")
    counts = grouped(
        frame,
        [*by, "round"],
        [
            pl.len().alias("episodes"),
            pl.col("candidates").cast(pl.Float64()).mean().alias("mean_candidates"),
            pl.col("merlin_p").mean(),
            pl.col("merlin_rank").mean(),
            pl.col("merlin_top").sum().alias("merlin_top_games"),
        ],
    )
    return counts.with_columns(_rate("merlin_top_games", "episodes", "merlin_top")).collect()


# --- the evil seats: the good side's P(evil) -------------------------------------------------


@shared
def evil_seat_ranks(data: RunData) -> pl.DataFrame:
    """One row per (Avalon episode, round with good reports about both sides): ``evil_p`` and
    ``good_p`` (mean averaged P(evil) of the evil and of the good seats), ``auc`` (chance that
    an evil seat's averaged P(evil) is above a good seat's, ties half) and ``separated`` (every
    evil seat above every good seat); ``auc_without_merlin`` and
    ``separated_without_merlin`` average without Merlin's reports.

    The good side's averaged P(evil) of a player is the mean over the good observers' last
    reports of the round that name the player (nobody reports on themself).
    """
    ids = avalon_episodes(data).select("episode_id")
    reports = (
        round_beliefs(data)
        .lazy()
        .join(ids, on="episode_id")
        .filter(~pl.col("observer_hidden").fill_null(True) & pl.col("target_hidden").is_not_null())
    )
    everyone = _separation(reports, "")
    blind = _separation(reports.filter(pl.col("observer_role") != MERLIN), "_without_merlin")
    return (
        everyone.join(blind, on=["episode_id", "round"], how="left")
        .sort("episode_id", "round")
        .collect()
    )


def _separation(reports: pl.LazyFrame, suffix: str) -> pl.LazyFrame:
    """Per (episode, round): ``auc`` and ``separated`` (with ``suffix``) of the averaged
    P(evil), and without a suffix ``evil_p`` and ``good_p``."""
    round_keys = ["episode_id", "round"]
    averaged = reports.group_by(*round_keys, "target").agg(
        pl.col("p").mean().alias("q"), pl.col("target_hidden").first().alias("evil")
    )
    ranked = averaged.with_columns(rank=pl.col("q").rank("average").over(round_keys))
    evil, q = pl.col("evil"), pl.col("q")
    n_evil, n_good = evil.sum(), (~evil).sum()
    auc = (pl.col("rank").filter(evil).sum() - n_evil * (n_evil + 1) / 2) / (n_evil * n_good)
    both = (n_evil > 0) & (n_good > 0)
    aggregates = [
        pl.when(both).then(auc).alias(f"auc{suffix}"),
        pl.when(both)
        .then(q.filter(evil).min() > q.filter(~evil).max())
        .alias(f"separated{suffix}"),
    ]
    if not suffix:
        aggregates += [
            q.filter(evil).mean().alias("evil_p"),
            q.filter(~evil).mean().alias("good_p"),
        ]
    return ranked.group_by(round_keys).agg(aggregates).drop_nulls(f"auc{suffix}")


def evil_seat_table(data: RunData, by: Sequence[str]) -> pl.DataFrame:
    """Per group and round: the games with good reports, the mean averaged P(evil) of the evil
    and the good seats, mean AUC, the share of games whose averaged P(evil) puts every evil
    seat first (Wilson 95%), and both without Merlin's reports."""
    frame = evil_seat_ranks(data).lazy().join(_factors(data, by), on="episode_id")
    counts = grouped(
        frame,
        [*by, "round"],
        [
            pl.len().alias("episodes"),
            pl.col("evil_p").mean(),
            pl.col("good_p").mean(),
            pl.col("auc").mean(),
            pl.col("separated").sum().alias("separated_games"),
            pl.col("auc_without_merlin").mean(),
            pl.col("separated_without_merlin").cast(pl.Float64()).mean(),
        ],
    )
    return (
        counts.with_columns(_rate("separated_games", "episodes", "separated"))
        .select(
            *unique_columns(*by, "round"),
            "episodes",
            "evil_p",
            "good_p",
            "auc",
            "separated_games",
            "separated_rate",
            "separated_low",
            "separated_high",
            "auc_without_merlin",
            pl.col("separated_without_merlin").alias("separated_without_merlin_rate"),
        )
        .collect()
    )


# --- per episode -------------------------------------------------------------------------------


def deduction(data: RunData) -> pl.DataFrame:
    """One row per Avalon episode with every metric of :data:`DEDUCTION` (null where the
    episode has no probe to read them from)."""
    merlin = (
        merlin_ranks(data)
        .lazy()
        .group_by("episode_id")
        .agg(
            pl.col("round").filter(pl.col("merlin_top")).min().alias("merlin_top_round"),
            pl.col("merlin_top").any().cast(pl.Float64()).alias("merlin_top_reached"),
            pl.col("merlin_rank").sort_by("round").last().alias("merlin_rank_last"),
            pl.col("merlin_top")
            .sort_by("round")
            .last()
            .cast(pl.Float64())
            .alias("merlin_top_last"),
        )
    )
    seats = evil_seat_ranks(data).lazy()
    aggregates = []
    for suffix in ("", "_without_merlin"):
        separated = pl.col(f"separated{suffix}")
        aggregates += [
            pl.col("round").filter(separated).min().alias(f"separated_round{suffix}"),
            pl.when(separated.is_not_null().any())
            .then(separated.fill_null(False).any().cast(pl.Float64()))
            .alias(f"separated_reached{suffix}"),
        ]
    evil = seats.group_by("episode_id").agg(aggregates)
    return (
        avalon_episodes(data)
        .select("episode_id")
        .join(merlin, on="episode_id", how="left")
        .join(evil, on="episode_id", how="left")
        .select("episode_id", *DEDUCTION)
        .sort("episode_id")
        .collect()
    )


def per_episode(data: RunData) -> pl.DataFrame:
    """One row per Avalon episode: the columns of :func:`games` and of :func:`deduction`."""
    return games(data).join(deduction(data), on="episode_id", how="left")


def summaries(data: RunData, by: Sequence[str]) -> list[Table]:
    """The avalon group's tables (no rows without Avalon episodes, or without its probes)."""
    return [
        Table(
            "avalon_quests",
            "Avalon quests by number: success rate (Wilson 95% interval), fail cards, "
            "rejected teams",
            quest_table(data, by),
            (*by, "quest"),
        ),
        Table(
            "avalon_games",
            f"Avalon endings: the assassination, and {GOOD}'s win rate with and without it "
            "(Wilson 95% intervals)",
            game_table(data, by),
            tuple(by),
        ),
        Table(
            "avalon_merlin",
            f"How the {EVIL} side's averaged P(Merlin) ranks the true Merlin, by round",
            merlin_table(data, by),
            (*by, "round"),
        ),
        Table(
            "avalon_evil_seats",
            f"How the {GOOD} side's averaged P({EVIL}) ranks the {EVIL} seats, by round",
            evil_seat_table(data, by),
            (*by, "round"),
        ),
        Table(
            "avalon_deduction",
            "Avalon deduction: first round Merlin / every evil seat is ranked first (means "
            "over episodes)",
            summarize(deduction(data), data, by).filter(pl.col("episodes") > 0),
            tuple(by),
        ),
    ]


def draw_quests(
    figure: PyplotFigure, frame: pl.DataFrame, by: Sequence[str], title: str, words: Words
) -> None:
    """Success rate of each quest number, one line with Wilson error bars per group (the
    groups side by side, a little apart, so that their bars do not hide each other)."""
    from matplotlib.ticker import MaxNLocator

    ax = figure.subplots()
    groups = split_groups(frame.filter(pl.col("played") > 0), by)
    for index, (label, group) in enumerate(groups):
        rate, low, high = (group.get_column(f"success_{c}").to_list() for c in BOUNDS)
        offset = (index - (len(groups) - 1) / 2) * min(0.08, 0.6 / len(groups))
        ax.errorbar(
            [quest + offset for quest in group.get_column("quest").to_list()],
            rate,
            yerr=error_bars(rate, low, high),
            marker="o",
            capsize=4,
            label=label,
        )
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("quest")
    ax.set_ylabel("share of the quests played that succeeded")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize="small")
    ax.set_title(title)


RULE_FACTS = (
    number("players", r"Avalon with (\w+) players", rule("n_players")),
    number("good players", r"(\w+) good \(", lambda rules: rules.good_count()),
    number("evil players", r"(\w+) evil \(", lambda rules: rules.evil_count()),
    number("round limit", r"Each round is a quest, (\w+) at most", rule("max_rounds")),
    always("team vote tie rule", "a tie rejects"),
)
"""What Avalon's rules text states: players, good and evil players, the round limit (quests
at most) and the team-vote tie rule."""

ANALYSIS = GameAnalysis(
    groups={"avalon": summaries},
    # Avalon has no elimination: the generic groups read its speech, its P(evil) probes and
    # the outcome (its team votes are no elimination votes).
    default_groups=(*HIDDEN_SIDE_GROUPS, "avalon"),
    rule_facts=RULE_FACTS,
    figures=(
        Figure(
            "avalon_quests",
            "Avalon quest success rate by quest (Wilson 95% interval)",
            draw_quests,
        ),
    ),
)
"""Avalon's analysis plug-in."""
