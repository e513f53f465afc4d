"""PNG figures of the suite's tables (matplotlib, imported only when drawing).

The figures of the generic groups are here; a game's plug-in adds those of its own tables
(``analysis.plugin.Figure``), drawn with the helpers below (:func:`rate_bars`,
:func:`error_bars`, :func:`split_groups`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from analysis import sides
from analysis.errors import AnalysisError
from analysis.loader import RunData
from analysis.plugin import game_analyses
from analysis.summary import Table, row_labels
from analysis.trust import trust_graphs

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

HIDDEN_COLOUR, UNCOVERING_COLOUR, UNKNOWN_COLOUR = "#c0392b", "#2e86c1", "grey"
"""The hidden side red, the uncovering side blue, a player of no known side grey."""
BOUNDS = ("rate", "low", "high")
"""Column suffixes of a rate and its interval."""
BOUNDS_DIFF = ("effect", "low", "high")
"""Columns of an effect and its interval."""
EDGE_COLOURS = {True: "#2ca02c", False: "#d62728"}
"""Trust-graph edge colour by sign: positive (defence) green, negative red."""
SNAPSHOT_COLUMNS = 4
ONLY_WITH_ROWS = frozenset({"causal_influence"})
"""Tables drawn only when they have rows (a directory of forks only has them)."""


@dataclass(frozen=True)
class Words:
    """How the figures name the sides of the loaded games (from the manifests' words)."""

    hidden: str
    """The hidden factions, in the games' words."""
    uncovering: str
    """The other factions of those games."""
    suspect: str
    """What belief probes give P() of (each game's ``suspect`` word)."""
    hidden_factions: frozenset[str]
    """The hidden factions' names, to colour them."""
    uncovering_factions: frozenset[str]
    """The uncovering factions' names, to colour them."""

    @classmethod
    def of(cls, data: RunData) -> Words:
        """The words of the loaded games."""
        hidden, uncovering = sides.hidden(data), sides.uncovering(data)
        return cls(
            sides.phrase(hidden, "hidden side"),
            sides.phrase(uncovering, "uncovering side"),
            sides.phrase(sides.suspects(data), "suspect"),
            frozenset(hidden),
            frozenset(uncovering),
        )

    def colour(self, faction: str | None) -> str | None:
        """A faction's colour: red for the hidden side, blue for the uncovering side, None
        (matplotlib's cycle) for any other."""
        if faction in self.hidden_factions:
            return HIDDEN_COLOUR
        return UNCOVERING_COLOUR if faction in self.uncovering_factions else None


Drawer = Callable[["Figure", pl.DataFrame, Sequence[str], str, Words], None]


@dataclass(frozen=True)
class FigureFile:
    """A figure written to disk."""

    title: str
    """What the figure shows (also its heading in the report)."""
    path: Path
    """The PNG file."""


def draw_figures(
    data: RunData, tables: Sequence[Table], by: Sequence[str], directory: Path
) -> list[FigureFile]:
    """Every figure whose table was computed, written into ``directory``."""
    frames = {t.name: t.frame for t in tables}
    words = Words.of(data)
    generic: list[tuple[str, str, Drawer]] = [
        ("outcome", "Win rate by faction (Wilson 95% interval)", _win_rates),
        ("hidden_survival", f"{sides.capitalized(words.hidden)} survival by round", _survival),
        ("calibration", f"Belief calibration of the {words.uncovering}", _calibration),
        ("ratings", "Elo per model and role (bootstrap 95% interval)", _ratings),
        (
            "leaderboard",
            "Deception and detection rating per model (Bradley-Terry, bootstrap 95% interval)",
            _leaderboard,
        ),
        (
            "causal_influence",
            "Effect of each message on the next decided vote (Newcombe 95% interval)",
            _influence,
        ),
    ]
    drawers = _with_game_figures(generic)
    only_with_rows = set(ONLY_WITH_ROWS)
    for plugin in game_analyses().values():
        only_with_rows.update(f.table for f in plugin.figures if f.only_with_rows)
    figures = []
    for name, title, draw in drawers:
        if name in frames and not (name in only_with_rows and frames[name].is_empty()):
            figure = _new_figure()
            draw(figure, frames[name], by, title, words)
            figures.append(_save(figure, title, directory / f"{name}.png"))
    if "trust" in frames:
        figures.append(_trust_snapshots(data, words, directory / "trust_graphs.png"))
    return figures


def _with_game_figures(generic: list[tuple[str, str, Drawer]]) -> list[tuple[str, str, Drawer]]:
    """The generic drawers with each game's figures after the generic one it names."""
    after: dict[str, list[tuple[str, str, Drawer]]] = {}
    names = [name for name, _, _ in generic]
    for scenario, plugin in game_analyses().items():
        for figure in plugin.figures:
            if figure.after not in names:
                raise AnalysisError(
                    f"{scenario}'s figure {figure.table!r} goes after {figure.after!r}, which "
                    f"is no generic figure ({', '.join(names)})"
                )
            drawer = (figure.table, figure.title, figure.draw)
            if drawer not in after.get(figure.after, []):  # a plug-in two scenarios share
                after.setdefault(figure.after, []).append(drawer)
    return [drawer for item in generic for drawer in (item, *after.get(item[0], ()))]


def _new_figure(width: float = 8.0, height: float = 4.5) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _save(figure: Figure, title: str, path: Path) -> FigureFile:
    figure.savefig(path, dpi=100)
    return FigureFile(title, path)


def _win_rates(
    figure: Figure, frame: pl.DataFrame, by: Sequence[str], title: str, words: Words
) -> None:
    factions = [c.removesuffix("_win_rate") for c in frame.columns if c.endswith("_win_rate")]
    series = [(faction, f"{faction}_win", words.colour(faction)) for faction in factions]
    rate_bars(figure, frame, row_labels(frame, by), series, "win rate", title)


def rate_bars(
    figure: Figure,
    frame: pl.DataFrame,
    labels: Sequence[str],
    series: Sequence[tuple[str, str, str | None]],
    ylabel: str,
    title: str,
) -> None:
    """Grouped bars of rates with their intervals: per (legend label, column prefix, colour)
    of ``series``, the columns ``<prefix>_rate``, ``<prefix>_low`` and ``<prefix>_high``."""
    ax = figure.subplots()
    width = 0.76 / max(len(series), 1)
    for index, (label, prefix, colour) in enumerate(series):
        rate, low, high = (frame.get_column(f"{prefix}_{c}").to_list() for c in BOUNDS)
        offset = (index - (len(series) - 1) / 2) * width
        ax.bar(
            [i + offset for i in range(len(labels))],
            rate,
            width,
            yerr=error_bars(rate, low, high),
            capsize=4,
            label=label,
            color=colour,
        )
    ax.set_xticks(range(len(labels)), labels, rotation=20, ha="right")
    ax.set_ylim(0, 1)
    ax.set_ylabel(ylabel)
    if len(series) > 1:
        ax.legend()
    ax.set_title(title)


def _survival(
    figure: Figure, frame: pl.DataFrame, by: Sequence[str], title: str, words: Words
) -> None:
    from matplotlib.ticker import MaxNLocator

    ax = figure.subplots()
    for label, group in split_groups(frame, by):
        ax.step(
            group.get_column("round"),
            group.get_column("survival"),
            where="post",
            marker="o",
            label=label,
        )
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("round")
    ax.set_ylabel(f"share of the initial {words.hidden} left")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize="small")
    ax.set_title(title)


