"""Seed streams: one root seed per episode, independent streams derived by name."""

from __future__ import annotations

import hashlib
import random


def derive_seed(root: int, *labels: object) -> int:
    """A 64-bit seed derived from ``root`` and a path of labels (stable across processes)."""
    text = "/".join([str(root), *(str(label) for label in labels)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def derive_rng(root: int, *labels: object) -> random.Random:
    """A private ``random.Random`` for one stream; never the global one."""
    return random.Random(derive_seed(root, *labels))
