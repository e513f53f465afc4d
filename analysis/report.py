"""A self-contained ``report.html``: the tables, and the figures embedded as base64 PNG."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path

from analysis.figures import FigureFile
from analysis.render import cell
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
) -> Path:
    """Write the report to ``path`` and return it."""
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(heading)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(heading)}</h1>",
        *(f"<p>{html.escape(note)}</p>" for note in notes),
    ]
    for figure in figures:
        data = base64.b64encode(figure.path.read_bytes()).decode()
        parts.append(f"<h2>{html.escape(figure.title)}</h2>")
        parts.append(f'<img alt="{html.escape(figure.title)}" src="data:image/png;base64,{data}">')
    for table in tables:
        parts.append(f"<h2>{html.escape(table.title)}</h2>")
        parts.append(_html_table(table))
    parts.append("</body></html>")
    path.write_text("\n".join(parts) + "\n")
    return path


def _html_table(table: Table) -> str:
    header = "".join(f"<th>{html.escape(c)}</th>" for c in table.frame.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(cell(v))}</td>" for v in row) + "</tr>"
        for row in table.frame.iter_rows()
    )
    return f"<table><thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table>"