def _calibration(
    figure: Figure, frame: pl.DataFrame, by: Sequence[str], title: str, words: Words
) -> None:
    ax = figure.subplots()
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    for label, group in split_groups(frame, by):
        ax.plot(
            group.get_column("mean_belief"),
            group.get_column("hidden_share"),
            marker="o",
            label=label,
        )
    ax.set_xlabel(f"reported P({words.suspect})")
    ax.set_ylabel(f"share that were {words.hidden}")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(fontsize="small")
    ax.set_title(title)


def _ratings(
    figure: Figure, frame: pl.DataFrame, by: Sequence[str], title: str, words: Words
) -> None:
    ax = figure.subplots()
    for index, row in enumerate(frame.iter_rows(named=True)):
        colour = words.colour(row["faction"]) or UNKNOWN_COLOUR
        errors = error_bars([row["elo_mean"]], [row["elo_low"]], [row["elo_high"]])
        ax.errorbar(
            row["elo_mean"], index, xerr=errors, fmt="o", capsize=5, markersize=8, color=colour
        )
        ax.plot(row["elo"], index, marker="x", markersize=9, color="black")
    labels = [f"{label} ({role})" for label, role in frame.select("label", "role").iter_rows()]
    ax.set_yticks(range(frame.height), labels)
    ax.set_ylim(-0.5, frame.height - 0.5)
    ax.axvline(1500, linestyle="--", color="grey")
    ax.set_xlabel("Elo from 1500: dot and bar bootstrap mean and 95% interval, x in play order")
    ax.set_title(title)


def _leaderboard(
    figure: Figure, frame: pl.DataFrame, by: Sequence[str], title: str, words: Words
) -> None:
    """Two panels sharing the models' rows: the deception rating (red) and the detection
    rating (blue), each a dot at the Bradley-Terry fit with its bootstrap interval."""
    labels = [
        f"{label} ({group})" if by else label
        for label, group in zip(frame.get_column("label"), row_labels(frame, by), strict=True)
    ]
    figure.set_size_inches(8.0, max(2.5, 1.2 + 0.45 * len(labels)))
    axes = figure.subplots(1, 2, sharey=True)
    panels = (
        ("deception", f"as the {words.hidden}", HIDDEN_COLOUR),
        ("detection", f"as the {words.uncovering}", UNCOVERING_COLOUR),
    )
    for ax, (kind, side, colour) in zip(axes, panels, strict=True):
        shown = frame.with_row_index("row").drop_nulls(f"{kind}_bt")
        rating, low, high = (
            shown.get_column(f"{kind}_{c}").to_list() for c in ("bt", "bt_low", "bt_high")
        )
        rows = shown.get_column("row").to_list()
        ax.errorbar(
            rating, rows, xerr=error_bars(rating, low, high), fmt="o", capsize=5, color=colour
        )
        ax.axvline(0, linestyle="--", color="grey")
        ax.set_title(f"{kind} ({side})", fontsize="medium")
    axes[0].set_yticks(range(len(labels)), labels)
    axes[0].set_ylim(len(labels) - 0.5, -0.5)
    figure.supxlabel("rating in logits of winning (0 = the mean model of the side)")
    figure.suptitle(title)


