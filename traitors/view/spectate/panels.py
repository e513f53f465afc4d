"""Rich panels of a spectator's view: transcript, players, vote tally, beliefs, LLM meter."""

from __future__ import annotations

import re
from collections.abc import Iterable

from rich.color import Color
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.layout import Layout
from rich.panel import Panel
from rich.segment import Segment
from rich.style import Style
from rich.table import Table
from rich.text import Text

from traitors.game.board import Board
from traitors.game.events import (
    Channel,
    Direct,
    EliminationEvent,
    Event,
    GameOverEvent,
    GodOnly,
    InvalidActionEvent,
    PhaseEvent,
    Private,
    ReasoningEvent,
    RevealEvent,
    VoteResultEvent,
)
from traitors.game.lines import marker
from traitors.util.text import printable
from traitors.view.spectate.meter import CallMeter

PALETTE = (
    "cyan", "green", "yellow", "blue", "magenta",
    "bright_cyan", "bright_green", "bright_yellow", "bright_blue", "bright_magenta",
)  # fmt: skip
"""Speaker colours, by seat order; red is kept for the hidden side."""
SIDE_WIDTH = 38
METER_WIDTH = 32


class BottomAligned:
    """Renders the last lines of its content that fit the height it is given."""

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        lines = console.render_lines(self.renderable, options.update(height=None), pad=False)
        if options.height is not None:
            lines = lines[len(lines) - options.height :] if len(lines) > options.height else lines
        for line in lines:
            yield from line
            yield Segment.line()


def colours(board: Board) -> dict[str, str]:
    """Each player's colour."""
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(board.seats)}


def _marker_style(event: Event) -> str:
    vis = event.visibility
    if isinstance(vis, Channel):
        return "bold red"
    if isinstance(vis, Private):
        return "magenta"
    if isinstance(vis, Direct):
        return "yellow"
    return "bright_black" if isinstance(vis, GodOnly) else ""


def _event_style(event: Event) -> str:
    if isinstance(event, GameOverEvent):
        return "bold reverse"
    if isinstance(event, EliminationEvent | RevealEvent | VoteResultEvent):
        return "bold"
    if isinstance(event, ReasoningEvent):
        return "italic dim"
    if isinstance(event, InvalidActionEvent):
        return "red"
    return "dim" if isinstance(event, PhaseEvent) else ""


def paint_names(text: Text, palette: dict[str, str]) -> Text:
    """Colour every player's name inside ``text``."""
    for name, colour in palette.items():
        text.highlight_regex(rf"\b{re.escape(name)}\b", colour)
    return text


def transcript_text(board: Board, event: Event, palette: dict[str, str]) -> Text:
    """What an event says, after its visibility marker, with names in their colours."""
    line = Text()
    tag = marker(event)
    if tag:
        line.append(tag + " ", style=_marker_style(event))
    said = Text(printable(event.line_text(board.words) or ""), style=_event_style(event))
    line.append_text(paint_names(said, palette))
    return line


def transcript_panel(board: Board) -> Panel:
    """The transcript, newest line at the bottom; wrapped lines stay right of the phase."""
    palette = colours(board)
    table = Table.grid(padding=(0, 1))
    table.add_column(style="dim", no_wrap=True)
    table.add_column()
    for event in board.transcript:
        table.add_row(f"r{event.round} {event.phase}", transcript_text(board, event, palette))
    body = BottomAligned(table) if board.transcript else Text("waiting for events...", style="dim")
    return Panel(body, title="transcript", title_align="left")


def players_panel(board: Board) -> Panel:
    """Each player: alive or eliminated, and their role as the viewer knows it."""
    palette = colours(board)
    table = Table(box=None, padding=(0, 1), expand=True, header_style="bold")
    for column in ("player", "status", "role"):
        table.add_column(column, no_wrap=True)
    for seat in board.seats.values():
        name = Text(seat.name, style=palette[seat.name])
        if seat.name == board.viewer:
            name.append("◂", style="bold")
        status = Text("alive", style="green") if seat.alive else Text(seat.fate, style="dim red")
        role = Text(seat.role or "?", style="red" if seat.role in board.hidden_roles else "")
        if seat.revealed:
            role.append("*", style="dim")
        table.add_row(name, status, role)
    if board.viewer is None:
        title, subtitle = "players (true roles)", "* revealed"
    else:
        title, subtitle = f"players as {board.viewer} knows", "◂ you  * revealed"
    return Panel(table, title=title, title_align="left", subtitle=subtitle)


