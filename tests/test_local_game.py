"""A real 4-player game with the embedded default model, offline, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from traitors.episode.spec import load_spec
from traitors.game.events import ReasoningEvent, SpeakEvent, VoteEvent
from traitors.store.log import CALLS, read_episode
from traitors.sweep.episodes import run_episodes
from traitors.sweep.replay import replay_episode

pytestmark = pytest.mark.slow  # the embedded model plays a whole game


def test_four_player_game_with_the_embedded_model(traitors_yaml: Path, tmp_path: Path) -> None:
    spec = load_spec(
        traitors_yaml,
        [
            "rules.n_players=4",
            "rules.n_traitors=1",
            "rules.max_rounds=2",
            "agents.default.max_tokens=24",
            "agents.default.memory_events=8",
        ],
    )
    assert spec.agents["default"].model == "local/smollm2-135m"  # the shipped default
    summary = run_episodes(spec, [0], tmp_path)[0]
    events = read_episode(summary.dir).events
    assert events[-1].kind == "game_over"
    calls = [json.loads(x) for x in (summary.dir / CALLS).read_text().splitlines()]
    assert calls and all(c["error"] is None and c["text"] for c in calls)
    assert all(c["model"] == "local/smollm2-135m" and c["cost"] == 0 for c in calls)
    assert [e for e in events if isinstance(e, SpeakEvent)]
    votes = [e for e in events if isinstance(e, VoteEvent) and e.purpose == "banish"]
    assert votes and any(v.target for v in votes)  # constrained decoding gave real votes
    assert [e for e in events if isinstance(e, ReasoningEvent)]
    result = replay_episode(summary.dir)  # served from calls.jsonl: no model call
    assert result.ok, result.divergence
