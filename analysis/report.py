"""A self-contained ``report.html``: the tables, and the figures embedded as base64 PNG.

Episodes the report cites (its Episodes section, and ``episode_id`` cells of the tables)
link to their HTML replays when ``analysis.replays`` exported them.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from analysis.figures import FigureFile
from analysis.render import cell
from analysis.replays import Replays
from analysis.summary import Table

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 2em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f3f3f3; }
img { max-width: 100%; border: 1px solid #ddd; margin-bottom: 2em; }
"""


def write_report(
    path: Path,
    heading: str,
    notes: Sequence[str],
    tables: Sequence[Table],
    figures: Sequence[FigureFile],
    replays: Replays | None = None,
) -> Path:
    """Write the report to ``path`` and return it."""
    links = replays.links if replays is not None else {}
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(heading)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(heading)}</h1>",
        *(f"<p>{html.escape(note)}</p>" for note in notes),
    ]
    if replays is not None:
        parts.append(_episodes_section(replays))
    for figure in figures:
        data = base64.b64encode(figure.path.read_bytes()).decode()
        parts.append(f"<h2>{html.escape(figure.title)}</h2>")
        parts.append(f'<img alt="{html.escape(figure.title)}" src="data:image/png;base64,{data}">')
    for table in tables:
        parts.append(f"<h2>{html.escape(table.title)}</h2>")
        parts.append(_html_table(table.frame.columns, table.frame.iter_rows(), links))
    parts.append("</body></html>")
    path.write_text("\n".join(parts) + "\n")
    return path


def _episodes_section(replays: Replays) -> str:
    """The first episodes by id (winner, rounds, status), each linked to its replay."""
    columns = ("episode_id", "status", "winner", "rounds")
    rows = [tuple(row[c] for c in columns) for row in replays.sample]
    note = f"<p>{html.escape(replays.note())}</p>"
    return "<h2>Episodes</h2>" + note + _html_table(columns, rows, replays.links)


def _html_table(
    columns: Sequence[str], rows: Iterable[Sequence[object]], links: Mapping[str, str]
) -> str:
    header = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{_linked(v, links) if c == 'episode_id' else html.escape(cell(v))}</td>"
            for c, v in zip(columns, row, strict=True)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"


def _linked(value: object, links: Mapping[str, str]) -> str:
    """An episode id, as a link to its replay when there is one."""
    text = html.escape(cell(value))
    href = links.get(str(value))
    return f'<a href="{html.escape(href)}">{text}</a>' if href else text
