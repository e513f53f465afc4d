"""Player text is data: what any output path does to text that came from a player or a model.

``printable`` is the one sanitiser every terminal and piped output uses (watch, run
--events, play, analyze): control characters (C0 but newline, DEL, C1), which carry terminal
escapes such as ANSI colour or OSC window titles, and the invisible bidirectional overrides
become visible ``\\x..``-style escapes; ``continued`` then indents the lines after the first,
so a newline in speech can never start a line that looks like the game's.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char == "\t":
        return "    "
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def printable(text: str) -> str:
    """``text`` with every control character shown as an escape (tabs as spaces)."""
    return _UNSAFE.sub(_escape, text)


def continued(text: str, indent: int) -> str:
    """``text`` with each line after the first indented by ``indent`` spaces."""
    return text.replace("\n", "\n" + " " * indent)
