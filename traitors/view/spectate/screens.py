"""The interactive view's pop-ups: pick a view or an episode, list and read model calls."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, OptionList, Static
from textual.widgets.option_list import Option

from traitors.util.text import printable
from traitors.view.spectate.runs import EpisodeRow

GOD = "god"
"""The option of the god view in the view picker."""


class Picker(ModalScreen[str | None]):
    """A titled list of options; dismissed with the chosen option's id (None: cancelled)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss_none", "close")]
    DEFAULT_CSS = """
    Picker { align: center middle; }
    Picker > OptionList { width: 90; max-height: 80%; border: round $accent; }
    """

    def __init__(self, title: str, options: Sequence[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.options = options

    def compose(self) -> ComposeResult:
        options = OptionList(*(Option(Text(label), id=key) for key, label in self.options))
        options.border_title = self.title_text
        yield options

    def on_option_list_option_selected(self, message: OptionList.OptionSelected) -> None:
        self.dismiss(message.option.id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


def view_picker(seats: Sequence[str], allowed: Sequence[str] | None = None) -> Picker:
    """God and every seat (or only ``allowed``)."""
    choices = list(allowed) if allowed is not None else [GOD, *seats]
    labels = {GOD: "god view: everything, true roles"}
    return Picker("whose eyes", [(c, labels.get(c, f"as {c}: only what {c} saw")) for c in choices])


def call_label(record: Mapping[str, Any]) -> str:
    """One line per model call: seat, number, model, tokens, latency, failure."""
    usage = record.get("usage") or {}
    failed = f"  FAILED: {record['error']}" if record.get("error") else ""
    return printable(
        f"{record.get('agent')} #{record.get('index')}  {record.get('model')}  "
        f"{usage.get('prompt_tokens', 0)}+{usage.get('completion_tokens', 0)} tokens  "
        f"{float(record.get('latency_s', 0.0)):.2f}s{failed}"
    )


def call_picker(records: Sequence[Mapping[str, Any]]) -> Picker:
    """The calls so far, newest first."""
    options = [(str(i), call_label(r)) for i, r in reversed(list(enumerate(records)))]
    return Picker(f"model calls ({len(records)})", options)


class CallScreen(ModalScreen[None]):
    """One model call: every message sent, the options set, and the reply (all literal)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "close", "close")]
    DEFAULT_CSS = """
    CallScreen { align: center middle; }
    CallScreen > VerticalScroll { width: 90%; height: 90%; border: round $accent; }
    """

    def __init__(self, record: Mapping[str, Any]) -> None:
        super().__init__()
        self.record = record

    def compose(self) -> ComposeResult:
        body = Text()
        for message in self.record.get("messages", []):
            body.append(f"[{message.get('role', '?')}]\n", style="bold cyan")
            body.append(printable(str(message.get("content", ""))) + "\n\n")
        params = json.dumps(self.record.get("params", {}), sort_keys=True)
        body.append(f"[options] {printable(params)}\n\n", style="dim")
        body.append("[reply]\n", style="bold green")
        reply = self.record.get("text")
        failed = f"(failed: {self.record.get('error')})"
        body.append(printable(reply) if reply is not None else printable(failed))
        scroll = VerticalScroll(Static(body))
        scroll.border_title = call_label(self.record)
        yield scroll

    def action_close(self) -> None:
        self.dismiss(None)


class EpisodesScreen(ModalScreen[str | None]):
    """A run's episodes (status, winner, rounds, factors), brought up to date every
    ``REFRESH_SECONDS`` while open; dismissed with the chosen id."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss_none", "close")]
    DEFAULT_CSS = """
    EpisodesScreen { align: center middle; }
    EpisodesScreen > DataTable { width: 95%; height: 80%; border: round $accent; }
    """
    COLUMNS = ("episode", "status", "winner", "rounds", "factors")
    REFRESH_SECONDS = 2.0

    def __init__(self, load: Callable[[], tuple[str, Sequence[EpisodeRow]]]) -> None:
        """``load`` lists the episodes now: (title, rows)."""
        super().__init__()
        self.load = load

    def compose(self) -> ComposeResult:
        table: DataTable[str] = DataTable(cursor_type="row")
        for column in self.COLUMNS:
            table.add_column(column, key=column)
        yield table

    def on_mount(self) -> None:
        self.refresh_rows()
        self.set_interval(self.REFRESH_SECONDS, self.refresh_rows)

    def refresh_rows(self) -> None:
        """Read the run again: new episodes are added, changed cells rewritten."""
        table = self.query_one(DataTable)
        title, rows = self.load()
        table.border_title = title
        for row in rows:
            cells = dict(zip(self.COLUMNS, map(printable, (row.episode_id, row.status,
                        row.winner, row.rounds, row.factors)), strict=True))  # fmt: skip
            if row.episode_id not in table.rows:
                table.add_row(*cells.values(), key=row.episode_id)
                continue
            for column, value in cells.items():
                if table.get_cell(row.episode_id, column) != value:
                    table.update_cell(row.episode_id, column, value)

    def on_data_table_row_selected(self, message: DataTable.RowSelected) -> None:
        self.dismiss(message.row_key.value)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
