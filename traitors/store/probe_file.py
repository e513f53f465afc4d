"""A trained probe file (JSON): a logistic regression on one layer of one model's hidden
states, written by ``traitors probe train`` and read wherever a probe scores statements."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from traitors.store.log import LogError, problem, write_bytes_atomic


class ProbeFile(BaseModel):
    """P(lie) = sigmoid(weights . (x - mean) / scale + bias) on layer ``layer`` of ``model``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str
    """The model whose hidden states it reads, as its episodes name it (``local/<name>``)."""
    layer: int
    """The layer (1 = the first block's output, the model's block count = the last)."""
    weights: tuple[float, ...]
    """One weight per hidden dimension."""
    bias: float
    """The intercept."""
    mean: tuple[float, ...]
    """Each dimension's training mean."""
    scale: tuple[float, ...]
    """Each dimension's training standard deviation (1 where it was 0)."""
    trained: dict[str, Any] = {}
    """How it was trained: the dataset, statements per label, regularisation, fit."""

    def score(self, vector: Sequence[float]) -> float:
        """P(lie) for one hidden state (a ValueError if its width is not the probe's)."""
        if len(vector) != len(self.weights):
            raise ValueError(
                f"the probe reads {len(self.weights)} dimensions, the state has {len(vector)}"
            )
        logit = self.bias + sum(
            w * (x - m) / s
            for w, x, m, s in zip(self.weights, vector, self.mean, self.scale, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-max(-500.0, min(500.0, logit))))

    def refuses(self, model: str, layer: int | None = None) -> str | None:
        """Why this probe cannot read ``model``'s hidden states (at ``layer``), or None."""
        if model_key(model) != model_key(self.model):
            return f"the probe reads {self.model}, not {model}"
        if layer is not None and layer != self.layer:
            return f"the probe reads layer {self.layer}, not layer {layer}"
        return None


def model_key(model: str) -> str:
    """A local model's identity: ``local/<preset>`` or ``local/<file name>.gguf``."""
    provider, _, name = model.partition("/")
    return f"{provider}/{Path(name).name}" if name.endswith(".gguf") else model


def read_probe(path: str | Path) -> ProbeFile:
    """The probe in ``path``; LogError (one line) when it is missing or no probe file."""
    path = Path(path)
    try:
        return ProbeFile.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise LogError(f"{path}: cannot read the probe: {exc.strerror}") from None
    except ValidationError as exc:
        raise LogError(f"{path}: not a probe file: {problem(exc)}") from None


def write_probe(path: Path, probe: ProbeFile) -> None:
    """Write ``probe`` atomically."""
    write_bytes_atomic(path, probe.model_dump_json(indent=1).encode() + b"\n")
