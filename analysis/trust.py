"""Trust dynamics: per-round trust graphs and how stable votes and beliefs are.

The trust graph of a round is a networkx DiGraph over the players alive at its start: an edge
u -> v sums u's public stances on v in that round (a banishment ballot or an accusation -1,
a defence +1). Each node carries its ``role`` at the start of the round.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import networkx as nx
import polars as pl

from analysis.loader import RunData
from analysis.summary import Table, entropy_bits, nan_to_null, summarize
from analysis.tables import public_claims, role_timeline, round_beliefs, votes, with_role

METRICS = (
    "vote_stability",
    "belief_stability",
    "modularity",
    "accusation_reciprocity",
    "vote_entropy",
)
STANCE_SIGNS = {"vote": -1, "accuse": -1, "defend": 1}


def per_episode(data: RunData) -> pl.DataFrame:
    """One row per episode with every metric of :data:`METRICS` (null where undefined)."""
    roles = role_timeline(data)
    first_ballots = votes(data, roles).filter(
        (pl.col("purpose") == "banish") & (pl.col("ballot") == 0) & pl.col("target").is_not_null()
    )
    frame = data.episodes.select("episode_id").collect()
    for part in (
        _vote_stability(data, first_ballots),
        _belief_stability(data, roles),
        _modularity(trust_graphs(data)),
        _accusation_reciprocity(data, roles),
        _vote_entropy(first_ballots),
    ):
        frame = frame.join(part, on="episode_id", how="left")
    return frame.select("episode_id", *METRICS)


def stances(data: RunData) -> pl.DataFrame:
    """(episode_id, round, source, target, stance, sign): every public stance of a player."""
    roles = role_timeline(data)
    ballots = votes(data, roles).filter(
        (pl.col("purpose") == "banish") & pl.col("target").is_not_null()
    )
    parts = [
        ballots.select(
            "episode_id", "round", pl.col("voter").alias("source"), "target"
        ).with_columns(stance=pl.lit("vote")),
        *(
            public_claims(data, roles, claim).select(
                "episode_id",
                "round",
                pl.col("actor").alias("source"),
                "target",
                stance=pl.lit(claim),
            )
            for claim in ("accuse", "defend")
        ),
    ]
    return pl.concat(parts).with_columns(
        sign=pl.col("stance").replace_strict(STANCE_SIGNS, return_dtype=pl.Int64())
    )


def round_starts(data: RunData) -> pl.DataFrame:
    """(episode_id, round, seq, player, role): who was alive at the start of each round."""
    starts = (
        data.events.filter((pl.col("kind") == "phase") & (pl.col("round") > 0))
        .group_by("episode_id", "round")
        .agg(pl.all().sort_by("seq").first())
        .select("episode_id", "round", "seq", pl.col("alive").alias("player"))
        .explode("player")
        .collect()
        .with_row_index("position")
    )
    with_roles = with_role(starts, role_timeline(data), "player", "role")
    return with_roles.sort("position").drop("position")


def trust_graphs(
    data: RunData, episode_id: str | None = None
) -> dict[tuple[str, int], nx.DiGraph[str]]:
    """(episode_id, round) -> that round's trust graph, for one episode or all of them."""
    nodes = round_starts(data)
    edges = stances(data)
    if episode_id is not None:
        nodes = nodes.filter(pl.col("episode_id") == episode_id)
        edges = edges.filter(pl.col("episode_id") == episode_id)
    graphs: dict[tuple[str, int], nx.DiGraph[str]] = {}
    for row in nodes.iter_rows(named=True):
        graph = graphs.setdefault((row["episode_id"], row["round"]), nx.DiGraph())
        graph.add_node(row["player"], role=row["role"])
    weights = edges.group_by("episode_id", "round", "source", "target").agg(
        pl.col("sign").sum().alias("weight"),
        *(
            (pl.col("stance") == stance).sum().alias(f"{stance}s")
            for stance in ("vote", "accuse", "defend")
        ),
    )
    for row in weights.iter_rows(named=True):
        round_graph = graphs.get((row["episode_id"], row["round"]))
        if (
            round_graph is not None
            and row["source"] in round_graph
            and row["target"] in round_graph
        ):
            round_graph.add_edge(
                row["source"],
                row["target"],
                weight=row["weight"],
                votes=row["votes"],
                accusations=row["accuses"],
                defences=row["defends"],
            )
    return graphs


