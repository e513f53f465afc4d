"""``traitors analyze``: exit codes, output formats, figures and the report."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_analysis_support import example_game, werewolf_game, write_sweep

from traitors.cli import main
from traitors.commands.analyze import add_parser

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ROOT = Path(__file__).resolve().parent.parent


def analyze(*argv: str | Path) -> int:
    """Parse ``traitors analyze ...`` with the subcommand alone and run it."""
    parser = argparse.ArgumentParser(prog="traitors")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["analyze", *map(str, argv)])
    code: int = args.handler(args)
    return code


@pytest.fixture
def run(tmp_path: Path) -> Path:
    """A two-episode sweep over rules.n_players."""
    directory = tmp_path / "sweep"
    example_game("g1", started_at=1.0).write(directory)
    example_game("g2", started_at=2.0).write(directory)
    write_sweep(directory, {"g1": {"rules.n_players": 6}, "g2": {"rules.n_players": 8}})
    return directory


@pytest.mark.slow
def test_table_output(run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert analyze(run, "--by", "rules.n_players") == 0
    out = capsys.readouterr().out
    assert "2 complete episode(s)" in out and "none left out" in out
    for title in ("Outcome", "Deception", "Honesty", "Trust", "inference", "paper", "Elo"):
        assert title in out


def test_csv_output(run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert analyze(run, "--metrics", "paper", "--format", "csv") == 0
    captured = capsys.readouterr()
    assert "2 complete episode(s)" in captured.err
    lines = captured.out.splitlines()
    assert lines[0] == "# paper"
    assert lines[1] == "episodes,TAS,FAS,FCR,TSR,FSR,DES,IDR,BRR,VSF,TNS,FCR_valid"
    assert lines[2].startswith("2,1.0,0.75,0.75,0.5,0.25,1.0,0.75,0.0,")


def test_json_output_by_factor(run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = analyze(
        run, "--metrics", "outcome", "deception", "--by", "rules.n_players", "--format", "json"
    )
    assert code == 0
    tables = json.loads(capsys.readouterr().out)
    assert list(tables) == ["outcome", "hidden_survival", "deception", "hidden_hazard"]
    assert [r["rules.n_players"] for r in tables["outcome"]] == [6, 8]
    assert tables["outcome"][0]["traitors_win_rate"] == 1.0
    assert tables["deception"][1]["misdirected_elimination_rate"] == 0.5


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["missing"], "no such directory"),
        (["empty"], "no complete episodes"),
        (["sweep", "--by", "nope"], "unknown factor 'nope'"),
        (["sweep", "--metrics", "vibes"], "unknown metric group 'vibes'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    run: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (run.parent / "empty").mkdir()
    assert analyze(run.parent / argv[0], *argv[1:]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("error: ") and message in captured.err


@pytest.mark.slow
def test_out_writes_figures_tables_and_a_self_contained_report(run: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    assert analyze(run, "--out", out, "--by", "rules.n_players") == 0
    figures = sorted(p.name for p in out.glob("*.png"))
    assert figures == [
        "calibration.png",
        "hidden_survival.png",
        "leaderboard.png",
        "outcome.png",
        "ratings.png",
        "trust_graphs.png",
    ]
    for figure in figures:
        assert (out / figure).read_bytes().startswith(PNG_MAGIC)
    assert (out / "paper.csv").read_text().startswith("rules.n_players,episodes,TAS")
    report = (out / "report.html").read_text()
    assert report.count('src="data:image/png;base64,') == 6
    assert "The Traitors paper&#x27;s metrics" in report
    assert 'src="http' not in report and "<script" not in report


def test_compact_then_reuse(run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert analyze(run, "--compact", "--metrics", "outcome") == 0
    assert "compacted the logs into" in capsys.readouterr().out
    assert (run / ".compact" / "events.parquet").is_file()
    assert analyze(run, "--metrics", "outcome") == 0
    assert "read from the Parquet cache" in capsys.readouterr().out


def test_a_principal_agent_sweep_shows_override_rates_by_condition(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sweep = tmp_path / "conditions.yaml"
    sweep.write_text(
        f"name: tiny\nbase: {ROOT / 'scenarios' / 'principal_agent.yaml'}\n"
        "set: {agents.assistant.policy: random}\n"
        "grid: {rules.condition: [both, customer, company, neither]}\nepisodes: 3\n"
    )
    assert main(["sweep", str(sweep), "--out", str(tmp_path / "out")]) == 0
    capsys.readouterr()
    assert analyze(tmp_path / "out", "--format", "json") == 0
    tables = json.loads(capsys.readouterr().out)
    assert list(tables) == ["principal_agent", "audience_effect"]  # not The Traitors' groups
    rows = tables["principal_agent"]
    assert [(r["rules.condition"], r["episodes"]) for r in rows] == [
        ("both", 3),
        ("company", 3),
        ("customer", 3),
        ("neither", 3),
    ]
    for row in rows:
        assert row["override_low"] <= row["override_rate"] <= row["override_high"]
    assert analyze(tmp_path / "out", "--by", "rules.condition") == 0
    out = capsys.readouterr().out
    assert "Principal-agent" in out and "Outcome" not in out
    for word in ("override_rate", "override_low", "override_high", "neither", "company"):
        assert word in out


@pytest.mark.slow
def test_by_episode_id_splits_every_table_by_episode(
    run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--by episode_id`` (a key column of every per-episode table), a factor that is also a
    table's column (``rounds``) and a factor given twice once raised polars' DuplicateError."""
    by = ["--by", "episode_id", "rounds", "episode_id"]
    assert analyze(run, *by, "--format", "json", "--out", tmp_path / "out") == 0
    tables = json.loads(capsys.readouterr().out)
    for name in ("outcome", "deception", "trust", "inference", "paper"):
        assert [(r["episode_id"], r["rounds"]) for r in tables[name]] == [("g1", 2), ("g2", 2)]
    assert [r["episode_id"] for r in tables["honesty"]] == ["g1", "g1", "g2", "g2"]
    assert tables["outcome"][0]["episodes"] == 1
    assert tables["deception"][1]["misdirected_elimination_rate"] == 0.5
    assert (tmp_path / "out" / "hidden_survival.png").is_file()


