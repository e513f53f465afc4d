"""The summary of ``traitors run``: the rounds played, with the round the game ended in when
that is a later one, agree with the rounds of the eliminations beside them."""

from __future__ import annotations

import re

import pytest
from conftest import TRAITORS_YAML

from traitors.cli import _rounds, main
from traitors.game.events import EliminationEvent
from traitors.store.log import iter_events, read_episode

SIX = ["--set", "rules.n_players=6", "--set", "rules.n_traitors=2"]
LINE = re.compile(
    r"^\s+(\w+)\s+seed (\d+): (\w+) after (\d+) rounds?(?: \(game over in round (\d+)\))?"
)


def test_rounds_agree_with_the_eliminations(tmp_path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    out = tmp_path / "run"
    argv = ["run", str(TRAITORS_YAML), "--agents", "scripted", "--episodes", "3", *SIX]
    assert main([*argv, "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert not re.search(r"\b1 rounds\b", said)
    lines = [m for m in map(LINE.match, said.splitlines()) if m]
    assert len(lines) == 3
    ended_later = 0
    for episode_id, _, winner, played, over_in in (m.groups() for m in lines):
        manifest = read_episode(out / episode_id).manifest
        assert manifest.outcome is not None and int(played) == manifest.outcome.rounds
        events = list(iter_events(out / episode_id))
        ended = int(over_in or played)
        assert events[-1].round == ended
        assert all(e.round <= ended for e in events if isinstance(e, EliminationEvent))
        ended_later += over_in is not None
        plural = "round" if played == "1" else "rounds"
        assert f"{winner} after {played} {plural}" in said
    assert ended_later  # seed 0 ends at the opening of round 2, after 1 round played


@pytest.mark.parametrize(
    ("played", "ended", "line", "cell"),
    [
        (1, 1, "1 round", "1"),
        (2, 2, "2 rounds", "2"),
        (2, 3, "2 rounds (game over in round 3)", "2 (over in r3)"),
    ],
)
def test_rounds_text(played, ended, line, cell) -> None:
    assert _rounds(played, ended) == line and _rounds(played, ended, short=True) == cell
