"""Trust dynamics: per-round trust graphs and how stable votes and beliefs are.

The trust graph of a round is a networkx DiGraph over the players alive at its start: an edge
u -> v sums u's public stances on v in that round (a ballot of the public elimination vote or
an accusation -1, a defence +1). Each node carries its ``role`` at the start of the round, that
role's ``faction`` and whether the faction is ``hidden``; the true factions are the
communities of the modularity.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import polars as pl

from analysis.loader import RunData
from analysis.summary import Frame, Table, correlation, entropy_bits, rank_within, summarize
from analysis.tables import (
    public_claims,
    public_votes,
    role_timeline,
    round_beliefs,
    shared,
    with_role,
)

METRICS = (
    "vote_stability",
    "belief_stability",
    "modularity",
    "accusation_reciprocity",
    "vote_entropy",
)
STANCE_SIGNS = {"vote": -1, "accuse": -1, "defend": 1}

if TYPE_CHECKING:
    import networkx as nx


def per_episode(data: RunData) -> pl.DataFrame:
    """One row per episode with every metric of :data:`METRICS` (null where undefined)."""
    first_ballots = public_votes(data).filter(
        (pl.col("ballot") == 0) & pl.col("target").is_not_null()
    )
    frame = data.episodes.select("episode_id")
    for part in (
        _vote_stability(data, first_ballots),
        _belief_stability(data),
        _modularity(data),
        _accusation_reciprocity(data),
        _vote_entropy(first_ballots),
    ):
        frame = frame.join(part, on="episode_id", how="left")
    return frame.select("episode_id", *METRICS).collect()


@shared
def stances(data: RunData) -> pl.DataFrame:
    """(episode_id, round, source, target, stance, sign): every public stance of a player."""
    ballots = public_votes(data).filter(pl.col("target").is_not_null())
    parts = [
        ballots.select(
            "episode_id", "round", pl.col("voter").alias("source"), "target"
        ).with_columns(stance=pl.lit("vote")),
        *(
            public_claims(data, claim)
            .lazy()
            .select(
                "episode_id",
                "round",
                pl.col("actor").alias("source"),
                "target",
                stance=pl.lit(claim),
            )
            for claim in ("accuse", "defend")
        ),
    ]
    return (
        pl.concat(parts)
        .with_columns(sign=pl.col("stance").replace_strict(STANCE_SIGNS, return_dtype=pl.Int64()))
        .collect()
    )


@shared
def round_starts(data: RunData) -> pl.DataFrame:
    """(episode_id, round, seq, player, role, faction, hidden): who was alive at the start of
    each round, and what they were."""
    starts = (
        data.events.filter((pl.col("kind") == "phase") & (pl.col("round") > 0))
        .unique(["episode_id", "round"], keep="first", maintain_order=True)
        .select("episode_id", "round", "seq", pl.col("alive").alias("player"))
        .explode("player")
    )
    return with_role(starts, role_timeline(data), "player", "").collect()


@shared
def round_edges(data: RunData) -> pl.DataFrame:
    """The edges of every round's trust graph: (episode_id, round, source, target, weight,
    votes, accusations, defences, source_role, source_faction, target_role, target_faction),
    between players alive at the start of the round."""
    nodes = round_starts(data).lazy().select("episode_id", "round", "player", "role", "faction")
    weights = (
        stances(data)
        .lazy()
        .group_by("episode_id", "round", "source", "target")
        .agg(
            pl.col("sign").sum().alias("weight"),
            *(
                (pl.col("stance") == stance).sum().alias(name)
                for stance, name in (
                    ("vote", "votes"),
                    ("accuse", "accusations"),
                    ("defend", "defences"),
                )
            ),
        )
    )
    for end in ("source", "target"):
        ends = nodes.rename({"player": end, "role": f"{end}_role", "faction": f"{end}_faction"})
        weights = weights.join(ends, on=["episode_id", "round", end])
    return weights.sort("episode_id", "round", "source", "target").collect()


def trust_graphs(
    data: RunData, episode_id: str | None = None
) -> dict[tuple[str, int], nx.DiGraph[str]]:
    """(episode_id, round) -> that round's trust graph, for one episode or all of them."""
    import networkx as nx  # only the figures and researchers need the graphs themselves

    nodes = round_starts(data)
    edges = round_edges(data)
    if episode_id is not None:
        nodes = nodes.filter(pl.col("episode_id") == episode_id)
        edges = edges.filter(pl.col("episode_id") == episode_id)
    graphs: dict[tuple[str, int], nx.DiGraph[str]] = {}
    for row in nodes.iter_rows(named=True):
        graph = graphs.setdefault((row["episode_id"], row["round"]), nx.DiGraph())
        graph.add_node(
            row["player"], role=row["role"], faction=row["faction"], hidden=row["hidden"]
        )
    attributes = ("weight", "votes", "accusations", "defences")
    for row in edges.iter_rows(named=True):
        graph = graphs[(row["episode_id"], row["round"])]
        graph.add_edge(row["source"], row["target"], **{a: row[a] for a in attributes})
    return graphs


