"""Files written whole: a fresh temp file beside the target, then a rename."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def new_temp(directory: Path, prefix: str, suffix: str = "", folder: bool = False) -> Path:
    """A new empty file (or ``folder``) in ``directory`` with the mode every other file
    gets, 0666 (0777) less the umask: ``tempfile.mkstemp`` and ``mkdtemp`` make them 0600
    (0700), and a rename keeps that."""
    while True:
        path = directory / f"{prefix}{secrets.token_hex(6)}{suffix}"
        try:
            if folder:
                path.mkdir()
            else:
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return path