def tally_panel(board: Board) -> Panel:
    """The current (or last) vote: votes per target and what it decided."""
    tally = board.tally
    if tally is None:
        return Panel(Text("no vote yet", style="dim"), title="vote", title_align="left")
    palette = colours(board)
    table = Table.grid(padding=(0, 1))
    for target, count in sorted(tally.counts.items(), key=lambda item: -item[1]):
        bar = Text("█" * count, style="red" if target == tally.decided else "white")
        table.add_row(Text(target, style=palette.get(target, "")), bar, str(count))
    abstained = sum(target is None for target in tally.votes.values())
    if not tally.counted:
        status = "counting..."
    elif tally.decided is None and tally.tied:
        status = f"tie: {', '.join(tally.tied)}"
    else:
        status = f"=> {tally.decided or 'nobody'}"
    footer = Text(f"{status}" + (f"  ({abstained} abstained)" if abstained else ""), style="bold")
    ballot = f" ballot {tally.ballot + 1}" if tally.ballot else ""
    title = f"{tally.purpose} vote r{tally.round}{ballot}"
    return Panel(Group(table, paint_names(footer, palette)), title=title, title_align="left")


def labels(names: Iterable[str], shortest: int = 3) -> dict[str, str]:
    """The shortest unique prefix (at least ``shortest`` letters) of each name."""
    names = list(names)
    result = {}
    for name in names:
        size = shortest
        while size < len(name) and any(o != name and o[:size] == name[:size] for o in names):
            size += 1
        result[name] = name[:size]
    return result


def heat(p: float) -> Style:
    """Green (0) through yellow to red (1)."""
    red, green = int(255 * min(1.0, 2 * p)), int(255 * min(1.0, 2 * (1 - p)))
    return Style(color="black", bgcolor=Color.from_rgb(red, green, 0))


def heatmap_panel(board: Board) -> Panel:
    """Each believer's latest P(hidden side) for every other player (rows: who believes)."""
    palette = colours(board)
    short = labels(board.seats)
    table = Table(box=None, padding=0, header_style="bold", show_edge=False)
    table.add_column("", no_wrap=True)
    for name, label in short.items():
        style = "red" if board.seats[name].role in board.hidden_roles else palette[name]
        table.add_column(Text(label, style=style), justify="right", width=4, no_wrap=True)
    for believer, probs in board.beliefs.items():
        seat = board.seats.get(believer)
        row_label = Text(short.get(believer, believer), style=palette.get(believer, ""))
        if seat is not None and not seat.alive:
            row_label.append("†", style="dim")
        cells = [
            Text(f"{round(probs[n] * 100):>3} ", style=heat(probs[n])) if n in probs else Text("")
            for n in short
        ]
        table.add_row(row_label, *cells)
    title = f"suspicion P({board.words.suspect}), %"
    return Panel(table, title=title, title_align="left")


def notes_panel(board: Board) -> Panel:
    """The scenario's own facts (e.g. a quest track), one line each."""
    table = Table.grid(padding=(0, 1))
    for label, value in board.notes.items():
        table.add_row(Text(printable(label), style="bold"), Text(printable(value)))
    return Panel(table, title="game", title_align="left")


def meter_panel(meter: CallMeter) -> Panel:
    """Model calls, tokens, cost and latency so far."""
    table = Table.grid(padding=(0, 1))
    for label, value in meter.rows():
        table.add_row(Text(label, style="bold"), value)
    title = "LLM calls" if meter.viewer is None else f"LLM calls of {meter.viewer}"
    return Panel(table, title=title, title_align="left")


def header(board: Board, title: str) -> Text:
    """One line: episode, round, phase, whose view, and the result once the game is over."""
    if board.viewer is None:
        view = "god view"
    else:
        role = board.seats[board.viewer].role if board.viewer in board.seats else None
        view = f"as {board.viewer}" + (f" ({role})" if role else "")
    text = Text(f" {title} · round {board.round} · {board.phase or '-'} · {view}", style="bold")
    if board.game_over is not None:
        over = board.game_over
        result = f"{over.winner} win" if over.winner else "draw"
        text.append(f" · GAME OVER: {result}", style="bold green")
    return text


def render_view(board: Board, meter: CallMeter, title: str) -> Layout:
    """The whole view: header; transcript beside players and tally; beliefs beside the LLM
    meter (each shown once there is something in it)."""
    seats = max(len(board.seats), 1)
    side = Layout(size=SIDE_WIDTH)
    panels = [Layout(players_panel(board), size=seats + 3)]
    if board.notes:
        panels.append(Layout(notes_panel(board), size=len(board.notes) + 2))
    side.split_column(*panels, Layout(tally_panel(board)))
    body = Layout()
    body.split_row(Layout(transcript_panel(board)), side)
    rows = [Layout(header(board, title), size=1), body]
    bottom = [Layout(heatmap_panel(board))] if board.beliefs else []
    if meter.calls:
        bottom.append(Layout(meter_panel(meter), size=METER_WIDTH if bottom else None))
    if bottom:
        heatmap_rows = len(board.beliefs) + 3 if board.beliefs else 0  # + header and borders
        meter_rows = len(meter.rows()) + 2 if meter.calls else 0
        footer = Layout(size=max(heatmap_rows, meter_rows))
        footer.split_row(*bottom)
        rows.append(footer)
    root = Layout()
    root.split_column(*rows)
    return root
