"""Episodes read from another engine's records (``traitors import``): what an importer
gives back, how it refuses a bad file, the files an imported episode is stored as, and how
they are written as a loose episode directory.

An importer is announced through the entry-point group ``traitors.importers`` (name ->
an object with ``read``); the engine knows no source format. Each game becomes an ordinary
episode: :func:`render` gives its files' texts (the same bytes loose or in a shard), and
:func:`write_loose` writes them to a hidden temp directory renamed into place, so an import
that stops half-way leaves no half-written episode.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from traitors.game.events import Event
from traitors.store.log import EVENTS, MANIFEST, read_manifest
from traitors.store.manifest import Manifest

TEMP_PREFIX = ".import-"
"""Temp files and directories of an import (hidden: readers pass over them)."""


class BadReplay(ValueError):
    """A file that cannot be imported; the message says what is wrong, in one line."""


@dataclass(frozen=True)
class ImportedEpisode:
    """One game read from a source file: its manifest and its events (numbered)."""

    manifest: Manifest
    events: Sequence[Event]


class Importer(Protocol):
    """Reads one game from a source file."""

    def read(self, stream: IO[bytes], source: str) -> ImportedEpisode:
        """The game in ``stream`` (named ``source`` in messages); BadReplay if it is not one."""
        ...


@dataclass(frozen=True)
class Rendered:
    """An imported game as the files of its episode: small to send between processes."""

    episode_id: str
    status: str
    status_reason: str | None
    manifest: str
    """``manifest.json``, as the engine writes it."""
    events: str
    """``events.jsonl``, one event a line."""


def numbered(events: Sequence[Event]) -> list[Event]:
    """``events`` with their log positions (``seq``) set."""
    return [event.model_copy(update={"seq": seq}) for seq, event in enumerate(events)]


def render(episode: ImportedEpisode) -> Rendered:
    """The texts of ``episode``'s files, byte for byte what ``EpisodeWriter`` writes."""
    manifest = episode.manifest.model_copy(update={"n_events": len(episode.events)})
    return Rendered(
        manifest.episode_id,
        manifest.status,
        manifest.status_reason,
        manifest.model_dump_json(indent=2) + "\n",
        "".join(event.model_dump_json() + "\n" for event in episode.events),
    )


def is_imported(out: Path, episode_id: str) -> bool:
    """Whether ``out`` holds this episode loose already (imported, with a final status)."""
    known = read_manifest(out / episode_id)
    return known is not None and known.imported and known.status != "running"


def write_loose(out: Path, game: Rendered) -> Path:
    """Write ``game`` as ``out/<episode_id>/`` (through a temp directory and a rename); an
    earlier import of it is replaced. Its directory."""
    out.mkdir(parents=True, exist_ok=True)
    target = out / game.episode_id
    temp = Path(tempfile.mkdtemp(dir=out, prefix=f"{TEMP_PREFIX}{game.episode_id}-"))
    try:
        (temp / EVENTS).write_bytes(game.events.encode())
        (temp / MANIFEST).write_bytes(game.manifest.encode())
        if target.exists():
            known = read_manifest(target)
            if known is None or not known.imported:
                raise FileExistsError(f"{target}: exists and is not an imported episode")
            shutil.rmtree(target)
        temp.rename(target)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return target


def clear_temp(out: Path) -> None:
    """Remove the temp files and directories an interrupted import left in ``out``."""
    if out.is_dir():
        for leftover in out.glob(f"{TEMP_PREFIX}*"):
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
