"""The polars metric suite against an independent plain-Python loop over the same logs."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

import analysis
from analysis.suite import compute
from traitors.cli import main

ROOT = Path(__file__).resolve().parent.parent
NO_LOOP_VERSION = "leaderboard"
"""The OpenSkill and Bradley-Terry leaderboard has no loop version (tests/test_ratings.py
checks it against openskill called directly and against planted skill gaps)."""
SWEEP = f"""\
name: crosscheck
base: {ROOT / "scenarios" / "the_traitors.yaml"}
set: {{agents.default.policy: heuristic}}
grid:
  rules.recruitment: [false, true]
episodes: 8
seed: 0
"""


def load_loop() -> ModuleType:
    """``benchmarks/analysis_loop.py``, imported by path (benchmarks is not a package)."""
    path = ROOT / "benchmarks" / "analysis_loop.py"
    spec = importlib.util.spec_from_file_location("analysis_loop", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def recruited(run: Path) -> int:
    """Role events after the setup (a faithful recruited into the traitors)."""
    return sum(
        json.loads(line)["kind"] == "role" and json.loads(line)["round"] > 0
        for path in run.glob("*/events.jsonl")
        for line in path.read_text().splitlines()
    )


@pytest.mark.slow
def test_loop_gives_every_table_of_the_suite(tmp_path: Path) -> None:
    spec = tmp_path / "sweep.yaml"
    spec.write_text(SWEEP)
    run = tmp_path / "run"
    assert main(["sweep", str(spec), "--out", str(run)]) == 0
    assert len(list(run.glob("*/manifest.json"))) == 16
    assert recruited(run) > 0  # roles change mid-game: items need the role at the time

    loop = load_loop()
    polars = {t.name: t.frame.to_dicts() for t in compute(analysis.load(run), [], [])}
    del polars[NO_LOOP_VERSION]
    tables = loop.loop_tables(run)
    assert loop.compare(polars, tables) == []

    assert set(tables) == {
        "outcome",
        "hidden_survival",
        "deception",
        "hidden_hazard",
        "honesty",
        "trust",
        "inference",
        "calibration",
        "paper",
        "ratings",
    }
    assert tables["outcome"][0]["episodes"] == 16
    assert len(tables["calibration"]) > 1
    assert [row["role"] for row in tables["honesty"]] == ["faithful", "traitor"]
    assert tables["inference"][0]["brier"] is not None
    assert tables["trust"][0]["modularity"] is not None
    assert tables["paper"][0]["TAS"] is not None
    assert {row["role"] for row in tables["ratings"]} == {"faithful", "traitor"}


@pytest.mark.slow
def test_loop_agrees_on_werewolf(tmp_path: Path) -> None:
    """The same on Werewolf (its own factions, exile and kill; no beliefs), every group the
    loop computes asked of the suite."""
    spec = tmp_path / "sweep.yaml"
    base = ROOT / "scenarios" / "werewolf.yaml"
    spec.write_text(
        f"name: ww\nbase: {base}\nset: {{agents.default.policy: heuristic}}\n"
        "grid: {rules.n_players: [6, 8]}\nepisodes: 4\nseed: 0\n"
    )
    run = tmp_path / "run"
    assert main(["sweep", str(spec), "--out", str(run)]) == 0
    loop = load_loop()
    tables = loop.loop_tables(run)
    groups = ["outcome", "deception", "honesty", "trust", "inference", "paper", "ratings"]
    polars = compute(analysis.load(run), groups, [])
    polars_tables = {t.name: t.frame.to_dicts() for t in polars if t.name != NO_LOOP_VERSION}
    assert loop.compare(polars_tables, tables) == []
    assert tables["outcome"][0]["episodes"] == 8
    assert "werewolves_win_rate" in tables["outcome"][0]
    assert tables["deception"][0]["misdirected_elimination_rate"] is not None
    assert tables["trust"][0]["modularity"] is not None
    assert tables["inference"][0]["brier"] is None  # no belief probe
    assert tables["calibration"] == []
    assert {row["faction"] for row in tables["ratings"]} == {"villagers", "werewolves"}


def test_compare_reports_each_difference() -> None:
    compare = load_loop().compare
    polars = {"t": [{"k": 1, "x": 0.5, "y": None}], "only": []}
    assert compare(polars, {"t": [{"k": 1, "x": 0.5 + 1e-12, "y": None}], "only": []}) == []
    problems = compare(polars, {"t": [{"k": 1, "x": 0.6, "y": 0.0}]})
    assert problems == [
        "t row 0 x: polars 0.5, loop 0.6",
        "t row 0 y: polars None, loop 0.0",
        "only: only in polars",
    ]
