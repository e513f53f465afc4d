"""``activations.npz``: the hidden states captured at a seat's statements (beside an episode).

One row per statement: ``seq`` (int64, the statement's line in ``events.jsonl``), ``seat``
(the speaker), and one float32 array ``layer_<L>`` (rows x the model's width) per captured
layer; ``meta`` is a JSON string (the model, the model file, how a row was taken). Written
once the game is over, never read by replay or fork.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from traitors.store.log import ACTIVATIONS, LogError, write_bytes_atomic

POSITIONS = "mean over the reply: the last prompt token and each generated token fed back"
"""How one row is taken from a statement's call."""


@dataclass(frozen=True)
class Activations:
    """An episode's captured rows."""

    seq: np.ndarray
    """int64 statement seqs."""
    seat: tuple[str, ...]
    """The speaker of each row."""
    layers: dict[int, np.ndarray]
    """Layer -> float32 rows (one per statement)."""
    meta: dict[str, Any]
    """model, model_file, positions."""


def add_rows(
    directory: Path,
    rows: Sequence[tuple[int, str, Mapping[int, Sequence[float]]]],
    meta: Mapping[str, Any],
) -> None:
    """Add (seq, seat, layer -> vector) rows to the episode's file (creating it); only the
    layers every row has are kept."""
    path = directory / ACTIVATIONS
    old = read_activations(path) if path.is_file() else None
    seq = [int(s) for s, _, _ in rows]
    seats = [seat for _, seat, _ in rows]
    layers = set.intersection(*(set(vectors) for _, _, vectors in rows))
    arrays = {
        layer: np.asarray([vectors[layer] for _, _, vectors in rows], np.float32)
        for layer in layers
    }
    if old is not None:
        seq = [*old.seq.tolist(), *seq]
        seats = [*old.seat, *seats]
        arrays = {
            layer: np.concatenate([old.layers[layer], arrays[layer]])
            for layer in layers & set(old.layers)
        }
    named: dict[str, Any] = {
        "seq": np.asarray(seq, np.int64),
        "seat": np.asarray(seats, np.str_),
        "meta": np.asarray(json.dumps(dict(meta), sort_keys=True)),
    }
    named.update({f"layer_{layer}": array for layer, array in sorted(arrays.items())})
    buffer = io.BytesIO()
    np.savez(buffer, **named)
    write_bytes_atomic(path, buffer.getvalue())


def read_activations(path: Path) -> Activations:
    """An ``activations.npz``; LogError naming the file when it is not one."""
    try:
        with np.load(path, allow_pickle=False) as data:
            layers = {
                int(name.removeprefix("layer_")): data[name].astype(np.float32)
                for name in data.files
                if name.startswith("layer_")
            }
            seq = data["seq"].astype(np.int64)
            seat = tuple(str(s) for s in data["seat"])
            meta = json.loads(str(data["meta"]))
    except (OSError, ValueError, KeyError) as exc:
        raise LogError(f"{path}: not an activations file: {exc}") from None
    if any(len(rows) != len(seq) for rows in layers.values()):
        raise LogError(f"{path}: not an activations file: layers and seq differ in length")
    return Activations(seq, seat, layers, meta)
