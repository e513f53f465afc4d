"""``traitors probe train DATASET --layer L`` and ``traitors probe score PROBE DATASET``: a
logistic-regression probe on the hidden states captured at statements (``activations.npz``),
and its scores of a dataset's other splits as a detector run (``--metrics detectors``).

Only argparse is imported at module level, so adding the subcommand costs nothing at start-up.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

EXIT_BAD_INPUT = 2
SCORED_SPLITS = ("validation", "test")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``probe`` subcommand with ``train`` and ``score``."""
    parser = subparsers.add_parser(
        "probe",
        help="white-box lie probes: train on a dataset's captured activations, score the rest",
        description="Logistic-regression probes on the hidden states captured at statements "
        "(agents.<seat>.activations: true on a local model).",
    )
    actions = parser.add_subparsers(dest="probe_command", required=True, metavar="ACTION")
    train = actions.add_parser(
        "train", help="fit a probe on the training split (lie vs honest) at one layer"
    )
    train.add_argument("dataset", type=Path, metavar="DATASET", help="a traitors dataset")
    train.add_argument("--layer", type=int, required=True, metavar="L", help="layer to read")
    train.add_argument(
        "--out", type=Path, metavar="FILE", help="probe file (default DATASET/probe-L<L>.json)"
    )
    train.add_argument(
        "--l2",
        type=float,
        metavar="X",
        help="ridge penalty (default: the best of a grid in cross-validation by episode)",
    )
    train.set_defaults(handler=run_train)
    control = actions.add_parser(
        "control",
        help="how well the same hidden states tell apart two values of another column "
        "(a positive control)",
    )
    control.add_argument("dataset", type=Path, metavar="DATASET", help="a traitors dataset")
    control.add_argument("--layer", type=int, required=True, metavar="L", help="layer to read")
    control.add_argument(
        "--column",
        default="speaker_side",
        metavar="NAME",
        help="a dataset column with two values (default speaker_side)",
    )
    control.set_defaults(handler=run_control)
    score = actions.add_parser(
        "score", help="score the dataset's validation and test splits into a detector run"
    )
    score.add_argument("probe", type=Path, metavar="PROBE", help="a probe file")
    score.add_argument("dataset", type=Path, metavar="DATASET", help="a traitors dataset")
    score.add_argument(
        "--out", type=Path, metavar="DIR", help="run directory (default runs/probes/<probe>)"
    )
    score.set_defaults(handler=run_score)


def run_train(args: argparse.Namespace) -> int:
    """Fit and write the probe; one line saying how it fits."""
    from analysis.errors import AnalysisError
    from analysis.probe import train
    from traitors.store.probe_file import write_probe

    out = args.out or args.dataset / f"probe-L{args.layer}.json"
    try:
        if args.l2 is not None and not 0 < args.l2 < math.inf:
            return _error(f"--l2 {args.l2}: the penalty must be a number above 0")
        probe = train(args.dataset, args.layer, args.l2)
        write_probe(out, probe)
    except AnalysisError as exc:
        return _error(str(exc))
    except OSError as exc:
        return _error(f"{out}: cannot write: {exc.strerror or exc}")
    fit = probe.trained
    print(
        f"wrote {out}: {probe.model} layer {probe.layer}, {fit['lie']} lies and "
        f"{fit['honest']} honest statements, ridge {fit['l2']:g}: training AUROC "
        f"{_num(fit['train_auroc'])}, cross-validated {_num(fit['cv_auroc'])} "
        f"({fit['cv_folds']} folds by episode)"
    )
    return 0


def run_control(args: argparse.Namespace) -> int:
    """Print the control's cross-validated AUROC in one line."""
    from analysis.errors import AnalysisError
    from analysis.probe import control

    try:
        first, second, n_first, n_second, area = control(args.dataset, args.layer, args.column)
    except AnalysisError as exc:
        return _error(str(exc))
    print(
        f"{args.dataset} layer {args.layer}: {args.column} {second} ({n_second}) against "
        f"{first} ({n_first}) in the training split, cross-validated AUROC {_num(area)}"
    )
    return 0


def run_score(args: argparse.Namespace) -> int:
    """Score the validation and test splits; one line with the run and its AUROC."""
    from analysis.errors import AnalysisError
    from analysis.probe import score
    from traitors.store.detector import DetectorManifest, write_manifest, write_scores
    from traitors.store.log import LogError
    from traitors.store.probe_file import read_probe

    out = args.out or Path("runs") / "probes" / args.probe.stem
    try:
        probe = read_probe(args.probe)
        scores = score(probe, args.dataset, SCORED_SPLITS)
        out.mkdir(parents=True, exist_ok=True)
        write_scores(out, scores.rows())
    except (AnalysisError, LogError) as exc:
        return _error(str(exc))
    except OSError as exc:
        return _error(f"{out}: cannot write: {exc.strerror or exc}")
    scored = scores["score"].is_not_null().sum()
    missing = scores.height - scored
    write_manifest(
        out,
        DetectorManifest(
            kind="probe",
            name=f"probe {args.probe.stem} ({probe.model}, layer {probe.layer})",
            dataset=str(args.dataset.resolve()),
            status="complete" if not missing else "partial",
            statements=scores.height,
            scored=scored,
            failed={"no_activations": missing} if missing else {},
            settings={
                "probe": str(args.probe.resolve()),
                "model": probe.model,
                "layer": probe.layer,
            },
        ),
    )
    print(
        f"wrote {out}: {scored} of {scores.height} statements scored ({', '.join(SCORED_SPLITS)})"
    )
    return 0


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _error(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT
