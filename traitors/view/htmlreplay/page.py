"""The replay as one self-contained HTML file: page, script and style inline, data as JSON.

Nothing is fetched: a Content-Security-Policy allows only the page's own script and style
(by hash) and no connection at all. The episode's document is embedded as JSON in a
``<script type="application/json">`` with ``<``, ``>``, ``&``, U+2028 and U+2029 escaped,
so no player text can close that element; ``replay.js`` renders every string as text.
The same document always gives the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections.abc import Sequence
from importlib.resources import files
from typing import Any

from traitors.game.events import Event
from traitors.store.manifest import Manifest
from traitors.view.htmlreplay.document import build_document

DATA_ID = "episode-data"
"""Id of the element holding the episode's JSON document."""
_UNSAFE_IN_SCRIPT = re.compile("[<>&\u2028\u2029]")

BODY = """<header>
<h1 id="title"></h1>
<p id="meta"></p>
<p id="result"></p>
<p id="status" class="warning" hidden></p>
</header>
<nav id="controls">
<label>view <select id="view"></select></label>
<button id="prev" type="button" title="previous step">&#9664; prev</button>
<input id="step" type="range" min="0" max="0" value="0" aria-label="step">
<button id="next" type="button" title="next step">next &#9654;</button>
<span id="where"></span>
<label>round <select id="round"></select></label>
</nav>
<main>
<section id="transcript-panel" class="panel"><h2>transcript</h2>
<div id="transcript"></div></section>
<section id="board-panel" class="panel"><h2 id="board-title">players</h2><table id="board"></table>
<dl id="notes"></dl></section>
<section id="votes-panel" class="panel"><h2>votes</h2><div id="votes"></div></section>
<section id="trust-panel" class="panel"><h2 id="trust-title">trust</h2>
<svg id="trust" viewBox="-50 10 500 380" role="img" aria-label="trust graph"></svg>
<p class="legend">u &#8594; v: votes and accusations &#8722;1, defences +1</p></section>
<section id="beliefs-panel" class="panel"><h2 id="beliefs-title">beliefs</h2>
<div id="heatmap"></div></section>
</main>
<noscript><p class="warning">This replay needs JavaScript.</p></noscript>
"""


def episode_page(manifest: Manifest, events: Sequence[Event], seat: str | None = None) -> str:
    """The replay of the episode: the god view, or only what ``seat`` saw (UnknownPlayer if
    ``seat`` is not at the table)."""
    return render_page(build_document(manifest, events, seat))


def render_page(document: dict[str, Any]) -> str:
    """The HTML file of a replay document."""
    script, style = _asset("replay.js"), _asset("replay.css")
    policy = (
        f"default-src 'none'; script-src '{_digest(script)}'; style-src '{_digest(style)}'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    episode = document["episode"]
    seat = episode["exported_as"]
    title = f"{episode['name']} {episode['id']}" + (f" as {seat}" if seat else "")
    return "".join(
        [
            '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
            f'<meta http-equiv="Content-Security-Policy" content="{policy}">\n',
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
            '<link rel="icon" href="data:,">\n',
            f"<title>{html.escape(title)} - replay</title>\n",
            f"<style>{style}</style>\n</head>\n<body>\n{BODY}",
            f'<script type="application/json" id="{DATA_ID}">{embedded_json(document)}</script>\n',
            f"<script>{script}</script>\n</body>\n</html>\n",
        ]
    )


def embedded_json(document: dict[str, Any]) -> str:
    """``document`` as JSON that is safe inside a script element."""
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return _UNSAFE_IN_SCRIPT.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _asset(name: str) -> str:
    return files("traitors.view.htmlreplay").joinpath(name).read_text(encoding="utf-8")


def _digest(text: str) -> str:
    """The CSP source expression allowing exactly this inline script or style."""
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
