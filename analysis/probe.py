"""White-box probes: a logistic regression on the hidden states captured at statements
(``activations.npz`` beside each episode), fit on a dataset's training split with labels lie
vs honest, and scored on its other splits into the detector-scores layout.

A dataset's statements are found in the runs its card names as sources; a statement has
features when its episode's file holds its seq at the layer asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from analysis.dataset_read import card_sources, read_dataset
from analysis.errors import AnalysisError
from traitors.store.activations import read_activations
from traitors.store.log import ACTIVATIONS, LogError
from traitors.store.probe_file import ProbeFile, model_key

L2_GRID = (0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0)
"""Ridge penalties on the standardised weights that cross-validation chooses from (hidden
states are wide, statements few)."""
FOLDS = 5
"""Cross-validation folds of the training split, by episode."""
NEWTON_STEPS = 30


@dataclass(frozen=True)
class Features:
    """Statements of a dataset with a captured hidden state at one layer."""

    rows: pl.DataFrame
    """The dataset's columns (episode, seq, split, label, speaker_model...): one row per row of
    ``x``."""
    x: np.ndarray
    """float64 features (statements x width)."""
    model: str
    """The model that produced them."""


def features(dataset: Path, layer: int, splits: Sequence[str] = ()) -> Features:
    """The statements of ``dataset`` (its ``splits``) whose hidden state at ``layer`` was
    captured; AnalysisError (one line) when there is none, or they come from two models."""
    rows = read_dataset(dataset, splits)
    files = _activation_files(card_sources(dataset))
    keep, vectors, models = [], [], set()
    for episode, seqs in rows.group_by("episode", maintain_order=True).agg("seq").iter_rows():
        path = files.get(episode)
        if path is None:
            continue
        try:
            found = read_activations(path)
        except LogError as exc:
            raise AnalysisError(str(exc)) from None
        if layer not in found.layers:
            have = ", ".join(map(str, sorted(found.layers)))
            raise AnalysisError(f"{path}: no layer {layer} captured (layers: {have})")
        models.add(str(found.meta.get("model")))
        where = {int(s): i for i, s in enumerate(found.seq)}
        for seq in seqs:
            if seq in where:
                keep.append((episode, seq))
                vectors.append(found.layers[layer][where[seq]])
    if not keep:
        raise AnalysisError(
            f"{dataset}: no statement has captured activations ({ACTIVATIONS} under the runs "
            "its card names; play with agents.<seat>.activations: true)"
        )
    if len(models) > 1:
        raise AnalysisError(f"{dataset}: activations of several models: {', '.join(models)}")
    key = pl.DataFrame(keep, schema={"episode": pl.String, "seq": pl.Int64}, orient="row")
    joined = key.join(rows, on=["episode", "seq"], how="left", maintain_order="left")
    return Features(joined, np.asarray(vectors, np.float64), models.pop())


def _activation_files(runs: Sequence[Path]) -> dict[str, Path]:
    """Episode id -> its activations file, under each run."""
    files = {}
    for run in runs:
        if not run.exists():
            raise AnalysisError(f"{run}: no such run (the dataset's card names it)")
        for path in run.rglob(ACTIVATIONS):
            files[path.parent.name] = path
    return files


def train(dataset: Path, layer: int, l2: float | None = None) -> ProbeFile:
    """A probe fit on the training split's lies and honest statements at ``layer``, with the
    ridge penalty ``l2`` or, by default, the one of ``L2_GRID`` that scores best in
    cross-validation by episode."""
    found = features(dataset, layer)
    labelled = found.rows.with_row_index().filter(
        (pl.col("split") == "train") & pl.col("label").is_in(["lie", "honest"])
    )
    y = (labelled["label"] == "lie").to_numpy().astype(np.float64)
    if len(y) == 0 or y.min() == y.max():
        counts = labelled["label"].value_counts().iter_rows()
        seen = ", ".join(f"{n} {label}" for label, n in counts) or "none"
        raise AnalysisError(
            f"{dataset}: the training split needs lies and honest statements with activations "
            f"(has: {seen})"
        )
    x = found.x[labelled["index"].to_numpy()]
    folds = episode_folds(labelled["episode"].to_list())
    chosen, cv_auroc = choose_l2(x, y, folds, L2_GRID if l2 is None else (l2,))
    mean, scale = standardiser(x)
    weights, bias = fit_logistic((x - mean) / scale, y, chosen)
    fitted = 1 / (1 + np.exp(-((x - mean) / scale @ weights + bias)))
    return ProbeFile(
        model=found.model,
        layer=layer,
        weights=tuple(weights.tolist()),
        bias=float(bias),
        mean=tuple(mean.tolist()),
        scale=tuple(scale.tolist()),
        trained={
            "dataset": str(dataset.resolve()),
            "lie": int(y.sum()),
            "honest": int(len(y) - y.sum()),
            "l2": chosen,
            "l2_from": "given" if l2 is not None else f"cross-validation over {list(L2_GRID)}",
            "train_auroc": auroc(fitted, y),
            "cv_folds": int(folds.max()) + 1,
            "cv_auroc": cv_auroc,
        },
    )


def control(dataset: Path, layer: int, column: str) -> tuple[str, str, int, int, float | None]:
    """A positive control for a probe: how well the hidden states at ``layer`` tell the two
    values of ``column`` apart in the training split (cross-validated AUROC by episode, the
    penalty chosen as in ``train``). Returns both values, their counts and the AUROC."""
    found = features(dataset, layer)
    if column not in found.rows.columns:
        raise AnalysisError(f"{dataset}: no column {column!r}")
    rows = found.rows.with_row_index().filter(pl.col("split") == "train")
    values = sorted(rows[column].drop_nulls().unique().cast(pl.String).to_list())
    if len(values) != 2:
        raise AnalysisError(
            f"{dataset}: {column} needs two values in the training split (has {len(values)})"
        )
    rows = rows.filter(pl.col(column).is_not_null())
    y = (rows[column].cast(pl.String) == values[1]).to_numpy().astype(np.float64)
    x = found.x[rows["index"].to_numpy()]
    _, area = choose_l2(x, y, episode_folds(rows["episode"].to_list()), L2_GRID)
    return values[0], values[1], int(len(y) - y.sum()), int(y.sum()), area


def episode_folds(episodes: Sequence[str]) -> np.ndarray:
    """Each row's fold: the episodes in sorted order dealt round-robin into at most ``FOLDS``
    folds, so an episode's statements share one fold."""
    order = {episode: i % FOLDS for i, episode in enumerate(sorted(set(episodes)))}
    return np.array([order[episode] for episode in episodes])


