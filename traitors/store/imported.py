"""Episodes read from another engine's records (``traitors import``): what an importer
gives back, how it refuses a bad file, and how an imported episode is written.

An importer is announced through the entry-point group ``traitors.importers`` (name ->
an object with ``read``); the engine knows no source format. Each game becomes an ordinary
episode directory, written to a hidden temp directory and renamed into place, so an import
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
from traitors.store.log import EpisodeWriter, read_manifest
from traitors.store.manifest import Manifest

TEMP_PREFIX = ".import-"
"""Temp directories of episodes being written (hidden: readers pass over them)."""


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


def numbered(events: Sequence[Event]) -> list[Event]:
    """``events`` with their log positions (``seq``) set."""
    return [event.model_copy(update={"seq": seq}) for seq, event in enumerate(events)]


def already_imported(out: Path, episode: ImportedEpisode) -> bool:
    """Whether ``out`` holds this episode already (imported, with a final status)."""
    known = read_manifest(out / episode.manifest.episode_id)
    return known is not None and known.imported and known.status != "running"


def write_imported(out: Path, episode: ImportedEpisode) -> Path:
    """Write ``episode`` as ``out/<episode_id>/`` (through a temp directory and a rename);
    an earlier import of it is replaced. Its directory."""
    out.mkdir(parents=True, exist_ok=True)
    target = out / episode.manifest.episode_id
    temp = Path(tempfile.mkdtemp(dir=out, prefix=f"{TEMP_PREFIX}{episode.manifest.episode_id}-"))
    try:
        writer = EpisodeWriter(temp)
        for event in episode.events:
            writer.on_event(event, None)
        writer.finish(episode.manifest.model_copy(update={"n_events": len(episode.events)}))
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
    """Remove the temp directories an interrupted import left in ``out``."""
    if out.is_dir():
        for leftover in out.glob(f"{TEMP_PREFIX}*"):
            shutil.rmtree(leftover, ignore_errors=True)
