"""What a game brings to the analysis beyond the generic groups: a :class:`GameAnalysis`.

A scenario announces one through the entry-point group ``traitors.analysis`` (scenario name
-> its ``GameAnalysis``), or ``traitors.game.registry.register_analysis`` at run time. It may
declare:

- ``groups``: its own metric groups, name -> function of the loaded run and the factors to
  split by, returning tables (``--metrics NAME``); placed in the report before the generic
  group ``before`` names;
- ``default_groups``: the groups computed for its episodes when none are asked for (None:
  the generic groups that fit its words, and its own);
- ``frames``: frames ``analysis.load`` adds (``RunData.frame(name)``), built from fields of
  its own events, cached by ``--compact`` like the others;
- ``event_columns``: fields of its own events added as columns of the ``events`` frame;
- ``figures``: PNG figures of its tables (``--out``);
- ``rule_facts``: the facts its rules text must state (``traitors.game.rules_text``), checked by
  ``traitors check`` and the ``validity`` group.

Nothing in ``analysis/`` names a game: each game's words reach it through the manifests, and
what only one game has, through its plug-in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import polars as pl

from analysis.errors import AnalysisError
from traitors.game import registry
from traitors.game.rules_text import Fact

if TYPE_CHECKING:
    from analysis.figures import Drawer
    from analysis.loader import RunData
    from analysis.summary import Table

Group = Callable[["RunData", Sequence[str]], list["Table"]]
"""A metric group: the loaded run and the factors to split by -> its tables."""


@dataclass(frozen=True)
class Frame:
    """A frame a game adds to the frames ``analysis.load`` gives."""

    schema: Mapping[str, pl.DataType]
    """Its columns, ``episode_id`` first: the frame has them whatever the run holds (null
    where ``build`` gives none; empty when the logs hold none of ``fields``)."""
    fields: Mapping[str, pl.DataType]
    """The fields of ``events.jsonl`` it is built from, typed as the game's event models
    write them; they are parsed with the engine's fields, in the same pass."""
    build: Callable[[pl.DataFrame], pl.DataFrame]
    """The frame from the parsed events: one row per event, with ``episode_id``, ``seq``,
    ``round``, ``phase``, ``kind`` and ``fields`` among the columns."""
    doc: str = ""
    """One row per what (for the documentation)."""


@dataclass(frozen=True)
class Figure:
    """A PNG figure of one of a game's tables (written by ``traitors analyze --out``)."""

    table: str
    """The table drawn; the file is ``<table>.png``."""
    title: str
    draw: Drawer
    only_with_rows: bool = True
    """Drawn only when the table has rows (a game's own tables are empty for other games)."""
    after: str = "leaderboard"
    """The generic figure it follows in the report (``outcome``, ``hidden_survival``,
    ``calibration``, ``ratings``, ``leaderboard``, ``causal_influence``)."""


@dataclass(frozen=True)
class GameAnalysis:
    """What one game brings to the analysis and to the rules-text check."""

    groups: Mapping[str, Group] = field(default_factory=dict)
    """Its own metric groups by name, in report order."""
    before: str = "ratings"
    """The generic group its groups come before in the report."""
    default_groups: Sequence[str] | None = None
    """The groups computed for its episodes when none are asked for; None: the generic groups
    that fit its words (``analysis.suite``), then its own."""
    rule_facts: Sequence[Fact] = ()
    """What its rules text must state (none: the rules-text check says it has none)."""
    frames: Mapping[str, Frame] = field(default_factory=dict)
    """Frames it adds, by name."""
    event_columns: Mapping[str, pl.DataType] = field(default_factory=dict)
    """Fields of its events added to the ``events`` frame (after the engine's columns)."""
    figures: Sequence[Figure] = ()
    """Figures of its tables."""


def game_analyses() -> dict[str, GameAnalysis]:
    """Every installed or registered game's plug-in, by scenario name (sorted)."""
    plugins = {}
    for name in registry.names("analysis"):
        plugin = registry.lookup("analysis", name)
        if not isinstance(plugin, GameAnalysis):
            raise AnalysisError(
                f"the analysis plug-in of {name!r} is a {type(plugin).__name__}, not a "
                "GameAnalysis (entry-point group traitors.analysis)"
            )
        plugins[name] = plugin
    return plugins


def game_frames() -> dict[str, Frame]:
    """Every frame the games add, by name (each name once)."""
    frames: dict[str, Frame] = {}
    owners: dict[str, str] = {}
    for scenario, plugin in game_analyses().items():
        for name, frame in plugin.frames.items():
            if frames.get(name) is frame:
                continue  # a plug-in shared by two scenarios (a variant and its game)
            if name in owners:
                raise AnalysisError(
                    f"frame {name!r} is declared by both {owners[name]} and {scenario}"
                )
            owners[name], frames[name] = scenario, frame
    return frames
