"""Preflight: an embedded model whose ``.gguf`` file does not exist is refused in one line,
exit code 2, before anything is written, by every command that would call it."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import TRAITORS_YAML

from traitors.cli import main
from traitors.commands.preflight import check_specs
from traitors.episode.spec import load_spec
from traitors.sweep.episodes import run_episodes

MISSING = "local/no-such-model.gguf"
SMALL = ["rules.n_players=5", "rules.n_traitors=1", "rules.max_rounds=2"]


def sets(settings: list[str]) -> list[str]:
    return [part for setting in settings for part in ("--set", setting)]


def refused(capsys: pytest.CaptureFixture[str], argv: list[str], out: Path) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {MISSING}: local model file 'no-such-model.gguf' does not exist"
    assert not out.exists()


def test_run_refuses_a_missing_model_file(tmp_path, capsys) -> None:
    out = tmp_path / "run"
    argv = ["run", str(TRAITORS_YAML), "--agents", "llm", "--model", MISSING, "--out", str(out)]
    refused(capsys, [*argv, *sets(SMALL)], out)


def test_sweep_refuses_a_missing_model_file(tmp_path, capsys) -> None:
    path, out = tmp_path / "sweep.yaml", tmp_path / "sweep"
    path.write_text(
        f"name: files\nbase: {TRAITORS_YAML}\n"
        "set: {rules.n_players: 5, rules.n_traitors: 1, rules.max_rounds: 2}\n"
        f"design: {{models: [heuristic, {MISSING}]}}\n"
    )
    refused(capsys, ["sweep", str(path), "--out", str(out)], out)


def test_fork_refuses_a_missing_model_file(tmp_path, capsys) -> None:
    spec = load_spec(TRAITORS_YAML, ["agents.default.policy=heuristic", *SMALL])
    (parent,) = run_episodes(spec, [0], tmp_path / "parent")
    seat = parent.manifest.players[0]
    out = tmp_path / "forks"
    swap = [f"agents.{seat}.policy=llm", f"agents.{seat}.model={MISSING}"]
    refused(capsys, ["fork", str(parent.dir), "--at", "5", "--out", str(out), *sets(swap)], out)


def test_judge_refuses_a_missing_model_file(tmp_path, capsys) -> None:
    out = tmp_path / "judge"
    refused(
        capsys, ["judge", str(tmp_path / "dataset"), "--model", MISSING, "--out", str(out)], out
    )


def test_an_existing_model_file_passes_preflight(tmp_path) -> None:
    model = f"local/{tmp_path / 'weights.gguf'}"
    (tmp_path / "weights.gguf").write_bytes(b"GGUF")
    spec = load_spec(TRAITORS_YAML, ["agents.default.policy=llm", f"agents.default.model={model}"])
    assert check_specs([spec]) == {model}
