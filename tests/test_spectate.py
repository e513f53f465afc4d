"""Watching episodes: god and player views, following a log being written, run directories,
the piped fallback and the live observer of ``traitors run --live``."""

from __future__ import annotations

import argparse
import io
import json
import threading
import time
from pathlib import Path

import pytest
from conftest import TRAITORS_YAML
from rich.console import Console

from agents.scripted import HeuristicPolicy
from scenarios.the_traitors import WORDS
from traitors.commands.spectate import add_watch_parser, live_observer, run_watch
from traitors.episode.policy import Decision
from traitors.episode.spec import load_spec
from traitors.game.events import ReasoningEvent, SpeakEvent, VoteResultEvent, player_view
from traitors.game.lines import format_line
from traitors.game.registry import register_policy
from traitors.store.calls import CallRecord, Usage
from traitors.store.log import CALLS, EVENTS, MANIFEST, iter_events, read_episode
from traitors.sweep.episodes import run_episodes
from traitors.view.spectate.panels import transcript_panel
from traitors.view.spectate.runs import choose, episode_line, list_episodes
from traitors.view.spectate.view import Spectator
from traitors.view.spectate.watch import watch_episode

SECRET = "secret reasoning of"


class ThinkingPolicy:
    """The heuristic policy, plus private reasoning and one logged model call per decision."""

    def __init__(self, context) -> None:
        self.inner = HeuristicPolicy.create(context)
        self.seat = context.seat
        self.calls = context.services.calls

    @classmethod
    def create(cls, context):
        return cls(context)

    async def decide(self, observation, request):
        decision = await self.inner.decide(observation, request)
        index = self.calls.next_index(self.seat)
        self.calls.add(
            CallRecord(
                agent=self.seat,
                index=index,
                key=f"{self.seat}-{index}",
                model="fake/none",
                messages=[],
                params={},
                text="{}",
                error=None,
                usage=Usage(prompt_tokens=100, completion_tokens=10),
                cost=0.001,
                latency_s=0.5,
                attempts=1,
                started_at=0.0,
            )
        )
        return Decision(decision.action, reasoning=f"{SECRET} {self.seat}")


def spec_with(policy: str):
    return load_spec(TRAITORS_YAML, [f"agents.default.policy={policy}", "rules.n_players=7",
                                     "rules.n_traitors=2"])  # fmt: skip


