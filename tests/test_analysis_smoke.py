"""Every registered game through the whole analysis: scripted episodes of each, analysed with
every metric group, its figures and the report; all games in one directory; and the
plug-in points of ``analysis.plugin`` (a game's own frame and events column)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import fifth_game
import polars as pl
import pytest
from games import GAMES, game_spec

import analysis
from analysis.errors import AnalysisError
from analysis.frames import KEY
from analysis.plugin import Frame, game_analyses
from analysis.suite import GENERIC_GROUPS, compute, default_groups, groups
from traitors.cli import main
from traitors.game import registry
from traitors.sweep.episodes import run_episodes

NEEDS_FORKS = "causal"
"""The one group that needs a directory of forks (it says so, and computes nothing else)."""


def every_group() -> list[str]:
    return [name for name in groups() if name != NEEDS_FORKS]


def play(scenario: str, directory: Path, seeds: range = range(2)) -> Path:
    run_episodes(game_spec(scenario, "heuristic"), list(seeds), directory)
    return directory


@pytest.mark.parametrize("scenario", GAMES)
@pytest.mark.slow
def test_every_group_figure_and_the_report_on_each_game(
    scenario: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = play(scenario, tmp_path / "run")
    data = analysis.load(run)
    assert data.episodes.collect().height == 2
    tables = compute(data, every_group(), [])
    assert {t.name for t in tables} >= {"outcome", "validity"}
    own = game_analyses().get(scenario)
    for group in own.groups if own else ():  # a game's own groups read its episodes
        assert any(t.frame.height for t in own.groups[group](data, [])), group
    assert set(default_groups(data)) <= set(groups())
    out = tmp_path / "out"
    argv = ["analyze", str(run), "--metrics", *every_group(), "--out", str(out)]
    assert main(argv) == 0
    assert (out / "report.html").is_file() and (out / "outcome.png").is_file()
    for figure in own.figures if own else ():
        assert (out / f"{figure.table}.png").is_file(), figure.table
    capsys.readouterr()
    assert main(["analyze", str(run), "--by", "episode_id", "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    defaults = compute(data, [], ["episode_id"])
    assert set(printed) == {t.name for t in defaults if t.frame.width}


@pytest.mark.slow
def test_every_game_in_one_directory(tmp_path: Path) -> None:
    for scenario in GAMES:
        play(scenario, tmp_path / scenario, range(1))
    data = analysis.load(tmp_path)
    assert sorted(data.episodes.collect()["scenario"].to_list()) == sorted(GAMES)
    names = default_groups(data)
    plugins = game_analyses()
    for scenario in GAMES:  # the union of what fits each game
        assert set(plugins[scenario].default_groups or plugins[scenario].groups) <= set(names)
    tables = {t.name: t for t in compute(data, [], ["scenario"])}
    outcome = tables["outcome"].frame
    assert sorted(outcome["scenario"].to_list()) == sorted(GAMES)
    assert main(["analyze", str(tmp_path), "--out", str(tmp_path / "out")]) == 0


def test_groups_are_in_report_order_with_each_games_own() -> None:
    names = list(groups())
    generic = [n for n in names if n in GENERIC_GROUPS]
    assert generic == list(GENERIC_GROUPS)
    for scenario, plugin in game_analyses().items():
        for group in plugin.groups:
            assert names.index(group) < names.index(plugin.before), (scenario, group)
    assert "spy" in names  # the fifth game's own, registered in conftest.py


def with_plugin(monkeypatch: pytest.MonkeyPatch, scenario: str, plugin: object) -> None:
    """Register an analysis plug-in for this test only."""
    monkeypatch.setitem(registry._registered["analysis"], scenario, plugin)


ROLE_CARD = {
    "episode_id": KEY,
    "player": pl.String(),
    "allies": pl.Int64(),
}


def role_cards(events: pl.DataFrame) -> pl.DataFrame:
    """One row per role event: its player and how many allies it names."""
    roles = events.filter(pl.col("kind") == "role")
    return roles.select("episode_id", "player", allies=pl.col("allies").list.len())


def test_a_games_own_frame_and_events_column(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plugin = replace(
        fifth_game.ANALYSIS,
        frames={"role_cards": Frame(ROLE_CARD, {"allies": pl.List(pl.String())}, role_cards)},
        event_columns={"channels": pl.List(pl.String())},
    )
    with_plugin(monkeypatch, "spy_cards", plugin)
    run = play(fifth_game.NAME, tmp_path)
    data = analysis.load(run)
    cards = data.frame("role_cards").collect()
    assert cards.schema == pl.Schema(ROLE_CARD)
    assert cards.height == 2 * 3 and cards["allies"].to_list() == [0] * 6
    assert "channels" in data.events.collect_schema().names()
    analysis.compact(run)
    cached = analysis.load(run)
    assert cached.cached and cached.frame("role_cards").collect().equals(cards)
    with pytest.raises(AnalysisError, match="no frame 'nope' was loaded"):
        data.frame("nope")
    monkeypatch.delitem(registry._registered["analysis"], "spy_cards")
    assert not analysis.load(run).cached  # other plug-ins, another layout: rebuilt
    assert "role_cards" not in analysis.load(run).extra


def test_plug_ins_that_contradict_each_other_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = play(fifth_game.NAME, tmp_path, range(1))
    with_plugin(
        monkeypatch, "typed", replace(fifth_game.ANALYSIS, event_columns={"text": pl.Int64()})
    )
    with pytest.raises(AnalysisError, match="event field 'text'"):
        analysis.load(run)
    monkeypatch.delitem(registry._registered["analysis"], "typed")
    with_plugin(monkeypatch, "spy_variant", fifth_game.ANALYSIS)  # one plug-in, two games
    assert list(groups()).count("spy") == 1
    other = replace(fifth_game.ANALYSIS, groups={"spy": lambda data, by: []})
    with_plugin(monkeypatch, "twice", other)  # another group named 'spy'
    with pytest.raises(AnalysisError, match="metric group 'spy' of"):
        groups()
    monkeypatch.delitem(registry._registered["analysis"], "twice")
    with_plugin(monkeypatch, "misplaced", replace(fifth_game.ANALYSIS, groups={}, before="x"))
    with pytest.raises(AnalysisError, match="no generic group"):
        groups()