def _influence(
    figure: Figure, frame: pl.DataFrame, by: Sequence[str], title: str, words: Words
) -> None:
    """Per message intervened on, over the parent episode's timeline (its seq): the effect
    (treated - control) on the next decided vote against the player it moves most, with its
    interval; each point names the speaker and that player."""
    ax = figure.subplots()
    shown = frame.filter(pl.col("target").is_not_null() & pl.col("effect").is_not_null())
    shown = shown.sort("target")
    if shown.is_empty():
        ax.text(0.5, 0.5, "no message intervention reached a decided vote", ha="center")
        ax.set_axis_off()
        ax.set_title(title)
        return
    seq, effect, low, high = (shown.get_column(c).to_list() for c in ("target", *BOUNDS_DIFF))
    ax.errorbar(seq, effect, yerr=error_bars(effect, low, high), fmt="o", capsize=4)
    for x, y, actor, player in zip(
        seq, effect, shown.get_column("actor"), shown.get_column("player"), strict=True
    ):
        ax.annotate(
            f"{actor or '?'} -> {player}",
            (x, y),
            textcoords="offset points",
            xytext=(4, 4),
            fontsize="x-small",
        )
    ax.axhline(0, linestyle="--", color="grey")
    ax.set_ylim(-1.05, 1.05)
    ax.set_xlabel("message (event seq in the parent episode)")
    ax.set_ylabel("effect on P(the vote decides that player)")
    ax.set_title(title)


def error_bars(
    centres: Sequence[float], lows: Sequence[float], highs: Sequence[float]
) -> list[list[float]]:
    """Distances below and above each centre, for matplotlib; clamped at 0, since rounding can
    put an interval's bound a hair past its centre (p = 1, or a one-valued bootstrap)."""
    below = [max(c - lo, 0.0) for c, lo in zip(centres, lows, strict=True)]
    above = [max(hi - c, 0.0) for c, hi in zip(centres, highs, strict=True)]
    return [below, above]


def split_groups(frame: pl.DataFrame, by: Sequence[str]) -> list[tuple[str, pl.DataFrame]]:
    """The rows of each group of ``by`` with its label (one group, ``all``, without ``by``)."""
    if not by:
        return [("all", frame)]
    return [
        (row_labels(group, by)[0], group)
        for group in frame.partition_by(list(by), maintain_order=True)
    ]


def _trust_snapshots(data: RunData, words: Words, path: Path) -> FigureFile:
    """The trust graph of every round of the longest episode (first by id on a tie)."""
    import networkx as nx

    longest = (
        data.episodes.select("episode_id", "rounds")
        .sort(["rounds", "episode_id"], descending=[True, False])
        .head(1)
        .collect()
    )
    episode = longest.get_column("episode_id").item()
    graphs = {r: g for (_, r), g in sorted(trust_graphs(data, episode).items()) if g.size() > 0}
    title = f"Trust graphs by round, episode {episode}"
    columns = min(SNAPSHOT_COLUMNS, max(len(graphs), 1))
    rows = -(-max(len(graphs), 1) // columns)
    figure = _new_figure(3.4 * columns, 3.4 * rows + 0.9)
    axes: Mapping[int, Axes] = dict(enumerate(figure.subplots(rows, columns, squeeze=False).flat))
    everyone: nx.Graph[str] = nx.Graph()
    everyone.add_nodes_from(p for g in graphs.values() for p in g)
    layout = nx.circular_layout(everyone)
    for index, (round_no, graph) in enumerate(graphs.items()):
        ax = axes[index]
        colours = [
            UNKNOWN_COLOUR if hidden is None else HIDDEN_COLOUR if hidden else UNCOVERING_COLOUR
            for _, hidden in graph.nodes(data="hidden")
        ]
        weights = [d["weight"] for _, _, d in graph.edges(data=True)]
        nx.draw_networkx_edges(
            graph,
            layout,
            ax=ax,
            width=[0.6 + abs(w) * 0.6 for w in weights],
            edge_color=[EDGE_COLOURS[w > 0] for w in weights],
            arrowsize=10,
            node_size=500,
            connectionstyle="arc3,rad=0.1",
        )
        nx.draw_networkx_nodes(graph, layout, ax=ax, node_color=colours, node_size=500)
        nx.draw_networkx_labels(graph, layout, ax=ax, font_size=7, font_color="white")
        ax.set_title(f"round {round_no}")
    for ax in axes.values():
        ax.set_axis_off()
        ax.margins(0.15)
    figure.suptitle(
        f"{title}\nnodes: red {words.hidden}, blue {words.uncovering}; arrows: red vote or "
        "accusation, green defence (width: count)",
        fontsize="medium",
    )
    return _save(figure, title, path)
