"""The inlined public context of each statement: the public events its speaker had seen
before it, one line each, as the speaker's prompts showed them."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from analysis.episode_files import read_episode_files
from analysis.frames import DECISION_RECORD
from analysis.loader import RunData
from traitors.game.events import EventBase, Public, parse_event
from traitors.game.words import NEUTRAL, Words


def with_context(rows: pl.DataFrame, data: RunData) -> pl.DataFrame:
    """``rows`` (statements of ``data``'s episodes) with a ``context`` text column."""
    paths = dict(
        data.episodes.select(pl.col("episode_id").cast(pl.String()), "path").collect().rows()
    )
    shards: dict[Path, dict[str, Path]] = {}
    texts: list[str | None] = []
    public: list[EventBase] = []
    words = NEUTRAL
    current = None
    for episode, seq, speaker in rows.select("episode", "seq", "speaker").iter_rows():
        if episode != current:
            current = episode
            words, public = _public_events(episode, Path(paths[episode]), shards)
        lines = (e.prompt_text(speaker, words) for e in public if e.seq < seq)
        texts.append("\n".join(line for line in lines if line is not None))
    return rows.with_columns(context=pl.Series(texts, dtype=pl.String()))


def _public_events(
    episode: str, directory: Path, shards: dict[Path, dict[str, Path]]
) -> tuple[Words, list[EventBase]]:
    """An episode's words and its public events, in order."""
    files = read_episode_files(episode, directory, shards)
    if files is None:
        return NEUTRAL, []
    raw_words = files.manifest.get("words")
    words = Words.model_validate(raw_words) if raw_words else NEUTRAL
    events = (
        parse_event(line)
        for line in files.events.splitlines()
        if line.strip() and not line.startswith(DECISION_RECORD.encode())
    )
    return words, [e for e in events if isinstance(e.visibility, Public)]
