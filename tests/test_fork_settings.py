"""``fork --set``: a model setting for seats whose policy calls no model would change nothing,
so it is refused in one line with the hint to set the policy too."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import TRAITORS_YAML

from traitors.cli import main
from traitors.episode.spec import load_spec
from traitors.sweep.episodes import run_episodes

SMALL = ["rules.n_players=5", "rules.n_traitors=1", "rules.max_rounds=2"]


def parent(tmp_path: Path, *settings: str) -> Path:
    spec = load_spec(TRAITORS_YAML, [*SMALL, *settings])
    (summary,) = run_episodes(spec, [0], tmp_path / "parent")
    return summary.dir


def fork(directory: Path, out: Path, *settings: str) -> list[str]:
    sets = [part for setting in settings for part in ("--set", setting)]
    return ["fork", str(directory), "--at", "5", "--samples", "1", "--out", str(out), *sets]


@pytest.mark.parametrize("layer", ["Bob", "traitor", "default"])
def test_a_model_for_a_scripted_seat_is_refused(layer, tmp_path, capsys) -> None:
    directory, out = parent(tmp_path, "agents.default.policy=heuristic"), tmp_path / "forks"
    assert main(fork(directory, out, f"agents.{layer}.model=fake/random")) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        f"error: --set agents.{layer}.model=fake/random: {layer} plays heuristic, which calls "
        f"no model, so this changes nothing; set agents.{layer}.policy=llm too"
    )
    assert not out.exists()


def test_with_the_policy_the_seat_plays_the_model(tmp_path, capsys) -> None:
    directory, out = parent(tmp_path, "agents.default.policy=heuristic"), tmp_path / "forks"
    settings = ("agents.Bob.model=fake/random", "agents.Bob.policy=llm")
    assert main([*fork(directory, out, *settings), "--no-control"]) == 0
    (child,) = [p for p in out.iterdir() if p.is_dir()]
    assert (child / "calls.jsonl").read_text().count('"agent":"Bob"') > 0


def test_a_model_for_a_seat_that_calls_models_is_taken(tmp_path, capsys) -> None:
    settings = ("agents.default.policy=llm", "agents.default.model=fake/random")
    directory = parent(tmp_path, *settings)
    assert (
        main([*fork(directory, tmp_path / "forks", "agents.Bob.model=fake/echo"), "--dry-run"]) == 0
    )
