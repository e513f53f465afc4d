"""The interactive watch view, driven headless by Textual's pilot: keys pressed, screen read."""

from __future__ import annotations

import asyncio
import io
import json
import shutil
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from conftest import TRAITORS_YAML
from rich.console import Console
from test_spectate import SECRET, ThinkingPolicy, roles, watch_args
from textual.widgets import Input

from agents.scripted import HeuristicPolicy
from traitors.commands.play import play, with_human
from traitors.commands.play_app import AppSeat, PlayApp
from traitors.commands.spectate import live_app, run_watch
from traitors.episode.policy import Decision
from traitors.episode.spec import episode_id, load_spec
from traitors.game.events import ReasoningEvent, RoleEvent, SpeakEvent, player_view
from traitors.game.registry import register_policy
from traitors.store.calls import CallRecord, Usage
from traitors.store.log import EVENTS, MANIFEST, iter_events
from traitors.sweep.episodes import run_episodes
from traitors.view.spectate.app import WatchApp
from traitors.view.spectate.background import Background
from traitors.view.spectate.screens import EpisodesScreen

SPEECH = "Hello table, I am one of you."
SIZE = (160, 60)
PROMPT_MARK = "the prompt of call"
REPLY_MARK = "the reply of call"


class PromptedPolicy(ThinkingPolicy):
    """The thinking policy, whose logged calls carry a prompt and a reply to read back."""

    async def decide(self, observation, request):
        decision = await self.inner.decide(observation, request)
        index = self.calls.next_index(self.seat)
        self.calls.add(
            CallRecord(
                agent=self.seat, index=index, key=f"{self.seat}-{index}", model="fake/none",
                messages=[{"role": "user", "content": f"{PROMPT_MARK} {self.seat} {index}"}],
                params={"temperature": 0.5}, text=f"{REPLY_MARK} {self.seat} {index}",
                error=None, usage=Usage(prompt_tokens=100, completion_tokens=10), cost=0.0,
                latency_s=0.5, attempts=1, started_at=0.0,
            )
        )  # fmt: skip
        return Decision(decision.action, reasoning=f"{SECRET} {self.seat}")


def spec(policy: str, *extra: str):
    settings = [f"agents.default.policy={policy}", "rules.n_players=7", "rules.n_traitors=2"]
    return load_spec(TRAITORS_YAML, settings + list(extra))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run of two finished episodes with reasoning, beliefs, a conclave and model calls."""
    register_policy("watch-prompted", PromptedPolicy)
    out = tmp_path_factory.mktemp("run")
    run_episodes(spec("watch-prompted"), [1, 2], out)
    return out


@pytest.fixture(scope="module")
def episode(run_dir: Path) -> Path:
    return min(p for p in run_dir.iterdir() if p.is_dir())


def screen_text(app: WatchApp) -> str:
    """Every character on the screen now (the top screen: a pop-up when one is open)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


def drive(app: WatchApp, script: Callable[..., Awaitable[None]]) -> None:
    """Run ``script(pilot)`` against ``app`` headless."""

    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            await script(pilot)

    asyncio.run(main())


async def look(pilot, app: WatchApp) -> str:
    """The screen once the app has settled (the transcript scrolls after a refresh)."""
    await pilot.pause()
    await pilot.pause()
    return screen_text(app)


