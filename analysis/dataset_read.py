"""Reading a statements dataset back (``traitors dataset``'s output): its rows, the runs it
was exported from, and each statement's public transcript.

The transcript is the dataset's inlined ``context`` when it has one, else its context
pointer resolved from the episodes' logs (``analysis.dataset_context``: the same lines).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from analysis.dataset import SPLITS
from analysis.dataset_export import CARD, DATA_DIR
from analysis.errors import AnalysisError

SOURCE_LINE = re.compile(r"^- (.+): \d+ episodes, \d+ statements$")
"""How the card's Sources section names a run the dataset was read from."""
CLAIM_WORDS = {"accuse": "accuses {target}", "defend": "defends {target}"}
"""A claim in words, as prompts show it (any other kind: ``claims to be <role>``)."""


def read_dataset(directory: Path, splits: Sequence[str] = ()) -> pl.DataFrame:
    """The rows of the dataset in ``directory`` (of ``splits``; every split when empty)."""
    known = [name for name, _ in SPLITS]
    unknown = [s for s in splits if s not in known]
    if unknown:
        raise AnalysisError(f"unknown split {unknown[0]!r} (splits: {', '.join(known)})")
    files = sorted((directory / DATA_DIR).glob("*-of-*.parquet"))
    if not files:
        raise AnalysisError(f"{directory}: not a dataset (no {DATA_DIR}/*.parquet)")
    rows = pl.concat([pl.read_parquet(f) for f in files], how="diagonal_relaxed")
    if splits:
        rows = rows.filter(pl.col("split").is_in(list(splits)))
    return rows.sort("episode", "seq")


def card_sources(directory: Path) -> list[Path]:
    """The runs the dataset's card names as its sources."""
    card = directory / CARD
    if not card.is_file():
        return []
    return [
        Path(found.group(1))
        for line in card.read_text().splitlines()
        if (found := SOURCE_LINE.match(line))
    ]


def with_transcripts(rows: pl.DataFrame, runs: Sequence[Path]) -> pl.DataFrame:
    """``rows`` with a ``context`` column: kept when inlined, else read from ``runs``."""
    if "context" in rows.columns:
        return rows
    from analysis.dataset_context import with_context
    from analysis.loader import load

    parts = []
    left = rows
    for run in runs:
        if not left.height:
            break
        if not run.exists():
            raise AnalysisError(f"{run}: no such run (the transcripts are read from it)")
        data = load(run, include_degraded=True)
        ids = data.episodes.select(pl.col("episode_id").cast(pl.String)).collect().to_series()
        mine = left.filter(pl.col("episode").is_in(ids.implode()))
        parts.append(with_context(mine, data))
        left = left.filter(~pl.col("episode").is_in(ids.implode()))
    if left.height:
        raise AnalysisError(
            f"{left['episode'].n_unique()} episode(s) of the dataset (e.g. {left['episode'][0]}) "
            f"are in none of the runs {', '.join(map(str, runs)) or '(none named)'}: name the "
            "runs it was exported from with --runs, or export it with --inline-context"
        )
    return pl.concat(parts).sort("episode", "seq")


def claims_words(claims: Sequence[dict[str, str | None]] | None) -> str:
    """A statement's structured claims in words (``accuses Bob; claims to be seer``)."""
    parts = []
    for claim in claims or ():
        words = CLAIM_WORDS.get(claim.get("kind") or "", "claims to be {role}")
        parts.append(words.format(target=claim.get("target"), role=claim.get("role")))
    return "; ".join(parts)
