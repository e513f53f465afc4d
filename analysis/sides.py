"""The sides of the loaded games in their own words: what tables and figures call them.

Every name comes from the manifests' ``words`` (the ``episodes`` columns ``factions``,
``hidden_factions`` and ``suspect``), whatever each scenario declares. The **hidden side** is every
faction its words mark ``hidden`` (the deceiving side); the **uncovering side** is every
other faction of a game that has a hidden one.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from analysis.loader import RunData
from analysis.tables import public_votes


def factions(data: RunData) -> list[str]:
    """The factions of the loaded scenarios (scenarios by name, each in its words' order,
    the uncovering side first), then any other faction that won."""
    frame = (
        data.episodes.select("scenario", "factions", "winner")
        .sort("scenario", nulls_last=True)
        .collect()
    )
    known = [f for names in frame["factions"].to_list() for f in names or ()]
    others = sorted(set(frame["winner"].drop_nulls()) - set(known))
    return list(dict.fromkeys([*known, *others]))


def hidden(data: RunData) -> list[str]:
    """The hidden factions of the loaded scenarios, in the order of :func:`factions`."""
    frame = data.episodes.select("scenario", "hidden_factions").sort("scenario").collect()
    return list(
        dict.fromkeys(f for names in frame["hidden_factions"].to_list() for f in names or ())
    )


def uncovering(data: RunData) -> list[str]:
    """The other factions of the scenarios that have a hidden one."""
    frame = (
        data.episodes.filter(pl.col("hidden_factions").list.len() > 0)
        .select("scenario", "factions", "hidden_factions")
        .sort("scenario")
        .collect()
    )
    return list(
        dict.fromkeys(
            f
            for names, secret in frame.select("factions", "hidden_factions").iter_rows()
            for f in names
            if f not in secret
        )
    )


def suspects(data: RunData) -> list[str]:
    """What the loaded scenarios' belief probes ask about (each game's ``suspect`` word)."""
    frame = data.episodes.select("scenario", "suspect").sort("scenario").collect()
    return list(dict.fromkeys(frame["suspect"].drop_nulls()))


def public_vote_purposes(data: RunData) -> list[str]:
    """The purposes of the public elimination votes in the logs (in each game's words)."""
    purposes = public_votes(data).select(pl.col("purpose").cast(pl.String()).unique()).collect()
    return sorted(purposes.to_series().drop_nulls())


def phrase(names: Iterable[str], default: str) -> str:
    """Names joined with ``/`` (``a/b``), or ``default``."""
    return "/".join(names) or default


def capitalized(text: str) -> str:
    """``text`` with its first letter upper case (the rest unchanged)."""
    return text[:1].upper() + text[1:]