async def until(pilot, condition: Callable[[], bool], seconds: float = 20.0) -> None:
    """Let the app run until ``condition`` holds."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.05)


def faithful_and_traitor(episode: Path) -> tuple[str, str]:
    cast = roles(episode)
    return (
        next(n for n, r in cast.items() if r == "faithful"),
        next(n for n, r in cast.items() if r == "traitor"),
    )


@pytest.mark.slow
def test_keys_step_jump_play_and_scroll_through_a_finished_episode(episode: Path) -> None:
    app = WatchApp(episode, speed=None)

    async def script(pilot) -> None:
        timeline = app.feed.timeline
        shown, total = timeline.position
        assert shown == total > 20
        assert f"event {total}/{total} · paused" in screen_text(app)
        assert "GAME OVER" in screen_text(app)
        await pilot.press("left", "left")
        assert f"event {total - 2}/{total}" in screen_text(app)
        await pilot.press("right")
        assert f"event {total - 1}/{total}" in screen_text(app)
        await pilot.press("home")
        assert "event 0/" in screen_text(app) and "waiting for events" in screen_text(app)
        await pilot.press("right_square_bracket")  # to the setup (round 0)
        assert timeline.board().round == 0 and timeline.position[0] == 1
        await pilot.press("right_square_bracket")  # to round 1
        assert timeline.board().round == 1 and "· round 1 ·" in screen_text(app)
        phase = timeline.board().phase
        await pilot.press("full_stop")
        assert timeline.board().round == 1 and timeline.board().phase != phase
        await pilot.press("comma")
        assert timeline.board().phase == phase
        await pilot.press("right_square_bracket", "left_square_bracket")
        assert timeline.board().round == 1
        await pilot.press("plus", "plus")
        assert "paused 50/s" in screen_text(app)
        before = timeline.cursor
        await pilot.press("space")
        assert "playing 50/s" in screen_text(app)
        await until(pilot, lambda: timeline.cursor > before + 3)
        await pilot.press("space")
        stopped = timeline.cursor
        await pilot.pause(0.2)
        assert timeline.cursor == stopped and "paused" in screen_text(app)
        await pilot.press("end", "pageup", "up")
        assert app.query_one("#transcript").scroll_y < app.query_one("#transcript").max_scroll_y

    drive(app, script)


@pytest.mark.slow
def test_switching_to_a_seat_shows_only_what_that_seat_saw(episode: Path) -> None:
    faithful, traitor = faithful_and_traitor(episode)
    events = list(iter_events(episode))
    seen = player_view(events, faithful)
    hidden = [e.text for e in events if isinstance(e, SpeakEvent | ReasoningEvent)
              and e not in seen]  # fmt: skip
    app = WatchApp(episode, speed=None)
    seats = list(roles(episode))

    async def script(pilot) -> None:
        await pilot.press("home", *["right_square_bracket"] * 3)  # round 2: after a night
        god = await look(pilot, app)
        assert "god view" in god and f"{SECRET} {traitor}" in god and "[traitors]" in god
        assert any(traitor in line and "traitor" in line.replace(traitor, "") for line in
                   god.splitlines())  # fmt: skip
        await pilot.press("v")
        assert "whose eyes" in screen_text(app)
        await pilot.press(*["down"] * (seats.index(faithful) + 1), "enter")
        text = await look(pilot, app)
        assert f"as {faithful} (faithful)" in text and "god view" not in text
        assert "[traitors]" not in text and "true roles" not in text
        assert f"{SECRET} {faithful}" in text and f"{SECRET} {traitor}" not in text
        assert not any(line for line in hidden if line in text)
        board = app.feed.timeline.board()
        assert all(e in seen for e in board.transcript)
        assert board.seats[traitor].role is None or board.seats[traitor].revealed
        await pilot.press("end")  # every line the seat saw, none it did not
        text = await look(pilot, app)
        assert "[traitors]" not in text and f"{SECRET} {traitor}" not in text
        await pilot.press("v", "enter")  # back to god
        await pilot.pause()
        assert "god view" in screen_text(app)

    drive(app, script)


@pytest.mark.slow
def test_reasoning_and_calls_toggle_and_a_call_opens(episode: Path) -> None:
    app = WatchApp(episode, speed=None)

    async def script(pilot) -> None:
        assert SECRET in screen_text(app) and "LLM calls" in screen_text(app)
        await pilot.press("r")
        assert SECRET not in screen_text(app) and "reasoning hidden" in screen_text(app)
        await pilot.press("r", "c")
        assert SECRET in screen_text(app) and "LLM calls" not in screen_text(app)
        await pilot.press("c", "o")
        picker = screen_text(app)
        assert "model calls" in picker and "fake/none" in picker
        await pilot.press("enter")  # the newest call
        await pilot.pause()
        call = screen_text(app)
        assert PROMPT_MARK in call and REPLY_MARK in call and "temperature" in call
        await pilot.press("escape")
        await pilot.pause()
        assert "transcript" in screen_text(app)

    drive(app, script)


@pytest.mark.slow
def test_calls_follow_the_cursor_and_a_seat_sees_only_its_own(episode: Path) -> None:
    faithful, _ = faithful_and_traitor(episode)
    app = WatchApp(episode, speed=None)

    async def script(pilot) -> None:
        timeline = app.feed.timeline
        assert len(timeline.calls_so_far()) == len(timeline.calls)
        await pilot.press("home")
        assert timeline.calls_so_far() == []
        await pilot.press(*["right_square_bracket"] * 3)  # round 2
        early = timeline.calls_so_far()
        assert 0 < len(early) < len(timeline.calls)
        timeline.viewer = faithful
        assert {c["agent"] for c in timeline.calls_so_far()} == {faithful}

    drive(app, script)


@pytest.mark.slow
def test_a_run_directory_lists_its_episodes_to_pick_from(run_dir: Path) -> None:
    first, second = sorted(p for p in run_dir.iterdir() if p.is_dir())
    app = WatchApp(second, run_dir=run_dir, speed=None)

    async def script(pilot) -> None:
        assert second.name in screen_text(app)
        await pilot.press("e")
        listing = screen_text(app)
        assert first.name in listing and second.name in listing and "complete" in listing
        rows = listing.splitlines()
        row = next(i for i, line in enumerate(rows) if first.name in line)
        other = next(i for i, line in enumerate(rows) if second.name in line)
        await pilot.press(*(["down"] if row > other else []), "enter")
        await pilot.pause()
        assert app.feed.directory == first and first.name in screen_text(app)
        app._to_newest()  # a picked episode stays, though it has ended
        assert app.feed.directory == first
        await pilot.press("f")  # the newest again
        assert app.feed.directory == second and second.name in screen_text(app)

    drive(app, script)


def test_an_episode_being_written_is_followed_and_a_damaged_line_named(
    episode: Path, tmp_path: Path
) -> None:
    copy = tmp_path / episode.name
    copy.mkdir()
    lines = (episode / EVENTS).read_bytes().splitlines(keepends=True)
    (copy / EVENTS).write_bytes(b"".join(lines[:10]))
    manifest = (episode / MANIFEST).read_text()
    (copy / MANIFEST).write_text(manifest.replace('"complete"', '"running"', 1))
    app = WatchApp(copy, speed=None, poll=0.05)

    async def script(pilot) -> None:
        assert "being written" in screen_text(app)
        first = app.feed.timeline.position[1]
        with open(copy / EVENTS, "ab") as f:
            f.write(b"".join(lines[10:40]))
        await until(pilot, lambda: app.feed.timeline.position[1] > first)
        assert app.feed.timeline.at_end  # the cursor follows the end
        with open(copy / EVENTS, "ab") as f:
            f.write(b'{"kind": "speak", "broken\n')
        await until(pilot, lambda: bool(app.problem))
        assert "line 41" in screen_text(app)

    drive(app, script)


@pytest.mark.slow
def test_run_live_follows_the_newest_episode_while_the_run_goes_on(tmp_path: Path) -> None:
    register_policy("watch-slow", SlowPolicy)
    out = tmp_path / "live"
    app = live_app(out)
    app.poll = 0.05
    run = Background(lambda: run_episodes(spec("watch-slow"), [1, 2], out))
    app.work_done = lambda: run.done

    async def script(pilot) -> None:
        run.thread.start()
        await until(pilot, lambda: app.feed is not None)
        await until(pilot, lambda: run.done, 60)
        await until(pilot, lambda: app.feed.finished and len(list(out.iterdir())) == 2)
        newest = max((p for p in out.iterdir()), key=lambda p: (p / EVENTS).stat().st_mtime)
        await until(pilot, lambda: app.feed.directory == newest, 10)
        await until(pilot, lambda: "run finished" in screen_text(app))
        assert "GAME OVER" in screen_text(app)

    drive(app, script)
    assert len(run.result()) == 2


class SlowPolicy(HeuristicPolicy):
    """The heuristic, a little slower, so the view sees the episode being written."""

    async def decide(self, observation, request):
        await asyncio.sleep(0.002)
        return await super().decide(observation, request)


@pytest.mark.slow
def test_play_in_the_view_answers_typed_questions_and_shows_only_the_seat(
    tmp_path: Path,
) -> None:
    seat = "Alice"
    played = with_human(spec("heuristic", "rules.n_players=6"), seat)
    app = PlayApp(tmp_path / episode_id(played, 0), seat)
    game = Background(lambda: asyncio.run(play(played, 0, tmp_path, AppSeat(app))))
    answered: list[str] = []

    async def script(pilot) -> None:
        game.thread.start()
        answer = app.query_one("#answer", Input)
        while True:
            await until(pilot, lambda: not answer.disabled or game.done, 60)
            if game.done:
                break
            if answered:
                await pilot.press("1", "enter")  # typed: valid at every later question
                answered.append("1")
            else:
                answer.value = SPEECH
                await pilot.press("enter")
                answered.append(SPEECH)
            await pilot.pause()
        await until(pilot, lambda: app.feed.finished)
        text = screen_text(app)
        assert "GAME OVER" in text and f"as {seat}" in text
        await pilot.press("v")  # one view only: no picker opens
        assert "whose eyes" not in screen_text(app)
        board = app.feed.timeline.board()
        events = list(iter_events(app.feed.directory))
        seen = player_view(events, seat)
        assert all(e in seen for e in board.transcript)
        unseen = [e for e in events if isinstance(e, RoleEvent) and e not in seen]
        assert unseen and all(board.seats[e.player].role in (None, e.role) for e in unseen)
        for event in unseen:
            if board.seats[event.player].role is None:
                assert f"{event.player} is {event.role}" not in text

    drive(app, script)
    result = game.result()
    assert result.manifest.status == "complete" and len(answered) > 3
    directory = tmp_path / result.episode_id
    speech = next(e for e in iter_events(directory) if isinstance(e, SpeakEvent)
                  and e.actor == seat)  # fmt: skip
    assert speech.text == SPEECH


def test_quitting_the_play_view_ends_the_game_as_input_ended(tmp_path: Path) -> None:
    played = with_human(spec("heuristic", "rules.n_players=6"), "Bob")
    app = PlayApp(tmp_path / episode_id(played, 0), "Bob")
    game = Background(lambda: asyncio.run(play(played, 0, tmp_path, AppSeat(app))))

    async def script(pilot) -> None:
        game.thread.start()
        await until(pilot, lambda: not app.query_one("#answer", Input).disabled, 60)
        await pilot.press("ctrl+q")

    drive(app, script)
    with pytest.raises(EOFError):
        game.result()


def test_watch_in_a_terminal_opens_the_view_and_plain_keeps_lines(
    run_dir: Path, episode: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    opened: list[WatchApp] = []
    monkeypatch.setattr(WatchApp, "run", lambda self: opened.append(self))
    terminal = Console(file=io.StringIO(), force_terminal=True, width=120)
    faithful, _ = faithful_and_traitor(episode)
    assert run_watch(watch_args(run_dir, "--as", faithful), console=terminal) == 0
    (app,) = opened
    assert app.run_dir == run_dir and app.follow_newest and app._viewer == faithful
    assert run_watch(watch_args(episode, "--as", "Zed"), console=terminal) == 2
    assert "unknown player 'Zed'" in capsys.readouterr().err and len(opened) == 1
    plain = Console(file=io.StringIO(), force_terminal=True, width=120)
    assert run_watch(watch_args(episode, "--plain", "--speed", "0"), console=plain) == 0
    assert len(opened) == 1 and "GAME OVER" in plain.file.getvalue()


def test_the_episode_list_shows_factors_and_stays_up_to_date(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = sorted(p for p in run_dir.iterdir() if p.is_dir())
    run = tmp_path / "sweep"
    shutil.copytree(first, run / first.name)
    factors = {"model": "fake/x", "n_players": 7}
    entries = {e.name: {"status": "done", "factors": factors} for e in (first, second)}
    (run / "sweep.json").write_text(json.dumps({"episodes": entries}))
    monkeypatch.setattr(EpisodesScreen, "REFRESH_SECONDS", 0.05)
    app = WatchApp(run / first.name, run_dir=run, speed=None)

    async def script(pilot) -> None:
        await pilot.press("e")
        listing = await look(pilot, app)
        assert "model=fake/x, n_players=7" in listing and "complete" in listing
        assert "1 running" not in listing and second.name in listing  # not started yet
        partial = run / second.name
        partial.mkdir()
        lines = (second / EVENTS).read_bytes().splitlines(keepends=True)
        (partial / EVENTS).write_bytes(b"".join(lines[:20]))
        await until(pilot, lambda: "running" in screen_text(app))

    drive(app, script)
