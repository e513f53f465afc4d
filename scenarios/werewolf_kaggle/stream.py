"""A replay file read as a stream: the top-level keys of one JSON object, with the values
named in ``skip`` (a replay's ``steps``, about 90% of its bytes) passed over unparsed.

The scanner reads fixed-size chunks. In each it removes the complete strings with one
regular expression and counts the brackets left, so a chunk that cannot close the value is
passed at C speed; only the chunk where it may end is walked token by token. Memory holds a
chunk or two plus the values kept, whatever the file's size.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from typing import IO, Any

CHUNK = 1 << 16
"""Bytes read at a time."""
MAX_KEPT = 256 << 20
"""Largest value kept (bytes); a larger one is refused, not read into memory."""

_STRUCTURE = re.compile(rb'["{}\[\]]')
_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"{}[]")
_OPENING = b"{["
_STRING_END = re.compile(rb'["\\]')
_SCALAR_END = re.compile(rb"[,}\]\s]")
_SPACE = b" \t\r\n"


class StreamError(ValueError):
    """The file is not one JSON object, or is cut off; the message says what, in one line."""


class _Scanner:
    """A cursor over a byte stream; the bytes of the value being kept are collected."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.buf = b""
        self.pos = 0
        self.kept: list[bytes] | None = None
        self.kept_bytes = 0
        self.mark = 0

    def more(self, carry: int | None = None) -> None:
        """Read the next chunk; the current one is consumed up to ``carry`` (its end by
        default), the bytes from ``carry`` on are kept in front of the new chunk. StreamError
        at the end of the stream."""
        data = self.stream.read(CHUNK)
        if not data:
            raise StreamError("the file is cut off (the JSON ends too early)")
        cut = len(self.buf) if carry is None else carry
        if self.kept is not None:
            self._keep(self.buf[self.mark : cut])
        self.buf, self.pos, self.mark = self.buf[cut:] + data, 0, 0

    def _keep(self, data: bytes) -> None:
        assert self.kept is not None
        self.kept_bytes += len(data)
        if self.kept_bytes > MAX_KEPT:
            raise StreamError(f"a top-level value is over {MAX_KEPT >> 20} MB")
        self.kept.append(data)

    def peek(self) -> int:
        """The next byte that is not white space (not consumed)."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in _SPACE:
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            self.more()

    def expect(self, char: bytes) -> None:
        """Consume ``char`` (after white space), or StreamError."""
        if self.peek() != char[0]:
            found = chr(self.buf[self.pos])
            raise StreamError(f"not a JSON object: expected {char.decode()!r}, found {found!r}")
        self.pos += 1

    def string(self) -> None:
        """Pass a string; the cursor is just after its opening quote."""
        while True:
            found = _STRING_END.search(self.buf, self.pos)
            if found is None:
                self.pos = len(self.buf)
                self.more()
                continue
            self.pos = found.end()
            if found.group() == b'"':
                return
            if self.pos >= len(self.buf):  # the escaped character is in the next chunk
                self.more()
            self.pos += 1

    def container(self) -> None:
        """Pass an object or array; the cursor is just after its opening bracket."""
        depth = 1
        while True:
            rest = self.buf[self.pos :]
            body = _STRINGS.sub(b"", rest)
            open_quote = body.find(b'"')
            carry = None
            if open_quote >= 0:  # a string runs on into the next chunk
                body = body[:open_quote]
                carry = self.pos + _last_quote(rest)
            after = _depth_after(body, depth)
            if after is None:  # it ends in this chunk: walk it token by token
                self._walk(depth)
                return
            depth = after
            self.more(carry)

    def _walk(self, depth: int) -> None:
        """Walk tokens from the cursor to the end of the container."""
        while depth:
            found = _STRUCTURE.search(self.buf, self.pos)
            if found is None:
                self.pos = len(self.buf)
                self.more()
                continue
            self.pos = found.end()
            char = found.group()
            if char == b'"':
                self.string()
            elif char in b"{[":
                depth += 1
            else:
                depth -= 1

    def scalar(self) -> None:
        """Pass a number, ``true``, ``false`` or ``null``."""
        while True:
            found = _SCALAR_END.search(self.buf, self.pos)
            if found is not None:
                self.pos = found.start()
                return
            self.pos = len(self.buf)
            data = self.stream.read(CHUNK)
            if not data:
                return  # a scalar may end the stream (the caller finds what is missing)
            if self.kept is not None:
                self._keep(self.buf[self.mark :])
            self.buf, self.pos, self.mark = data, 0, 0

    def value(self, keep: bool) -> bytes | None:
        """Pass one value; its bytes if ``keep``."""
        first = self.peek()
        if keep:
            self.kept, self.kept_bytes, self.mark = [], 0, self.pos
        self.pos += 1
        if first == ord('"'):
            self.string()
        elif first in b"{[":
            self.container()
        else:
            self.pos -= 1
            self.scalar()
        if not keep:
            return None
        assert self.kept is not None
        self._keep(self.buf[self.mark : self.pos])
        data, self.kept = b"".join(self.kept), None
        return data

    def key(self) -> str:
        """One object key."""
        raw = self.value(keep=True)
        assert raw is not None
        if not raw.startswith(b'"'):
            raise StreamError("not a JSON object: a key is not a string")
        return str(_loads(raw, "a key"))

    def end(self) -> None:
        """Only white space may follow the object."""
        while True:
            rest = self.buf[self.pos :].strip(_SPACE)
            if rest:
                raise StreamError("data after the JSON object")
            data = self.stream.read(CHUNK)
            if not data:
                return
            self.buf, self.pos = data, 0


def _depth_after(body: bytes, depth: int) -> int | None:
    """The nesting depth after ``body`` (JSON text without strings) starting at ``depth``, or
    None if it comes down to 0 inside it."""
    for char in body.translate(None, _NOT_BRACKETS):
        depth += 1 if char in _OPENING else -1
        if not depth:
            return None
    return depth


def _last_quote(data: bytes) -> int:
    """Where the last unescaped quote of ``data`` is (it opens the string that ``data`` ends
    inside)."""
    end = len(data)
    while True:
        at = data.rfind(b'"', 0, end)
        slashes = at - len(data[:at].rstrip(b"\\"))
        if slashes % 2 == 0:
            return at
        end = at


def _loads(raw: bytes, what: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
        raise StreamError(f"{what} is not valid JSON ({reason})") from None


def read_object(stream: IO[bytes], skip: Collection[str] = ()) -> tuple[dict[str, Any], set[str]]:
    """The top-level keys of the JSON object in ``stream`` with their parsed values, the
    values of the keys in ``skip`` passed over unparsed; second, the skipped keys found.

    StreamError (one line) if the stream is not one JSON object or is cut off."""
    scanner = _Scanner(stream)
    try:
        scanner.expect(b"{")
    except StreamError:
        raise StreamError("not a JSON object") from None
    found: dict[str, Any] = {}
    skipped: set[str] = set()
    if scanner.peek() == ord("}"):
        scanner.pos += 1
        scanner.end()
        return found, skipped
    while True:
        name = scanner.key()
        scanner.expect(b":")
        if name in skip:
            scanner.value(keep=False)
            skipped.add(name)
        else:
            raw = scanner.value(keep=True)
            assert raw is not None
            found[name] = _loads(raw, f"the value of {name!r}")
        if scanner.peek() == ord(","):
            scanner.pos += 1
            continue
        scanner.expect(b"}")
        scanner.end()
        return found, skipped
