"""A detector run directory: what judges write and probes will write, and the analysis scores.

::

    <run>/
      detector.json    DetectorManifest: kind (judge, probe), name, the dataset scored, the
                       detector's settings, counts and usage
      scores.parquet   one row per statement: episode (str), seq (int), score (P(lie) in
                       [0, 1], null when the detector gave none), error (why not, else null)
      calls.jsonl      (judges) one model call per line, as an episode's

A statement is keyed by (episode, seq), the dataset's columns: the episode id and the line of
the statement in that episode's events.jsonl. polars is imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from traitors.store.log import LogError, problem, write_bytes_atomic

if TYPE_CHECKING:
    import polars as pl

DETECTOR = "detector.json"
SCORES = "scores.parquet"
SCORE_COLUMNS = ("episode", "seq", "score", "error")
"""The columns of ``scores.parquet``, in order."""


class DetectorManifest(BaseModel):
    """``detector.json``: what scored the statements, and how it went."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["judge", "probe"]
    """A model asked per statement (judge) or a classifier on activations (probe)."""
    name: str
    """How tables name the detector (e.g. ``judge fake/random, public context``)."""
    dataset: str
    """The dataset directory scored (absolute path): its labels are the ground truth."""
    status: Literal["running", "complete", "partial"] = "running"
    """``complete`` when every statement asked for has a score; ``partial`` when some have
    none (failed calls, replies that are no probability, a budget that stopped the run)."""
    statements: int = 0
    """Statements the detector was asked to score."""
    scored: int = 0
    """Statements with a score."""
    failed: dict[str, int] = {}
    """Statements without a score, by reason (e.g. ``call:transient``, ``not_a_probability``,
    ``not_started``)."""
    settings: dict[str, Any] = {}
    """The detector's own settings (a judge's model, prompt, context; a probe's layer)."""
    usage: dict[str, float] = {}
    """Model calls, tokens and dollars (judges)."""


def read_manifest(run: Path) -> DetectorManifest:
    """The run's ``detector.json``; LogError naming the file otherwise."""
    path = run / DETECTOR
    if not path.is_file():
        raise LogError(f"{run}: not a judge or probe run (no {DETECTOR})")
    try:
        return DetectorManifest.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        raise LogError(f"{path}: not a detector manifest: {problem(exc)}") from None


def write_manifest(run: Path, manifest: DetectorManifest) -> None:
    """Write ``detector.json`` atomically."""
    write_bytes_atomic(run / DETECTOR, manifest.model_dump_json(indent=2).encode() + b"\n")


def write_scores(run: Path, rows: Sequence[tuple[str, int, float | None, str | None]]) -> Path:
    """Write ``scores.parquet`` from (episode, seq, score, error) rows, sorted by key."""
    import polars as pl

    schema = {"episode": pl.String, "seq": pl.Int64, "score": pl.Float64, "error": pl.String}
    frame = pl.DataFrame(list(rows), schema=schema, orient="row").sort("episode", "seq")
    path = run / SCORES
    frame.write_parquet(path)
    return path


def read_scores(run: Path) -> pl.DataFrame:
    """The run's scores (:data:`SCORE_COLUMNS`); LogError naming the file when it is missing,
    lacks a column, or holds a score outside [0, 1] or a statement twice."""
    import polars as pl

    path = run / SCORES
    if not path.is_file():
        raise LogError(f"{run}: no {SCORES}")
    try:
        frame = pl.read_parquet(path)
    except (OSError, pl.exceptions.ComputeError) as exc:
        raise LogError(f"{path}: not a Parquet file: {exc}") from None
    missing = [c for c in SCORE_COLUMNS[:3] if c not in frame.columns]
    if missing:
        raise LogError(f"{path}: no column {missing[0]!r} (needs {', '.join(SCORE_COLUMNS)})")
    if "error" not in frame.columns:
        frame = frame.with_columns(error=pl.lit(None, pl.String))
    frame = frame.select(
        pl.col("episode").cast(pl.String),
        pl.col("seq").cast(pl.Int64),
        pl.col("score").cast(pl.Float64),
        pl.col("error").cast(pl.String),
    )
    outside = frame.filter(~pl.col("score").is_between(0.0, 1.0) | pl.col("score").is_nan())
    if outside.height:
        episode, seq, score, _ = outside.row(0)
        raise LogError(f"{path}: score {score} of {episode}:{seq} is not in [0, 1]")
    if frame.select(pl.struct("episode", "seq").is_duplicated().any()).item():
        raise LogError(f"{path}: a statement is scored twice")
    return frame