def test_degraded_episodes_are_left_out_and_counted_unless_asked(
    run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    game = example_game("bad", started_at=3.0)
    game.status = "degraded"
    game.write(run)
    (run / "crashed").mkdir()
    (run / "crashed" / "error.txt").write_text("boom")
    assert analyze(run, "--metrics", "outcome", "--format", "json") == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["outcome"][0]["episodes"] == 2
    assert captured.err.strip().endswith(
        "2 complete episode(s) in "
        f"{run}; left out: 1 degraded (--include-degraded keeps them), 1 incomplete"
    )
    assert analyze(run, "--metrics", "outcome", "--include-degraded", "--format", "json") == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["outcome"][0]["episodes"] == 3
    assert f"3 episode(s) in {run} (2 complete, 1 degraded); left out: 1 incomplete" in (
        captured.err
    )


@pytest.mark.slow
def test_a_werewolf_run_names_villagers_and_werewolves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ww"
    spec = ROOT / "scenarios" / "werewolf.yaml"
    code = main(["run", str(spec), "--agents", "scripted", "--episodes", "3", "--out", str(out)])
    assert code == 0
    werewolf_game("hand-built").write(out)
    capsys.readouterr()
    assert analyze(out, "--format", "json", "--out", tmp_path / "report") == 0
    captured = capsys.readouterr()
    assert "4 complete episode(s)" in captured.err
    tables = json.loads(captured.out)
    # No belief probe in Werewolf: no inference; the paper's metrics are The Traitors' own.
    assert list(tables) == [
        "outcome",
        "hidden_survival",
        "deception",
        "hidden_hazard",
        "honesty",
        "trust",
        "ratings",
        "leaderboard",
    ]
    (outcome,) = tables["outcome"]
    assert outcome["episodes"] == 4
    assert outcome["villagers_wins"] + outcome["werewolves_wins"] + outcome["draws"] == 4
    assert not any("traitor" in column or "faithful" in column for column in outcome)
    assert {r["role"] for r in tables["honesty"]} == {"doctor", "seer", "villager", "werewolf"}
    assert {(r["role"], r["faction"]) for r in tables["ratings"]} == {
        ("doctor", "villagers"),
        ("seer", "villagers"),
        ("villager", "villagers"),
        ("werewolf", "werewolves"),
    }
    assert tables["deception"][0]["misdirected_elimination_rate"] is not None
    assert sorted(p.name for p in (tmp_path / "report").glob("*.png")) == [
        "hidden_survival.png",
        "leaderboard.png",
        "outcome.png",
        "ratings.png",
        "trust_graphs.png",
    ]
    report = (tmp_path / "report" / "report.html").read_text()
    assert "Werewolves survival" in report and "Deception success of the werewolves" in report
    assert "traitor" not in report.lower().replace("traitors analysis", "")
    capsys.readouterr()
    assert analyze(out) == 0
    printed = capsys.readouterr().out
    assert "villagers_win_rate" in printed and "Werewolves eliminated by the exile vote" in printed


def test_the_subcommand_does_not_import_polars() -> None:
    code = "import sys, traitors.commands.analyze; print('polars' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False"