def signed_modularity(edges: Frame, keys: Sequence[str], community: str = "faction") -> Frame:
    """Per graph (rows sharing ``keys``): directed modularity of the positive part minus that
    of the negative part, weighted by their total weights (Gomez, Jensen & Arenas 2009);
    null for a graph without weights.

    ``edges`` has one row per edge: ``keys``, ``weight``, and the communities of its ends,
    ``source_<community>`` and ``target_<community>``. Each part's modularity is
    Q = (1/m) sum_ij [A_ij - k_i^out k_j^in / m] [c_i = c_j], so m Q = (weight inside the
    communities) - sum_c K_c^out K_c^in / m.
    """
    keys = list(keys)
    parts = edges.select(
        *keys,
        # no community (an undeclared role): a community of its own
        pl.col(f"source_{community}").cast(pl.String()).fill_null("").alias("source_c"),
        pl.col(f"target_{community}").cast(pl.String()).fill_null("").alias("target_c"),
        positive=pl.col("weight").cast(pl.Float64()).clip(lower_bound=0),
        negative=(-pl.col("weight")).cast(pl.Float64()).clip(lower_bound=0),
    )
    inside = pl.col("source_c") == pl.col("target_c")
    totals = parts.group_by(keys).agg(
        *(pl.col(p).sum().alias(f"m_{p}") for p in ("positive", "negative")),
        *(pl.col(p).filter(inside).sum().alias(f"inside_{p}") for p in ("positive", "negative")),
    )
    strengths = [
        parts.group_by(*keys, pl.col(f"{end}_c").alias("community")).agg(
            *(pl.col(p).sum().alias(f"{end}_{p}") for p in ("positive", "negative"))
        )
        for end in ("source", "target")
    ]
    products = (
        strengths[0]
        .join(strengths[1], on=[*keys, "community"])
        .group_by(keys)
        .agg(
            *(
                (pl.col(f"source_{p}") * pl.col(f"target_{p}")).sum().alias(f"expected_{p}")
                for p in ("positive", "negative")
            )
        )
    )
    scaled = [
        pl.col(f"inside_{p}")
        - pl.when(pl.col(f"m_{p}") > 0)
        .then(pl.col(f"expected_{p}").fill_null(0) / pl.col(f"m_{p}"))
        .otherwise(0)
        for p in ("positive", "negative")
    ]
    weight = pl.col("m_positive") + pl.col("m_negative")
    return totals.join(products, on=keys, how="left").select(
        *keys,
        modularity=pl.when(weight > 0).then((scaled[0] - scaled[1]) / weight),
    )


def _modularity(data: RunData) -> pl.LazyFrame:
    """Mean over rounds of the signed modularity of the trust graph against the factions."""
    per_round = signed_modularity(round_edges(data).lazy(), ["episode_id", "round"])
    return per_round.group_by("episode_id").agg(pl.col("modularity").mean())


def _vote_stability(data: RunData, first_ballots: pl.LazyFrame) -> pl.LazyFrame:
    """Share of votes naming last round's target again, when that target is still alive (at
    the start of the vote's phase)."""
    alive = (
        data.events.filter(pl.col("kind") == "phase")
        .group_by("episode_id", "round", "phase")
        .agg(pl.col("alive").sort_by("seq").first())
    )
    previous = first_ballots.select(
        "episode_id", pl.col("round") + 1, "voter", pl.col("target").alias("previous")
    )
    pairs = (
        first_ballots.join(previous, on=["episode_id", "round", "voter"])
        .join(alive, on=["episode_id", "round", "phase"])
        .filter(pl.col("previous").is_in(pl.col("alive")))
    )
    return pairs.group_by("episode_id").agg(
        (pl.col("target") == pl.col("previous")).mean().alias("vote_stability")
    )


def _belief_stability(data: RunData) -> pl.LazyFrame:
    """Mean Spearman correlation of each observer's beliefs in consecutive rounds."""
    now = round_beliefs(data).lazy().select("episode_id", "round", "observer", "target", "p")
    before = now.with_columns(pl.col("round") + 1).rename({"p": "p_before"})
    report = ["episode_id", "round", "observer"]
    pairs = now.join(before, on=[*report, "target"]).with_columns(
        rank_within("p", report), rank_within("p_before", report)
    )
    per_observer = pairs.group_by(report).agg(correlation("p", "p_before").alias("rho"))
    return per_observer.group_by("episode_id").agg(pl.col("rho").mean().alias("belief_stability"))


def _accusation_reciprocity(data: RunData) -> pl.LazyFrame:
    """Share of accusation edges (u accused v, any round) whose reverse edge also exists; a
    self-accusation is an edge that is never returned (as in networkx)."""
    edges = public_claims(data, "accuse").lazy().select("episode_id", "actor", "target").unique()
    reverse = edges.select(
        "episode_id",
        pl.col("target").alias("actor"),
        pl.col("actor").alias("target"),
        returned=pl.lit(True),
    )
    return (
        edges.join(reverse, on=["episode_id", "actor", "target"], how="left")
        .group_by("episode_id")
        .agg(
            (pl.col("returned").fill_null(False) & (pl.col("actor") != pl.col("target")))
            .mean()
            .alias("accusation_reciprocity")
        )
    )


def _vote_entropy(first_ballots: pl.LazyFrame) -> pl.LazyFrame:
    """Mean over rounds of the entropy (bits) of the public vote's first ballot's targets."""
    counts = first_ballots.group_by("episode_id", "round", "target").agg(pl.len().alias("n"))
    per_round = counts.group_by("episode_id", "round").agg(entropy_bits(pl.col("n")).alias("h"))
    return per_round.group_by("episode_id").agg(pl.col("h").mean().alias("vote_entropy"))


def summaries(data: RunData, by: Sequence[str]) -> list[Table]:
    """The trust group's table."""
    frame = summarize(per_episode(data), data, by)
    return [Table("trust", "Trust dynamics (means over episodes)", frame, tuple(by))]