def choose_l2(
    x: np.ndarray, y: np.ndarray, folds: np.ndarray, grid: Sequence[float]
) -> tuple[float, float | None]:
    """The penalty of ``grid`` with the highest cross-validated AUROC (a tie goes to the larger
    penalty), and that AUROC (None with one fold).

    The AUROC is each held-out fold's, averaged: pooling the folds' scores would compare
    intercepts fit on different label balances, which pulls a weak probe below 0.5.
    """
    best: tuple[float, float | None] = (max(grid), None)
    n_folds = int(folds.max()) + 1
    if n_folds < 2:
        return best
    for l2 in sorted(grid, reverse=True):
        areas = []
        for fold in range(n_folds):
            inside, out = folds != fold, folds == fold
            mean, scale = standardiser(x[inside])
            weights, bias = fit_logistic((x[inside] - mean) / scale, y[inside], l2)
            area = auroc((x[out] - mean) / scale @ weights + bias, y[out])
            if area is not None:
                areas.append(area)
        if areas and (best[1] is None or np.mean(areas) > best[1]):
            best = (l2, float(np.mean(areas)))
    return best


def standardiser(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each column's mean and standard deviation (1 where it is 0)."""
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    return mean, scale


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float) -> tuple[np.ndarray, float]:
    """Weights and intercept minimising the log loss plus ``l2`` / 2 * |w|^2 (Newton's
    method; the intercept is not penalised)."""
    design = np.hstack([x, np.ones((len(x), 1))])
    penalty = np.full(design.shape[1], l2)
    penalty[-1] = 0.0
    theta = np.zeros(design.shape[1])
    for _ in range(NEWTON_STEPS):
        p = 1 / (1 + np.exp(-np.clip(design @ theta, -500, 500)))
        gradient = design.T @ (p - y) + penalty * theta
        hessian = (design * (p * (1 - p))[:, None]).T @ design + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if np.abs(step).max() < 1e-8:
            break
    return theta[:-1], float(theta[-1])


def auroc(scores: np.ndarray, positive: np.ndarray) -> float | None:
    """The area under the ROC curve (ties count half); None without both classes."""
    pos, neg = scores[positive == 1], scores[positive == 0]
    if not len(pos) or not len(neg):
        return None
    greater = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(greater / (len(pos) * len(neg)))


def score(probe: ProbeFile, dataset: Path, splits: Sequence[str]) -> pl.DataFrame:
    """The probe's P(lie) of each statement of ``splits`` spoken by its model: episode, seq,
    score, error (``no_activations`` where none was captured)."""
    found = features(dataset, probe.layer, splits)
    if refused := probe.refuses(found.model, probe.layer):
        raise AnalysisError(f"{dataset}: {refused}")
    x = (found.x - np.asarray(probe.mean)) / np.asarray(probe.scale)
    logits = np.clip(x @ np.asarray(probe.weights) + probe.bias, -500, 500)
    scored = found.rows.select("episode", "seq").with_columns(
        score=pl.Series(1 / (1 + np.exp(-logits))), error=pl.lit(None, pl.String)
    )
    spoken = read_dataset(dataset, splits).filter(
        pl.col("speaker_model").map_elements(model_key, pl.String) == model_key(probe.model)
    )
    missing = spoken.select("episode", "seq").join(scored, on=["episode", "seq"], how="anti")
    unscored = missing.with_columns(score=pl.lit(None, pl.Float64), error=pl.lit("no_activations"))
    return pl.concat([scored, unscored]).sort("episode", "seq")