@pytest.fixture(scope="module")
def episode(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished 7-player episode with reasoning, beliefs, a conclave and model calls."""
    register_policy("spectate-thinking", ThinkingPolicy)
    out = tmp_path_factory.mktemp("run")
    (summary,) = run_episodes(spec_with("spectate-thinking"), [1], out)
    return summary.dir


def view_at(episode: Path, viewer: str | None, last_seq: int) -> Spectator:
    """The spectator of ``viewer`` after the episode's event ``last_seq``."""
    spectator = Spectator(WORDS, viewer, episode.name)
    spectator.add_calls(map(json.loads, (episode / CALLS).read_text().splitlines()))
    for event in spectator.visible([e for e in iter_events(episode) if e.seq <= last_seq]):
        spectator.board.update(event)
    return spectator


def first_night(episode: Path) -> int:
    """The seq of the first murder vote's result."""
    return next(e.seq for e in iter_events(episode) if isinstance(e, VoteResultEvent)
                and e.purpose == "murder")  # fmt: skip


def record(renderable: object) -> str:
    console = Console(record=True, width=100, height=45, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def watch_args(path: Path, *extra: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_watch_parser(parser.add_subparsers())
    return parser.parse_args(["watch", str(path), *extra])


def plain_console() -> Console:
    return Console(file=io.StringIO(), width=100)


def output(console: Console) -> list[str]:
    assert isinstance(console.file, io.StringIO)
    return console.file.getvalue().splitlines()


def roles(directory: Path) -> dict[str, str]:
    return dict(read_episode(directory).manifest.roles)


def test_god_view_shows_true_roles_the_traitors_channel_and_the_meter(episode: Path) -> None:
    spectator = view_at(episode, None, first_night(episode))
    text = record(spectator.render())
    assert "players (true roles)" in text and "god view" in text
    for name, role in roles(episode).items():
        assert spectator.board.seats[name].role == role
        assert any(line.count(name) and role in line for line in text.splitlines())
    assert "[traitors]" in text  # the conclave and murder votes are shown
    assert "LLM calls" in text and "calls " in text
    assert "murder vote r1" in text and "suspicion" in text
    assert spectator.meter.calls == len((episode / CALLS).read_text().splitlines()) > 0
    assert set(spectator.board.beliefs) == set(roles(episode))  # every believer in the heatmap
    everything = record(transcript_panel(Spectator.of_episode(episode).board))
    assert SECRET in everything and "[private]" in everything


def test_player_view_of_a_faithful_hides_roles_channel_and_others_secrets(
    episode: Path,
) -> None:
    faithful = next(name for name, role in roles(episode).items() if role == "faithful")
    spectator = Spectator.of_episode(episode, faithful)
    board = spectator.board
    for name, seat in board.seats.items():
        if name != faithful:
            assert seat.role is None or seat.revealed, f"{name}'s role leaked"
    assert set(board.beliefs) == {faithful}
    text = record(view_at(episode, faithful, first_night(episode)).render())
    text += record(transcript_panel(board))
    assert f"as {faithful} (faithful)" in text
    assert "[traitors]" not in text and "true roles" not in text and "votes murder" not in text
    assert f"{SECRET} {faithful}" in text  # their own reasoning
    events = list(iter_events(episode))
    seen = player_view(events, faithful)
    assert board.transcript == [e for e in board.transcript if e in seen]
    hidden_speech = {e.text for e in events if isinstance(e, SpeakEvent) and e not in seen}
    assert hidden_speech and not any(speech in text for speech in hidden_speech)
    others = {e.text for e in events if isinstance(e, ReasoningEvent) and e.actor != faithful}
    assert not any(thought in text for thought in others)
    own_calls = [c for c in map(json.loads, (episode / CALLS).read_text().splitlines())
                 if c["agent"] == faithful]  # fmt: skip
    assert spectator.meter.calls == len(own_calls) > 0
    assert f"LLM calls of {faithful}" in text


def test_piped_watch_prints_plain_lines(episode: Path) -> None:
    console = plain_console()
    assert run_watch(watch_args(episode), console=console) == 0
    expected = [
        line
        for line in map(lambda e: format_line(e, WORDS), iter_events(episode))
        if line is not None
    ]
    assert output(console) == expected
    assert not any("╭" in line for line in output(console))


def test_piped_player_view_prints_only_what_the_player_saw(episode: Path) -> None:
    faithful = next(name for name, role in roles(episode).items() if role == "faithful")
    console = plain_console()
    assert run_watch(watch_args(episode, "--as", faithful), console=console) == 0
    seen = player_view(iter_events(episode), faithful)
    assert output(console) == [
        line for line in map(lambda e: format_line(e, WORDS), seen) if line is not None
    ]
    assert not any("[traitors]" in line or (SECRET in line and faithful not in line)
                   for line in output(console))  # fmt: skip


def test_unknown_player_exits_2(episode: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_watch(watch_args(episode, "--as", "Zed"), console=plain_console()) == 2
    assert "unknown player 'Zed'" in capsys.readouterr().err


def test_live_layout_in_a_terminal_replays_to_the_end(episode: Path) -> None:
    console = Console(record=True, force_terminal=True, width=100, height=40, file=io.StringIO())
    assert run_watch(watch_args(episode, "--speed", "0", "--plain"), console=console) == 0
    text = console.export_text()
    assert "transcript" in text and "GAME OVER" in text and "suspicion" in text


def test_follow_picks_up_lines_appended_while_watching(episode: Path, tmp_path: Path) -> None:
    lines = (episode / EVENTS).read_bytes().splitlines(keepends=True)
    live = tmp_path / "live"
    live.mkdir()
    final = json.loads((episode / MANIFEST).read_text())
    (live / MANIFEST).write_text(json.dumps({**final, "status": "running", "outcome": None}))
    (live / EVENTS).write_bytes(b"".join(lines[:5]))

    def write_the_rest() -> None:
        with open(live / EVENTS, "ab") as f:
            for i, line in enumerate(lines[5:]):
                if i % 20 == 0:  # a half-written line must wait for its end
                    f.write(line[:10])
                    f.flush()
                    time.sleep(0.02)
                    line = line[10:]
                f.write(line)
                f.flush()
                if i % 10 == 0:
                    time.sleep(0.01)
        (live / MANIFEST).write_text((episode / MANIFEST).read_text())

    writer = threading.Thread(target=write_the_rest)
    console = plain_console()
    started = time.monotonic()
    writer.start()
    watch_episode(live, console, follow=True, poll=0.01, timeout=10)
    writer.join(timeout=10)
    assert time.monotonic() - started < 9  # stopped because the final manifest appeared
    expected = [
        line
        for line in map(lambda e: format_line(e, WORDS), iter_events(episode))
        if line is not None
    ]
    assert output(console) == expected


def test_run_directory_lists_episodes_and_picks_the_running_one(
    episode: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    done = run / episode.name
    done.mkdir(parents=True)
    for name in (EVENTS, CALLS, MANIFEST):
        (done / name).write_bytes((episode / name).read_bytes())
    running = run / "feedc0ffee000000"
    running.mkdir()
    (running / EVENTS).write_bytes(b"".join((episode / EVENTS).read_bytes().splitlines(True)[:30]))
    (run / "sweep.json").write_text(
        json.dumps({"episodes": {"abc0000000000000": {"status": "pending"}}})
    )
    rows = {row.episode_id: row for row in list_episodes(run)}
    assert rows[episode.name].status == "complete" and rows[episode.name].winner
    assert rows["feedc0ffee000000"].status == "running" and rows["feedc0ffee000000"].rounds
    assert rows["abc0000000000000"].status == "pending"
    assert choose(list(rows.values()), None).episode_id == "feedc0ffee000000"
    assert choose(list(rows.values()), episode.name[:6]).episode_id == episode.name
    console = plain_console()
    assert run_watch(watch_args(run, "--episode", episode.name[:6]), console=console) == 0
    lines = output(console)
    assert episode_line(rows[episode.name]) in lines
    assert f"watching {episode.name} (complete)" in lines and "GAME OVER" in lines[-1]
    assert run_watch(watch_args(run, "--episode", "nope"), console=plain_console()) == 2


def test_live_observer_shows_the_running_episode(tmp_path: Path) -> None:
    plain = plain_console()
    spec = spec_with("heuristic")
    (summary,) = run_episodes(
        spec, [2], tmp_path / "a", observers=[live_observer(WORDS, None, plain)]
    )
    expected = [
        line
        for line in map(lambda e: format_line(e, WORDS), iter_events(summary.dir))
        if line is not None
    ]
    assert output(plain) == expected
    terminal = Console(record=True, force_terminal=True, width=100, height=40, file=io.StringIO())
    out = tmp_path / "b"
    with live_observer(WORDS, out, terminal) as observer:
        run_episodes(spec, [2], out, observers=[observer])
    text = terminal.export_text()
    assert "players (true roles)" in text and "GAME OVER" in text
