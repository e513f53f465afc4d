"""Tables computed once per loaded run, even when several threads ask for one at once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable

import polars as pl


class Memo:
    """Computed tables by key. Each key has its own lock: a thread asking for a table being
    computed waits for it, while other tables are computed beside it."""

    def __init__(self) -> None:
        self._tables: dict[Hashable, pl.DataFrame] = {}
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], pl.DataFrame]) -> pl.DataFrame:
        """The table of ``key``, computed by ``compute()`` the first time."""
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._tables:
                self._tables[key] = compute()
            return self._tables[key]
