"""The episodes of a run or sweep directory: their status, a table, and which one to watch."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, replace
from pathlib import Path

from rich.table import Table

from traitors.store.journal import SWEEP_FILE, read_journal
from traitors.store.log import CALLS, ERROR, EVENTS, MANIFEST, read_manifest
from traitors.store.shards import shard_index

STALLED_AFTER = 600.0
"""Seconds without a new line after which an unfinished episode counts as stalled."""
TAIL_BYTES = 16_384
SHOWN = 20
"""Episodes a run's listing shows (the most recently written), and names in a message."""
PACKED = 1.0
"""The "last written" time given to packed episodes: older than any loose one."""


class NoSuchEpisode(LookupError):
    """The chosen episode is not in the run directory (or has not started)."""


@dataclass(frozen=True)
class EpisodeRow:
    """One episode of a run as the table shows it."""

    episode_id: str
    dir: Path
    status: str
    """``complete``, ``degraded``, ``failed``, ``running``, ``stalled``, ``packed`` (in a
    shard), or a sweep status (``pending``, ...)."""
    winner: str
    rounds: str
    modified: float
    """Last write to the episode's logs (0 if it has not started)."""
    factors: str = ""
    """The sweep cell's factors (``model=..., n_players=...``), if the run is a sweep."""


def is_episode_dir(path: Path) -> bool:
    """Whether ``path`` holds an episode's logs."""
    return (path / EVENTS).is_file() or (path / MANIFEST).is_file()


def list_episodes(run_dir: Path) -> list[EpisodeRow]:
    """Every episode of a run or sweep directory, started or (per ``sweep.json``) not."""
    if not run_dir.is_dir():
        raise FileNotFoundError(f"{run_dir}: no such directory")
    sweep, factors = _sweep_status(run_dir)
    now = time.time()
    rows = [
        replace(_row(path, sweep.get(path.name), now), factors=factors.get(path.name, ""))
        for path in sorted(run_dir.iterdir())
        if path.is_dir() and is_episode_dir(path)
    ]
    started = {row.episode_id for row in rows}
    for episode_id in shard_index(run_dir):
        if episode_id not in started:  # finished, and packed into a shard
            row = EpisodeRow(episode_id, run_dir / episode_id, "packed", "", "", PACKED)
            rows.append(replace(row, factors=factors.get(episode_id, "")))
            started.add(episode_id)
    for episode_id, status in sweep.items():
        if episode_id not in started:
            row = EpisodeRow(episode_id, run_dir / episode_id, status, "", "", 0.0)
            rows.append(replace(row, factors=factors.get(episode_id, "")))
    if not rows:
        raise FileNotFoundError(f"{run_dir}: not an episode directory, and holds no episodes")
    return rows


def _sweep_status(run_dir: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Each episode's status from ``sweep.json``, brought up to date by the journal, and
    its cell's factors in one line."""
    path = run_dir / SWEEP_FILE
    if not path.is_file():
        return {}, {}
    episodes = json.loads(path.read_text()).get("episodes", {})
    status = {episode_id: str(entry.get("status", "")) for episode_id, entry in episodes.items()}
    status.update((eid, entry.status) for eid, entry in read_journal(run_dir).items())
    factors = {
        episode_id: ", ".join(f"{k}={v}" for k, v in (entry.get("factors") or {}).items())
        for episode_id, entry in episodes.items()
    }
    return status, factors


def _row(path: Path, sweep_status: str | None, now: float) -> EpisodeRow:
    modified = max(
        (p.stat().st_mtime for p in (path / EVENTS, path / CALLS) if p.exists()), default=0.0
    )
    manifest = read_manifest(path)
    if manifest is not None and manifest.outcome is not None:
        outcome = manifest.outcome
        winner = outcome.winner or ("draw (truncated)" if outcome.truncated else "draw")
        return EpisodeRow(path.name, path, manifest.status, winner, str(outcome.rounds), modified)
    if (path / ERROR).is_file() or (manifest is not None and manifest.status == "failed"):
        status = "failed"
    elif sweep_status in ("pending", "interrupted", "failed"):
        status = sweep_status
    else:
        status = "running" if now - modified < STALLED_AFTER else "stalled"
    return EpisodeRow(path.name, path, status, "", _last_round(path / EVENTS), modified)


def _last_round(path: Path) -> str:
    """The round of the last complete event line (read from the end of the file)."""
    try:
        with open(path, "rb") as f:
            f.seek(max(0, f.seek(0, 2) - TAIL_BYTES))
            lines = f.read().split(b"\n")[:-1]
    except FileNotFoundError:
        return ""
    for line in reversed(lines):
        try:
            return str(json.loads(line)["round"])
        except (ValueError, KeyError, TypeError):
            continue
    return ""


def choose(rows: list[EpisodeRow], episode_id: str | None) -> EpisodeRow:
    """The episode named by ``episode_id`` (or a unique prefix of it); else the most recently
    written running one; else the most recently written of all."""
    started = [row for row in rows if row.modified > 0]
    if episode_id is not None:
        matches = [row for row in rows if row.episode_id.startswith(episode_id)]
        if len(matches) != 1:
            problem = "matches several episodes" if matches else "is not in this run"
            known = ", ".join(row.episode_id for row in rows[:SHOWN])
            more = f" and {len(rows) - SHOWN} more" if len(rows) > SHOWN else ""
            raise NoSuchEpisode(f"episode {episode_id!r} {problem}; episodes: {known}{more}")
        if matches[0] not in started:
            raise NoSuchEpisode(f"episode {matches[0].episode_id} has not started")
        return matches[0]
    running = [row for row in started if row.status == "running"]
    candidates = running or started
    if not candidates:
        raise NoSuchEpisode("no episode of this run has started")
    return max(candidates, key=lambda row: row.modified)


def episodes_table(rows: list[EpisodeRow], title: str) -> Table:
    """The rich table of a run's episodes."""
    table = Table(title=title)
    for column in ("episode", "status", "winner", "rounds"):
        table.add_column(column)
    styles = {
        "complete": "green",
        "degraded": "red",
        "running": "yellow",
        "failed": "red",
        "stalled": "red",
    }
    for row in rows:
        status = f"[{styles.get(row.status, 'dim')}]{row.status}[/]"
        table.add_row(row.episode_id, status, row.winner, row.rounds)
    return table


def episode_line(row: EpisodeRow) -> str:
    """One plain line per episode, for output that is not a terminal."""
    return f"{row.episode_id}  {row.status:<11} {row.winner or '-':<16} {row.rounds or '-'}"
