"""The reliability figure of the ``detectors`` group (matplotlib, imported only when drawing)."""

from __future__ import annotations

from pathlib import Path

from analysis.figures import FigureFile
from analysis.summary import Table

TITLE = "Reliability of the lie detectors (share of lies by score bin)"


def reliability_figure(tables: list[Table], directory: Path) -> list[FigureFile]:
    """``detectors_reliability.png`` in ``directory``, when that table has rows."""
    from matplotlib.figure import Figure

    found = [t.frame for t in tables if t.name == "detectors_reliability"]
    if not found or found[0].is_empty():
        return []
    frame = found[0]
    figure = Figure(figsize=(8.0, 4.5), layout="constrained")
    ax = figure.subplots()
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    for (name,), group in frame.partition_by("detector", as_dict=True, maintain_order=True).items():
        ax.plot(group["mean_score"], group["lie_share"], marker="o", label=str(name))
    ax.set_xlabel("mean score (P(lie)) in the bin")
    ax.set_ylabel("share of lies")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(fontsize="small")
    ax.set_title(TITLE)
    path = directory / "detectors_reliability.png"
    figure.savefig(path, dpi=100)
    return [FigureFile(TITLE, path)]
