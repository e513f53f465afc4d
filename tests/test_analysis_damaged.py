"""``analyze`` leaves damaged episodes out of every table, and names the files of the damaged
ones, a broken manifest.json included, also when nothing is left to read."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from conftest import TRAITORS_YAML

import analysis
from analysis.errors import AnalysisError
from traitors.cli import main
from traitors.episode.spec import load_spec
from traitors.store.log import EVENTS, MANIFEST
from traitors.sweep.episodes import run_episodes

SMALL = ["agents.default.policy=heuristic", "rules.n_players=5", "rules.n_traitors=1"]


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("played") / "run"
    run_episodes(load_spec(TRAITORS_YAML, SMALL), [0, 1], out)
    return out


@pytest.fixture
def run(played: Path, tmp_path: Path) -> tuple[Path, list[Path]]:
    copy = Path(shutil.copytree(played, tmp_path / "run"))
    return copy, sorted(p for p in copy.iterdir() if p.is_dir())


def cut_events(episode: Path) -> None:
    data = (episode / EVENTS).read_bytes()
    (episode / EVENTS).write_bytes(data[: len(data) // 2])


def break_manifest(episode: Path) -> None:
    (episode / MANIFEST).write_text('{"episode_id": ')


def outcome_episodes(capsys: pytest.CaptureFixture[str], path: Path) -> int:
    assert main(["analyze", str(path), "--metrics", "outcome", "--format", "csv"]) == 0
    out = capsys.readouterr().out.splitlines()
    header = out.index("# outcome") + 1
    row = dict(zip(out[header].split(","), out[header + 1].split(","), strict=True))
    return int(row["episodes"])


def test_a_run_whose_only_episode_is_damaged_has_nothing_to_read(run, capsys) -> None:
    root, (first, second) = run
    shutil.rmtree(second)
    cut_events(first)
    with pytest.raises(AnalysisError, match="no complete episodes"):
        analysis.load(root)
    assert main(["analyze", str(root)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {root}: no complete episodes (1 with damaged logs: {first})"


def test_a_damaged_episode_is_counted_in_no_table(run, capsys) -> None:
    root, (first, _) = run
    cut_events(first)
    data = analysis.load(root)
    assert data.episodes.select(pl.len()).collect().item() == 1
    assert data.damaged == (str(first),)
    assert outcome_episodes(capsys, root) == 1


def test_a_broken_manifest_is_named_as_damaged(run, capsys) -> None:
    root, (first, _) = run
    break_manifest(first)
    data = analysis.load(root)
    assert data.damaged == (str(first / MANIFEST),) and data.incomplete == 0
    assert outcome_episodes(capsys, root) == 1
    assert main(["analyze", str(first)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {first}: no complete episodes (1 with damaged logs: {first / MANIFEST})"