def signed_modularity(graph: nx.DiGraph[str], communities: Iterable[set[str]]) -> float | None:
    """Directed modularity of the positive part minus that of the negative part, weighted by
    their total weights (Gomez, Jensen & Arenas 2009); None for a graph without weights."""
    groups = list(communities)
    parts = []
    for sign in (1, -1):
        part: nx.DiGraph[str] = nx.DiGraph()
        part.add_nodes_from(graph)
        part.add_weighted_edges_from(
            (u, v, sign * d["weight"])
            for u, v, d in graph.edges(data=True)
            if sign * d["weight"] > 0
        )
        parts.append(part)
    positive, negative = (part.size(weight="weight") for part in parts)
    if positive + negative == 0:
        return None
    q = [nx.community.modularity(p, groups) if p.size() else 0.0 for p in parts]
    return float((positive * q[0] - negative * q[1]) / (positive + negative))


def _modularity(graphs: dict[tuple[str, int], nx.DiGraph[str]]) -> pl.DataFrame:
    rows = []
    for (episode_id, _), graph in graphs.items():
        factions: dict[str, set[str]] = {}
        for node, role in graph.nodes(data="role"):
            factions.setdefault(str(role), set()).add(node)
        rows.append((episode_id, signed_modularity(graph, factions.values())))
    frame = pl.DataFrame(
        rows, schema={"episode_id": pl.String(), "modularity": pl.Float64()}, orient="row"
    )
    return frame.group_by("episode_id").agg(pl.col("modularity").mean())


def _vote_stability(data: RunData, first_ballots: pl.DataFrame) -> pl.DataFrame:
    """Share of votes naming last round's target again, when that target is still alive."""
    alive = (
        data.events.filter((pl.col("kind") == "phase") & (pl.col("phase") == "banish_vote"))
        .group_by("episode_id", "round")
        .agg(pl.col("alive").sort_by("seq").first())
        .collect()
    )
    previous = first_ballots.select(
        "episode_id", pl.col("round") + 1, "voter", pl.col("target").alias("previous")
    )
    pairs = (
        first_ballots.join(previous, on=["episode_id", "round", "voter"])
        .join(alive, on=["episode_id", "round"])
        .filter(pl.col("previous").is_in(pl.col("alive")))
    )
    return pairs.group_by("episode_id").agg(
        (pl.col("target") == pl.col("previous")).mean().alias("vote_stability")
    )


def _belief_stability(data: RunData, roles: pl.DataFrame) -> pl.DataFrame:
    """Mean Spearman correlation of each observer's beliefs in consecutive rounds."""
    now = round_beliefs(data, roles).select("episode_id", "round", "observer", "target", "p")
    before = now.with_columns(pl.col("round") + 1).rename({"p": "p_before"})
    pairs = now.join(before, on=["episode_id", "round", "observer", "target"])
    per_observer = pairs.group_by("episode_id", "round", "observer").agg(
        nan_to_null(pl.corr("p", "p_before", method="spearman")).alias("rho")
    )
    return per_observer.group_by("episode_id").agg(pl.col("rho").mean().alias("belief_stability"))


def _accusation_reciprocity(data: RunData, roles: pl.DataFrame) -> pl.DataFrame:
    """Share of accusation edges (u accused v, any round) whose reverse edge also exists."""
    edges = public_claims(data, roles, "accuse").select("episode_id", "actor", "target").unique()
    reverse = edges.select(
        "episode_id",
        pl.col("target").alias("actor"),
        pl.col("actor").alias("target"),
        returned=pl.lit(True),
    )
    return (
        edges.join(reverse, on=["episode_id", "actor", "target"], how="left")
        .group_by("episode_id")
        .agg(pl.col("returned").fill_null(False).mean().alias("accusation_reciprocity"))
    )


def _vote_entropy(first_ballots: pl.DataFrame) -> pl.DataFrame:
    """Mean over rounds of the entropy (bits) of the first banishment ballot's targets."""
    counts = first_ballots.group_by("episode_id", "round", "target").agg(pl.len().alias("n"))
    per_round = counts.group_by("episode_id", "round").agg(entropy_bits(pl.col("n")).alias("h"))
    return per_round.group_by("episode_id").agg(pl.col("h").mean().alias("vote_entropy"))


def summaries(data: RunData, by: Sequence[str]) -> list[Table]:
    """The trust group's table."""
    frame = summarize(per_episode(data), data, by)
    return [Table("trust", "Trust dynamics (means over episodes)", frame, tuple(by))]
