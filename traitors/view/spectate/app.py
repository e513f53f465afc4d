"""The interactive watch view (Textual): pause, step, jump, scroll, switch eyes, read calls.

One app serves ``traitors watch`` (an episode, or a run's episodes to pick from),
``traitors run --live`` (the run's newest episode, followed) and ``traitors play`` (one seat's
eyes only, and a line to answer in). Every view is folded by ``Timeline`` from what
``visible_to`` lets the viewer see.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import ClassVar

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.timer import Timer
from textual.widgets import Footer, Static

from traitors.game.board import Board, UnknownPlayer
from traitors.game.events import ReasoningEvent
from traitors.store.log import LogError
from traitors.store.shards import resolve_episode
from traitors.util.text import printable
from traitors.view.spectate.feed import EpisodeFeed
from traitors.view.spectate.panels import (
    colours,
    header,
    heatmap_panel,
    meter_panel,
    notes_panel,
    players_panel,
    tally_panel,
    transcript_text,
)
from traitors.view.spectate.runs import EpisodeRow, NoSuchEpisode, choose, list_episodes
from traitors.view.spectate.screens import GOD, CallScreen, EpisodesScreen, call_picker, view_picker
from traitors.view.spectate.timeline import Timeline

DEFAULT_SPEED = 10.0
"""Events per second when playing."""
SPEEDS = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)
POLL_SECONDS = 0.25
"""Pause between reads of an episode being written."""
LISTED = 1000
"""Episodes the episode list shows at most (the most recently written)."""
NEWEST_POLL_SECONDS = 2.0
"""Pause between looks for a newer episode of the run, when following the newest."""


class Transcript(VerticalScroll, can_focus=False):
    """The transcript's scroll area; the app's keys scroll it (arrows step the game)."""


class WatchApp(App[None]):
    """Watch one episode; with ``run_dir``, pick among the run's episodes too."""

    TITLE = "traitors watch"
    CSS = """
    #header { height: 1; }
    #body { height: 1fr; }
    #transcript { width: 1fr; border: round $secondary; }
    #side { width: 40; }
    #players, #notes, #tally { height: auto; }
    #bottom { height: auto; max-height: 45%; }
    #beliefs { width: 1fr; height: auto; }
    #calls { width: 1fr; height: auto; }
    #status { height: 1; background: $boost; }
    """
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_pause", "play"),
        Binding("right", "step(1)", "step", key_display="→"),
        Binding("left", "step(-1)", "back", key_display="←"),
        Binding("full_stop", "phase(1)", "phase▸"),
        Binding("comma", "phase(-1)", "◂phase"),
        Binding("right_square_bracket", "round(1)", "round▸"),
        Binding("left_square_bracket", "round(-1)", "◂round"),
        Binding("home", "start", "start", show=False),
        Binding("end", "end", "end", show=False),
        Binding("plus,equals_sign", "speed(1)", "faster", key_display="+"),
        Binding("minus", "speed(-1)", "slower"),
        Binding("up", "scroll(-1)", "scroll", show=False),
        Binding("down", "scroll(1)", "scroll", show=False),
        Binding("pageup", "scroll(-20)", "page up", show=False),
        Binding("pagedown", "scroll(20)", "page down", show=False),
        Binding("v", "pick_view", "view"),
        Binding("r", "toggle_reasoning", "reasoning"),
        Binding("c", "toggle_calls", "calls"),
        Binding("o", "open_call", "read call"),
        Binding("e", "episodes", "episodes"),
        Binding("f", "follow_newest", "newest"),
        Binding("q", "quit", "quit"),
    ]

    def __init__(
        self,
        directory: Path | None = None,
        *,
        run_dir: Path | None = None,
        viewer: str | None = None,
        views: Sequence[str] | None = None,
        speed: float | None = DEFAULT_SPEED,
        follow_newest: bool = False,
        poll: float = POLL_SECONDS,
    ) -> None:
        """Watch ``directory`` as ``viewer`` (None: god). ``views`` limits the views one may
        switch to (``traitors play``: the human's seat only). ``speed`` events per second
        replays a finished episode from its start (None or 0: open it at its end). With
        ``follow_newest``, the run's newest running episode is followed as episodes start."""
        super().__init__()
        self.run_dir = run_dir
        self.views = tuple(views) if views is not None else None
        self.speed = speed or DEFAULT_SPEED
        self.playing = bool(speed)
        self.show_calls = True
        self.follow_newest = follow_newest
        self.poll = poll
        self.problem = ""
        """The last thing that went wrong (a damaged line, an unknown seat), shown in the status."""
        self.feed: EpisodeFeed | None = None
        self.work_done: Callable[[], bool] | None = None
        """Set while a run or game plays beside the view: whether it has ended."""
        self._told_done = False
        self._pinned = True
        self._viewer = viewer
        self._play_timer: Timer | None = None
        self._first = directory

    # --- layout --------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="header")
        with Horizontal(id="body"):
            with Transcript(id="transcript"):
                yield Static(id="lines")
            with Vertical(id="side"):
                yield Static(id="players")
                yield Static(id="notes")
                yield Static(id="tally")
        with Horizontal(id="bottom"):
            yield Static(id="beliefs")
            yield Static(id="calls")
        yield Static(id="status")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#transcript").border_title = "transcript"
        if self._first is not None:
            self.open_episode(self._first, start_playing=self.playing)
        elif self.follow_newest:
            self._to_newest()
        self.set_interval(self.poll, self._read)
        if self.run_dir is not None:
            self.set_interval(NEWEST_POLL_SECONDS, self._to_newest)
        self._play_timer = self.set_interval(1 / self.speed, self._tick, pause=not self.playing)
        self.redraw()

    # --- the episode ---------------------------------------------------------------------

    def open_episode(self, directory: Path, *, start_playing: bool = False) -> None:
        """Show ``directory`` in the current view; a finished episode from its start when
        ``start_playing``, else at the end read so far."""
        self.problem = ""
        feed = EpisodeFeed(directory, self._viewer)
        try:
            feed.read()
        except (LogError, UnknownPlayer) as exc:
            self.problem = printable(str(exc))
        self.feed = feed
        if start_playing and feed.finished:
            feed.timeline.seek(0)
        self.set_playing(start_playing and feed.finished)
        self.redraw()

    def _read(self) -> None:
        if self.work_done is not None and self.work_done() and not self._told_done:
            self._told_done = True
            self.redraw()
        feed = self.feed
        if feed is None or feed.finished or self.problem:
            return
        try:
            changed = feed.read()
        except (LogError, UnknownPlayer) as exc:
            self.problem = printable(str(exc))
            changed = True
        if changed or feed.finished:
            self.redraw()

    def _to_newest(self) -> None:
        """Follow the run's newest running episode (when following), once the one shown has
        ended."""
        if not self.follow_newest or self.run_dir is None:
            return
        if self.feed is not None and not self.feed.finished:
            return
        try:
            row = choose(list_episodes(self.run_dir), None)
        except (FileNotFoundError, NoSuchEpisode):
            return
        if self.feed is None or row.dir != self.feed.directory:
            self.open_episode(row.dir)

    def _tick(self) -> None:
        feed = self.feed
        if feed is None:
            return
        if feed.timeline.at_end:
            if feed.finished:
                self.set_playing(False)
            return
        feed.timeline.step(1)
        self.redraw()

    # --- drawing -------------------------------------------------------------------------

    def redraw(self) -> None:
        """Draw every panel from the timeline at its cursor."""
        feed = self.feed
        if feed is None:
            self.query_one("#status", Static).update(Text(self.problem or "waiting for an episode"))
            return
        timeline = feed.timeline
        board = timeline.board()
        title = feed.directory.name
        self.query_one("#header", Static).update(header(board, title))
        self.query_one("#lines", Static).update(transcript(board, timeline.show_reasoning))
        self.query_one("#players", Static).update(players_panel(board))
        notes = self.query_one("#notes", Static)
        notes.display = bool(board.notes)
        notes.update(notes_panel(board))
        self.query_one("#tally", Static).update(tally_panel(board))
        beliefs = self.query_one("#beliefs", Static)
        beliefs.display = bool(board.beliefs)
        beliefs.update(heatmap_panel(board))
        calls = self.query_one("#calls", Static)
        calls.display = self.show_calls and bool(timeline.calls)
        calls.update(meter_panel(timeline.meter()))
        self.query_one("#status", Static).update(self.status_line())
        if self._pinned:  # the newest line stays in sight, unless scrolled away from
            scroll = self.query_one("#transcript", VerticalScroll)
            self.call_after_refresh(scroll.scroll_end, animate=False)

    def status_line(self) -> Text:
        """Any problem first, then where the cursor is, play state and speed, and the view."""
        assert self.feed is not None
        timeline = self.feed.timeline
        line = Text()
        if self.problem:
            line.append(f" {self.problem} ", style="bold white on red")
        if self.feed.failed:
            line.append(" the episode failed (error.txt) ", style="bold white on red")
        shown, total = timeline.position
        state = "playing" if self.playing else "paused"
        live = "ended" if self.feed.finished else "being written"
        view = f"as {timeline.viewer}" if timeline.viewer else "god view"
        line.append(f" event {shown}/{total} · {state} {self.speed:g}/s · {view} · episode {live}")
        if not timeline.show_reasoning:
            line.append(" · reasoning hidden")
        if self.work_done is not None and self.work_done():
            line.append(" · run finished: q quits", style="bold green")
        return line

    # --- keys ----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide the keys that do nothing here (no run to pick from, one view only)."""
        if action in ("episodes", "follow_newest"):
            return self.run_dir is not None
        if action == "pick_view":
            return self.views is None or len(self.views) > 1
        return True

    def set_playing(self, playing: bool) -> None:
        """Start or stop playing forward at ``speed`` events per second."""
        self.playing = playing
        if self._play_timer is not None:
            if playing:
                self._play_timer.resume()
            else:
                self._play_timer.pause()

    def _move(self, move: Callable[[], None]) -> None:
        if self.feed is not None:
            self.set_playing(False)
            move()
            self._pinned = True
            self.redraw()

    def action_toggle_pause(self) -> None:
        if self.feed is not None and self.feed.timeline.at_end and not self.playing:
            return  # nothing left to play
        self.set_playing(not self.playing)
        self.redraw()

    def action_step(self, steps: int) -> None:
        self._move(lambda: self._timeline().step(steps))

    def action_phase(self, direction: int) -> None:
        self._move(lambda: self._timeline().jump_phase(direction))

    def action_round(self, direction: int) -> None:
        self._move(lambda: self._timeline().jump_round(direction))

    def action_start(self) -> None:
        self._move(lambda: self._timeline().seek(0))

    def action_end(self) -> None:
        self._move(lambda: self._timeline().seek(self._timeline().end))

    def action_speed(self, direction: int) -> None:
        faster = [s for s in SPEEDS if s > self.speed]
        slower = [s for s in SPEEDS if s < self.speed]
        if direction > 0 and faster:
            self.speed = faster[0]
        elif direction < 0 and slower:
            self.speed = slower[-1]
        if self._play_timer is not None:
            self._play_timer.stop()
        self._play_timer = self.set_interval(1 / self.speed, self._tick, pause=not self.playing)
        self.redraw()

    def action_scroll(self, lines: int) -> None:
        scroll = self.query_one("#transcript", VerticalScroll)
        scroll.scroll_relative(y=lines, animate=False)
        self._pinned = scroll.scroll_target_y >= scroll.max_scroll_y

    def action_toggle_reasoning(self) -> None:
        if self.feed is not None:
            self._timeline().show_reasoning = not self._timeline().show_reasoning
            self.redraw()

    def action_toggle_calls(self) -> None:
        self.show_calls = not self.show_calls
        self.redraw()

    def action_pick_view(self) -> None:
        if self.feed is not None:
            self.push_screen(view_picker(self._timeline().seats, self.views), self._set_view)

    def _set_view(self, choice: str | None) -> None:
        if choice is None or self.feed is None:
            return
        viewer = None if choice == GOD else choice
        if self.views is not None and choice not in self.views:
            return
        self._viewer = viewer
        self._timeline().viewer = viewer
        self.redraw()

    def action_open_call(self) -> None:
        if self.feed is None:
            return
        records = self._timeline().calls_so_far()
        if not records:
            self.notify("no model call so far in this view")
            return

        def opened(choice: str | None) -> None:
            if choice is not None:
                self.push_screen(CallScreen(records[int(choice)]))

        self.push_screen(call_picker(records), opened)

    def action_episodes(self) -> None:
        if self.run_dir is not None:  # the key is shown only with a run directory
            self.push_screen(EpisodesScreen(self._listing), self._pick)

    def _listing(self) -> tuple[str, list[EpisodeRow]]:
        """The run's episodes, most recently written first (at most ``LISTED``)."""
        assert self.run_dir is not None
        try:
            rows = list_episodes(self.run_dir)
        except FileNotFoundError as exc:
            return str(exc), []
        newest = sorted(rows, key=lambda row: row.modified, reverse=True)[:LISTED]
        shown = f"the {len(newest)} most recently written of " if len(newest) < len(rows) else ""
        return f"{self.run_dir}: {shown}{len(rows)} episode(s)", newest

    def _pick(self, episode_id: str | None) -> None:
        if episode_id is not None:
            self.follow_newest = False
            self._open_row(episode_id)

    def action_follow_newest(self) -> None:
        self.follow_newest = True
        self._open_row(None)

    def _open_row(self, episode_id: str | None) -> None:
        """Open the run's episode ``episode_id`` (None: the newest running one), from its
        shard if it is packed."""
        if self.run_dir is None:
            return
        try:
            row = choose(list_episodes(self.run_dir), episode_id)
            directory = resolve_episode(self.run_dir, row.episode_id)
        except (FileNotFoundError, NoSuchEpisode, LogError) as exc:
            self.notify(printable(str(exc)), severity="error", markup=False)
            return
        self.open_episode(directory)

    def _timeline(self) -> Timeline:
        assert self.feed is not None
        return self.feed.timeline


def transcript(board: Board, reasoning: bool = True) -> RenderableType:
    """Every transcript line of the board (round and phase, then the text); private
    reasoning only with ``reasoning``."""
    lines = [e for e in board.transcript if reasoning or not isinstance(e, ReasoningEvent)]
    if not lines:
        return Text("waiting for events...", style="dim")
    palette = colours(board)
    table = Table.grid(padding=(0, 1))
    table.add_column(style="dim", no_wrap=True)
    table.add_column()
    for event in lines:
        table.add_row(f"r{event.round} {event.phase}", transcript_text(board, event, palette))
    return table
