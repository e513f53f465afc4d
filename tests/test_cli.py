"""The command line: runs, determinism, replay, and clear errors for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from traitors.cli import main
from traitors.store.log import EVENTS, MANIFEST, is_complete


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "traitors.cli", *args], capture_output=True, text=True, timeout=300
    )


@pytest.mark.slow
def test_twenty_episodes_are_byte_identical_across_runs_and_replay_ok(
    traitors_yaml: Path, tmp_path: Path
) -> None:
    for out in ("A", "B"):
        code = main(
            [
                "run", str(traitors_yaml), "--agents", "scripted", "--episodes", "20",
                "--seed", "7", "--out", str(tmp_path / out),
            ]
        )  # fmt: skip
        assert code == 0
    episodes_a = sorted(p.name for p in (tmp_path / "A").iterdir())
    assert len(episodes_a) == 20
    assert episodes_a == sorted(p.name for p in (tmp_path / "B").iterdir())
    for name in episodes_a:
        a, b = tmp_path / "A" / name, tmp_path / "B" / name
        assert (a / EVENTS).read_bytes() == (b / EVENTS).read_bytes()
        assert is_complete(a)
    seeds = sorted(
        json.loads((tmp_path / "A" / n / MANIFEST).read_text())["seed"] for n in episodes_a
    )
    assert seeds == list(range(7, 27))
    result = run_cli("replay", *(str(tmp_path / "A" / n) for n in episodes_a))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("OK") == 20


def test_replay_reports_the_first_divergence(traitors_yaml: Path, tmp_path: Path, capsys) -> None:
    args = ["run", str(traitors_yaml), "--agents", "scripted", "--out", str(tmp_path)]
    assert main(args) == 0
    episode = next(p for p in tmp_path.iterdir() if p.is_dir())
    lines = (episode / EVENTS).read_text().splitlines()
    lines[20] = lines[20].replace('"round":1', '"round":9')
    (episode / EVENTS).write_text("\n".join(lines) + "\n")
    capsys.readouterr()
    assert main(["replay", str(episode)]) == 1
    out = capsys.readouterr().out
    assert "DIVERGED" in out and "event 20 differs" in out


def test_rerun_into_the_same_directory_keeps_complete_episodes(
    traitors_yaml: Path, tmp_path: Path, capsys
) -> None:
    args = [
        "run",
        str(traitors_yaml),
        "--agents",
        "scripted",
        "--episodes",
        "2",
        "--out",
        str(tmp_path),
    ]
    assert main(args) == 0
    capsys.readouterr()
    assert main(args) == 0
    assert capsys.readouterr().out.count("already complete") == 2


def test_set_overrides_the_spec(traitors_yaml: Path, tmp_path: Path) -> None:
    code = main(
        ["run", str(traitors_yaml), "--agents", "scripted", "--set", "rules.n_players=6",
         "--set", "rules.n_traitors=2",
         "--out", str(tmp_path)]
    )  # fmt: skip
    assert code == 0
    manifest = json.loads(next(tmp_path.glob("*/manifest.json")).read_text())
    assert len(manifest["players"]) == 6
    assert sorted(manifest["roles"].values()).count("traitor") == 2


BAD_SPECS = {
    "unknown_scenario": ("name: x\nscenario: chess\n", "scenario: unknown scenario 'chess'"),
    "unknown_key": ("name: x\nscenario: the_traitors\nrulez: {}\n", "rulez: unknown field"),
    "unknown_rule": (
        "name: x\nscenario: the_traitors\nrules: {n_player: 6}\n",
        "rules.n_player: unknown field",
    ),
    "mistyped": (
        "name: x\nscenario: the_traitors\nrules: {n_players: many}\n",
        "rules.n_players: Input should be a valid integer",
    ),
    "impossible": (
        "name: x\nscenario: the_traitors\nrules: {n_players: 3, n_traitors: 3}\n",
        "n_traitors=3 must be fewer than half",
    ),
    "bad_policy": (
        "name: x\nscenario: the_traitors\nagents: {default: {policy: genius}}\n",
        "agents.default.policy: unknown policy 'genius'",
    ),
    "bad_agent_layer": (
        "name: x\nscenario: the_traitors\nagents: {wizard: {policy: random}}\n",
        "agents.wizard: not 'default', a role or a seat",
    ),
    "not_yaml": ("name: [unclosed\n", "not valid YAML"),
}


@pytest.mark.parametrize("case", sorted(BAD_SPECS))
@pytest.mark.slow
def test_bad_specs_exit_2_naming_file_and_field(case: str, tmp_path: Path) -> None:
    text, expected = BAD_SPECS[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(text)
    result = run_cli("run", str(path), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert str(path) in result.stderr and expected in result.stderr, result.stderr


@pytest.mark.slow
def test_missing_file_and_bad_set_exit_2(traitors_yaml: Path, tmp_path: Path) -> None:
    missing = run_cli("run", str(tmp_path / "nope.yaml"))
    assert missing.returncode == 2 and "no such file" in missing.stderr
    assert "Traceback" not in missing.stderr
    bad_set = run_cli("run", str(traitors_yaml), "--set", "rules.n_players=2")
    assert bad_set.returncode == 2 and "rules.n_players" in bad_set.stderr
    bad_path = run_cli("run", str(traitors_yaml), "--set", "name.first=x")
    assert bad_path.returncode == 2 and "name is not a mapping" in bad_path.stderr
    no_episode = run_cli("replay", str(tmp_path))
    assert no_episode.returncode == 2 and "manifest.json" in no_episode.stderr
    unknown = run_cli("check", "chess", "--seeds", "3")
    assert unknown.returncode == 2 and "unknown scenario 'chess'" in unknown.stderr


@pytest.mark.slow
def test_every_command_has_help() -> None:
    for command in (
        [],
        ["run"],
        ["sweep"],
        ["replay"],
        ["check"],
        ["watch"],
        ["play"],
        ["analyze"],
    ):
        result = run_cli(*command, "--help")
        assert result.returncode == 0 and "usage: traitors" in result.stdout


def test_a_help_description_is_a_whole_paragraph(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["plan", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "at most W wide. Per pair of the design's models" in text
    assert "else the worst case 0.5." in text


def test_model_override_and_live_event_lines(traitors_yaml: Path, tmp_path: Path, capsys) -> None:
    from traitors.llm.fake import register_fake_model, schema_filler

    model = register_fake_model("cli", schema_filler())
    args = [
        "run", str(traitors_yaml), "--agents", "llm", "--model", model,
        "--set", "rules.n_players=5", "--set", "rules.n_traitors=1",
        "--set", "rules.max_rounds=2", "--out", str(tmp_path),
    ]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "r1 discussion" in out and "GAME OVER" in out  # every turn printed as it happens
    episode = next(p for p in tmp_path.iterdir() if p.is_dir())
    calls = (episode / "calls.jsonl").read_text().splitlines()
    assert calls and all(json.loads(c)["model"] == model for c in calls)
    manifest = json.loads((episode / MANIFEST).read_text())
    assert {a["policy"] for a in manifest["agents"].values()} == {"llm"}
    assert main(["run", str(traitors_yaml), "--agents", "scripted", "--no-events", "--out",
                 str(tmp_path / "quiet")]) == 0  # fmt: skip
    assert "r1 discussion" not in capsys.readouterr().out
