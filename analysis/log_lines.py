"""Parse the JSON lines of the loaded episodes (``events.jsonl``, ``calls.jsonl``) in polars.

The texts are read a batch at a time (a shard's rows, or :data:`LOOSE_BATCH` episode
directories), so memory and the cost per episode stay flat however many episodes a run
holds. Every line is cut like ``bytes.splitlines`` and stripped like ``bytes.strip``; blank
lines are dropped; each line is tagged with its ``episode_id`` (its first character
replaced by ``{"episode_id":"<id>",``). The tagged lines of every batch are then put in the
episodes' order and parsed :data:`PARSE_BATCH` at a time. Lines starting with ``skip`` (the
engine's ``act`` records) are counted, not parsed.

An episode is damaged when a line of its does not parse, starts with a non-ASCII character,
or (read from a file) is not UTF-8 text; a shard that cannot be read damages every episode
read from it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from traitors.store.log import CALLS, EVENTS

LOOSE_BATCH = 1_000
"""Episode directories whose files are parsed together."""
ASCII_SPACE = " \t\n\r\x0b\x0c"
"""What ``bytes.strip`` strips (a line is stripped the same way from a file or a shard)."""
ORDER = "_order"
"""A line's episode's position among the loaded episodes (the lines are sorted by it)."""
PARSE_BATCH = 500_000
"""Lines parsed by one polars call (bounds the memory of the parser's work)."""

Episode = tuple[str, Path, Mapping[str, Any]]
"""(episode_id, directory, manifest) of a loaded episode."""


def parse_logs(
    episodes: Sequence[Episode],
    sharded: Mapping[Path, Path],
    schemas: tuple[Mapping[str, pl.DataType], Mapping[str, pl.DataType]],
    skip: str,
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, int], set[str]]:
    """The events (lines starting with ``skip`` left out) and the calls of ``episodes``, parsed
    with ``schemas`` (the fields of each, as read) in the order of ``episodes``; each
    episode's number of event lines; and the damaged episodes (their rows may be kept)."""
    order = {episode_id: index for index, (episode_id, _, _) in enumerate(episodes)}
    events: list[pl.DataFrame] = []
    calls: list[pl.DataFrame] = []
    counts: dict[str, int] = {}
    damaged: set[str] = set()
    for texts in _texts(episodes, sharded, damaged):
        texts = texts.with_columns(
            pl.col("episode_id").replace_strict(order, return_dtype=pl.Int64()).alias(ORDER)
        )
        events.append(_tagged(texts, "events", skip, damaged, counts))
        calls.append(_tagged(texts, "calls", None, damaged))
    return (
        _parse(events, schemas[0], damaged),
        _parse(calls, schemas[1], damaged),
        counts,
        damaged,
    )


def _texts(
    episodes: Sequence[Episode], sharded: Mapping[Path, Path], damaged: set[str]
) -> Iterator[pl.DataFrame]:
    """(episode_id, events, calls) texts of ``episodes``, a shard's or :data:`LOOSE_BATCH`
    directories' at a time (in no particular order); the episodes of a shard that cannot be
    read, and the files that are not UTF-8, go into ``damaged``."""
    by_shard: dict[Path, list[str]] = {}
    loose: list[tuple[str, Path]] = []
    for episode_id, directory, _ in episodes:
        shard = sharded.get(directory)
        if shard is None:
            loose.append((episode_id, directory))
        else:
            by_shard.setdefault(shard, []).append(episode_id)
    for first in range(0, len(loose), LOOSE_BATCH):
        yield _loose_texts(loose[first : first + LOOSE_BATCH], damaged)
    for shard, ids in by_shard.items():
        try:
            yield (
                pl.scan_parquet(shard)
                .filter(pl.col("episode_id").is_in(ids))
                .select("episode_id", "events", "calls")
                .unique("episode_id", keep="last", maintain_order=True)
                .collect()
            )
        except (OSError, pl.exceptions.PolarsError):
            damaged.update(ids)


def _loose_texts(batch: Sequence[tuple[str, Path]], damaged: set[str]) -> pl.DataFrame:
    rows = []
    for episode_id, directory in batch:
        try:
            texts = [_read_text(directory / name) for name in (EVENTS, CALLS)]
        except UnicodeDecodeError:
            damaged.add(episode_id)
            continue
        rows.append((episode_id, *texts))
    schema = {"episode_id": pl.String(), "events": pl.String(), "calls": pl.String()}
    return pl.DataFrame(rows, schema=schema, orient="row")


