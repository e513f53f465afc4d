"""``traitors watch`` meets damaged episode files as ``replay`` does: one line naming the file
(and the line), exit code 2."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import TRAITORS_YAML

from traitors.cli import main
from traitors.episode.spec import load_spec
from traitors.store.log import EVENTS, MANIFEST
from traitors.sweep.episodes import run_episodes

SMALL = ["agents.default.policy=heuristic", "rules.n_players=5", "rules.n_traitors=1"]


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    (summary,) = run_episodes(load_spec(TRAITORS_YAML, SMALL), [0], tmp_path_factory.mktemp("r"))
    return summary.dir


@pytest.fixture
def episode(finished: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(finished, tmp_path / finished.name))


def refused(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(["watch", *argv, "--plain"]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    return lines[0]


def test_a_cut_off_last_line_is_named_as_replay_names_it(episode, capsys) -> None:
    events = episode / EVENTS
    lines = events.read_bytes().splitlines(keepends=True)
    events.write_bytes(b"".join(lines[:-1]) + lines[-1][:20])
    line = refused(capsys, str(episode))
    assert line.startswith(f"error: {events}, line {len(lines)}: not a valid event")
    assert "(the line is cut off)" in line
    assert main(["replay", str(episode)]) == 2
    assert f"{events}, line {len(lines)}" in capsys.readouterr().err


def test_a_whole_last_line_without_its_newline_is_shown(episode, capsys) -> None:
    events = episode / EVENTS
    assert main(["watch", str(episode), "--plain"]) == 0
    whole = capsys.readouterr().out
    events.write_bytes(events.read_bytes().rstrip(b"\n"))
    assert main(["watch", str(episode), "--plain"]) == 0
    assert capsys.readouterr().out == whole


def test_a_damaged_manifest_is_named(episode, capsys) -> None:
    manifest = episode / MANIFEST
    manifest.write_text(manifest.read_text()[:50])
    line = refused(capsys, str(episode))
    assert line.startswith(f"error: {manifest}: damaged")
    assert main(["replay", str(episode)]) == 2
