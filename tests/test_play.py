"""The human seat: a person plays through stdin against scripted agents."""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, TRAITORS_YAML

from agents.human import match_option, parse_beliefs
from traitors.commands.spectate import add_play_parser, run_play
from traitors.game.actions import ActionError
from traitors.game.events import Channel, SpeakEvent
from traitors.store.log import ERROR, MANIFEST, is_complete, iter_events

SETTINGS = ["agents.default.policy=heuristic", "rules.n_players=6", "rules.n_traitors=2"]
FIRST_TURN = ["Hello table, I am one of you.", "zz", "Car", "", "faithful"]
"""Round 1 speech (everyone speaks): text, a wrong accusation then Carol, no defence, a claim."""
ANYTHING = ["1"] * 300
"""Valid at every later question: speech "1", the first target, P(first)=1."""


def play_args(seat: str, out: Path, seed: int = 0) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_play_parser(parser.add_subparsers())
    sets = [item for setting in SETTINGS for item in ("--set", setting)]
    argv = ["play", str(TRAITORS_YAML), "--as", seat, "--seed", str(seed), "--out", str(out)]
    return parser.parse_args(argv + sets)


def play(seat: str, out: Path, lines: list[str], seed: int = 0) -> tuple[int, str]:
    stdout = io.StringIO()
    code = run_play(play_args(seat, out, seed), stdin=io.StringIO("\n".join(lines) + "\n"),
                    stdout=stdout)  # fmt: skip
    return code, stdout.getvalue()


def only_episode(out: Path) -> Path:
    (episode,) = [p for p in out.iterdir() if p.is_dir()]
    return episode


def test_a_human_seat_plays_a_full_game_through_stdin(tmp_path: Path) -> None:
    code, shown = play("Alice", tmp_path, FIRST_TURN + ANYTHING)
    assert code == 0, shown
    episode = only_episode(tmp_path)
    manifest = json.loads((episode / MANIFEST).read_text())
    assert manifest["status"] == "complete" and manifest["agents"]["Alice"]["policy"] == "human"
    speech = next(
        e for e in iter_events(episode) if isinstance(e, SpeakEvent) and e.actor == "Alice"
    )
    assert speech.text == FIRST_TURN[0]
    claims = [c.model_dump() for c in speech.claims]
    assert claims == [
        {"kind": "accuse", "target": "Carol"},
        {"kind": "claim_role", "role": "faithful"},
    ]
    assert "not valid: 'zz' is not one of" in shown  # explained, then asked again
    assert "vote for: 1 " in shown and "game over:" in shown
    if manifest["roles"]["Alice"] == "faithful":
        assert "[traitors]" not in shown
        assert all("Alice believes" in line for line in shown.splitlines() if "believes" in line)


def test_a_human_traitor_talks_in_the_traitors_channel(tmp_path: Path) -> None:
    seed = 14  # Alice is a traitor and lives through two nights with these answers
    assert traitor_at(seed, "Alice")
    code, shown = play("Alice", tmp_path, FIRST_TURN + ANYTHING, seed)
    assert code == 0, shown
    events = list(iter_events(only_episode(tmp_path)))
    night = [e for e in events if isinstance(e, SpeakEvent) and isinstance(e.visibility, Channel)]
    assert [e.text for e in night if e.actor == "Alice"] == ["1", "1"]
    assert "[traitors] Alice: 1" in shown and "Alice is traitor (allies:" in shown
    assert "vote for: 1 " in shown  # the murder vote among the faithful


def traitor_at(seed: int, seat: str) -> bool:
    from traitors.episode.spec import load_spec
    from traitors.game.seeds import derive_rng

    spec = load_spec(TRAITORS_YAML, SETTINGS)
    rules = spec.build_rules()
    state = rules.initial_state(spec.seats(rules.seat_count()), derive_rng(seed, "rules"))
    return bool(state.roles[seat] == "traitor")


def test_input_that_ends_early_leaves_an_unfinished_episode(tmp_path: Path) -> None:
    code, shown = play("Alice", tmp_path, FIRST_TURN[:2])
    assert code == 1 and "input ended before the game did" in shown
    episode = only_episode(tmp_path)
    manifest = json.loads((episode / MANIFEST).read_text())
    assert manifest["status"] == "failed" and "EOFError" in manifest["status_reason"]
    assert (episode / ERROR).exists() and not is_complete(episode)


def test_an_unknown_seat_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert play("Zed", tmp_path, [])[0] == 2
    assert "unknown player 'Zed'" in capsys.readouterr().err


def test_stdin_can_be_a_pipe(tmp_path: Path) -> None:
    args = f"spec={str(TRAITORS_YAML)!r}, as_player='Bob', seed=0, out=Path({str(tmp_path)!r})"
    code = (
        "import sys; from argparse import Namespace; from pathlib import Path; "
        "from traitors.commands.spectate import run_play; "
        f"sys.exit(run_play(Namespace({args}, overrides={SETTINGS!r})))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        input="\n".join(FIRST_TURN + ANYTHING) + "\n",
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "game over:" in result.stdout and "Your turn, Bob" in result.stdout


def test_answers_name_options_by_number_name_or_prefix() -> None:
    options = ("Alice", "Albert", "Bob")
    assert match_option("3", options) == "Bob"
    assert match_option("alice", options) == "Alice" and match_option("Alb", options) == "Albert"
    for bad in ("Al", "Zed", "", "4"):
        with pytest.raises(ActionError):
            match_option(bad, options)
    assert parse_beliefs("Bob=0.9, alb=0.1", options) == {"Bob": 0.9, "Albert": 0.1}
    assert parse_beliefs("0.2 0.3", options) == {"Alice": 0.2, "Albert": 0.3}
    assert parse_beliefs("", options) == {}
    for bad in ("Bob=x", "0.1 Bob=0.2", "1 2 3 4"):
        with pytest.raises(ActionError):
            parse_beliefs(bad, options)


def test_a_human_game_replays_and_forks_without_the_person(tmp_path: Path) -> None:
    from traitors.cli import main
    from traitors.store.log import load_manifest
    from traitors.sweep.replay import replay_episode

    code, shown = play("Alice", tmp_path / "played", FIRST_TURN + ANYTHING)
    assert code == 0, shown
    episode = only_episode(tmp_path / "played")
    assert replay_episode(episode).ok  # Alice's answers come from the log
    speech = next(
        e for e in iter_events(episode) if isinstance(e, SpeakEvent) and e.actor == "Alice"
    )
    out = tmp_path / "forks"
    assert main(["fork", str(episode), "--drop", str(speech.seq), "--samples", "1",
                 "--out", str(out)]) == 0  # fmt: skip
    forks = [p for p in out.iterdir() if (p / MANIFEST).is_file()]
    assert len(forks) == 2
    for fork in forks:
        record = load_manifest(fork).fork
        assert record is not None and record.agents == ("agents.Alice.policy=heuristic",)
        assert load_manifest(fork).status == "complete"
        assert replay_episode(fork).ok