def _read_text(path: Path) -> str | None:
    """A file's UTF-8 text, or None when there is no such file."""
    return path.read_bytes().decode() if path.is_file() else None


def _lines(texts: pl.DataFrame, column: str) -> pl.LazyFrame:
    """(``_order``, prefix, line): the non-blank lines of every text of ``column``, each
    stripped, in order, with the tag its parsed line starts with."""
    text = pl.col(column).fill_null("")
    if texts[column].str.contains("\r", literal=True).any():
        text = text.str.replace_all("\r\n", "\n", literal=True)
        text = text.str.replace_all("\r", "\n", literal=True)
    prefix = pl.Series("prefix", [tag(episode_id) for episode_id in texts["episode_id"]])
    return (
        texts.lazy()
        .select(ORDER, "episode_id", prefix, text.str.split("\n").alias("line"))
        .explode("line")
        .with_columns(pl.col("line").str.strip_chars(ASCII_SPACE))
        .filter(pl.col("line") != "")
    )


def tag(episode_id: str) -> str:
    """What each line of an episode starts with once tagged: its ``episode_id`` field first."""
    return '{"episode_id":' + json.dumps(episode_id) + ","


def _tagged(
    texts: pl.DataFrame,
    column: str,
    skip: str | None,
    damaged: set[str],
    counts: dict[str, int] | None = None,
) -> pl.DataFrame:
    """(``_order``, episode_id, line): the lines of ``column`` to parse, tagged; the lines of
    a damaged episode are left out (and it goes into ``damaged``); ``counts`` gets each
    episode's number of lines."""
    line = pl.col("line")
    lines = (
        _lines(texts, column)
        # A line starting with a non-ASCII character would lose only its first byte, as
        # it did from a file (then it is not UTF-8): its episode is damaged.
        .with_columns(odd=~line.str.contains(r"^[\x00-\x7f]"))
        .collect()
    )
    if counts is not None:
        counts.update(lines.group_by("episode_id").len().iter_rows())
    odd = set(lines.filter("odd")["episode_id"])
    damaged.update(odd)
    kept = lines.filter(~pl.col("episode_id").is_in(list(odd)))
    if skip:
        kept = kept.filter(~line.str.starts_with(skip))
    return kept.select(
        ORDER, "episode_id", pl.concat_str("prefix", line.str.slice(1)).alias("line")
    )


def _parse(
    parts: list[pl.DataFrame], schema: Mapping[str, pl.DataType], damaged: set[str]
) -> pl.DataFrame:
    """The tagged lines of every batch parsed with ``schema``, in the episodes' order (only
    ``episode_id`` when there is no line, as a JSON reader gives); the episodes with a line
    that does not parse go into ``damaged``, and their lines are left out.

    The lines, not the parsed rows, are put in order: one text column sorts at a fraction
    of the time and memory of a wide frame."""
    tagged = pl.concat(parts) if parts else pl.DataFrame()
    if tagged.is_empty():
        return pl.DataFrame(schema={"episode_id": pl.String()})
    tagged = tagged.sort(ORDER, maintain_order=True)
    dtype = pl.Struct({"episode_id": pl.String(), **schema})
    batches = [tagged.slice(first, PARSE_BATCH) for first in range(0, tagged.height, PARSE_BATCH)]
    try:  # the batches at once, on every core
        parsed = pl.collect_all([_decode(batch, dtype) for batch in batches])
    except pl.exceptions.PolarsError:
        parsed = [_parse_batch(batch, dtype, damaged) for batch in batches]
    return pl.concat(parsed, rechunk=False)


def _parse_batch(tagged: pl.DataFrame, dtype: pl.Struct, damaged: set[str]) -> pl.DataFrame:
    """The lines of the episodes of ``tagged`` that parse; the others go into ``damaged``."""
    good = [_decode(tagged.clear(), dtype).collect()]
    for rows in tagged.partition_by("episode_id", maintain_order=True):
        try:
            good.append(_decode(rows, dtype).collect())
        except pl.exceptions.PolarsError:
            damaged.add(rows["episode_id"][0])
    return pl.concat(good)


def _decode(tagged: pl.DataFrame, dtype: pl.Struct) -> pl.LazyFrame:
    return tagged.lazy().select(pl.col("line").str.json_decode(dtype)).unnest("line")
