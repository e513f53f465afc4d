"""A budget stop prints a command that resumes: the budget options as one types them, set to
what the work left is expected to need (and a fifth more)."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pytest
from conftest import TRAITORS_YAML

from traitors.cli import main
from traitors.commands.run import budget_flags, budget_options
from traitors.llm.fake import register_fake_model
from traitors.store.log import is_complete
from traitors.sweep.budget import Spend

PRICED = (
    f"name: priced\nbase: {TRAITORS_YAML}\n"
    "set: {agents.default.policy: llm, agents.default.model: 'fake/random?price=0.01',"
    " rules.n_players: 5, rules.n_traitors: 1, rules.max_rounds: 2}\nepisodes: 6\n"
)


def printed_command(said: str) -> list[str]:
    """The command a budget stop printed, as arguments of ``main``."""
    line = said.strip().splitlines()[-1].split()
    assert line[:2] == ["traitors", "sweep"], said
    return line[1:]


@pytest.mark.parametrize(
    ("option", "budget", "pattern"),
    [("--max-tokens", "20000.0", r"^\d+$"), ("--max-cost", "0.3", r"^\d+(\.\d\d?)?$")],
)
def test_the_printed_command_has_a_clean_budget_and_resumes(
    option, budget, pattern, tmp_path, capsys
) -> None:
    path, out = tmp_path / "sweep.yaml", tmp_path / "run"
    path.write_text(PRICED)
    argv = ["sweep", str(path), "--out", str(out), "--concurrency", "1", option, budget]
    assert main(argv) == 3
    said = capsys.readouterr().out
    resume = printed_command(said)
    value = resume[resume.index(option) + 1]
    assert value != budget and pytest.approx(float(value)) != float(budget)
    assert re.match(pattern, value), value
    started = sum(1 for p in out.iterdir() if p.is_dir())
    assert 0 < started < 6
    assert main(resume) == 0
    assert sum(is_complete(p) for p in out.iterdir() if p.is_dir()) == 6
    assert json.loads((out / "sweep.json").read_text())["counts"] == {"complete": 6}


def test_budget_flags_are_written_as_one_types_them() -> None:
    assert budget_flags(0.5, 20000.0) == ["--max-cost", "0.5", "--max-tokens", "20000"]
    assert budget_flags(2.0, 1234.2) == ["--max-cost", "2", "--max-tokens", "1235"]
    assert budget_flags(None, None) == []


def test_a_suggested_budget_is_the_expected_spend_and_a_fifth_more() -> None:
    args = argparse.Namespace(max_cost=0.5, max_tokens=20000.0)
    assert budget_options(args) == ["--max-cost", "0.5", "--max-tokens", "20000"]
    expected = Spend(cost=1.2345, tokens=100_000)
    assert budget_options(args, expected) == ["--max-cost", "1.49", "--max-tokens", "120000"]
    only_tokens = argparse.Namespace(max_cost=None, max_tokens=5.0)
    assert budget_options(only_tokens, Spend(0.0, 0.0)) == ["--max-tokens", "1"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dataset of two scripted Traitors episodes."""
    root = tmp_path_factory.mktemp("judge")
    args = ["run", str(TRAITORS_YAML), "--agents", "scripted", "--episodes", "2"]
    assert main([*args, "--out", str(root / "run"), "--set", "rules.n_players=8"]) in (0, 1)
    assert main(["dataset", str(root / "run"), "--out", str(root / "ds")]) == 0
    return root / "ds"


def test_a_judge_budget_stop_prints_a_command_that_asks_the_rest(dataset, tmp_path, capsys):
    model = register_fake_model("resume-priced?price=1", lambda call: '{"probability": 0.5}')
    out = tmp_path / "judge"
    argv = ["judge", str(dataset), "--model", model, "--out", str(out), "--concurrency", "1"]
    assert main([*argv, "--max-tokens", "3000.0"]) == 3
    resume = capsys.readouterr().out.strip().splitlines()[-1].split()
    assert resume[:2] == ["traitors", "judge"]
    value = resume[resume.index("--max-tokens") + 1]
    assert value.isdigit() and int(value) > 3000
    assert main(resume[1:]) == 0
    assert json.loads((out / "detector.json").read_text())["status"] == "complete"
