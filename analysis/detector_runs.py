"""Judge and probe runs read for scoring: each run's scores joined to its dataset's labels.

A run is a directory in the detector-scores layout (``traitors.store.detector``): judges
write it, and so will probes. Its statements are keyed (episode, seq) into the dataset its
``detector.json`` names.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from analysis.dataset_read import read_dataset
from analysis.errors import AnalysisError
from traitors.store.detector import DETECTOR, DetectorManifest, read_manifest, read_scores
from traitors.store.log import LogError

LABEL_COLUMNS = (
    "episode",
    "seq",
    "label",
    "scenario",
    "speaker_role",
    "speaker_side",
    "speaker_hidden",
    "speaker_model",
    "text",
)
"""The dataset's columns the scores are joined to."""


@dataclass(frozen=True)
class DetectorRun:
    """One detector's scores with the labels of the statements it scored."""

    name: str
    """How the tables name it (its manifest's name, with the directory if two share it)."""
    path: Path
    manifest: DetectorManifest
    rows: pl.DataFrame
    """episode, seq, score, error and :data:`LABEL_COLUMNS`: one row per statement scored."""
    not_in_dataset: int
    """Statements of the scores file the dataset does not hold (left out)."""


def is_detector_run(path: Path) -> bool:
    """Whether ``path`` is a judge or probe run directory."""
    return (path / DETECTOR).is_file()


def load_detector_runs(paths: Sequence[Path]) -> list[DetectorRun]:
    """Every run of ``paths``; AnalysisError naming the first one that cannot be read."""
    datasets: dict[str, pl.DataFrame] = {}
    found = []
    for path in paths:
        try:
            manifest = read_manifest(path)
            scores = read_scores(path)
        except LogError as exc:
            raise AnalysisError(str(exc)) from None
        if manifest.dataset not in datasets:
            dataset = Path(manifest.dataset)
            if not dataset.is_dir():
                raise AnalysisError(f"{path}: its dataset {dataset} is not there")
            datasets[manifest.dataset] = read_dataset(dataset).select(LABEL_COLUMNS)
        rows = scores.join(datasets[manifest.dataset], on=["episode", "seq"], how="inner")
        found.append((path, manifest, rows, scores.height - rows.height))
    names = Counter(manifest.name for _, manifest, _, _ in found)
    return [
        DetectorRun(
            manifest.name if names[manifest.name] == 1 else f"{manifest.name} ({path.name})",
            path,
            manifest,
            rows,
            missing,
        )
        for path, manifest, rows, missing in found
    ]
