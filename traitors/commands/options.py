"""What the subcommands share: the usage error and the options of commands that run many
episodes."""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_BREAKER = 3
"""Degraded episodes of one model in a row after which a sweep starts no more of them."""


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """Options of every command that runs many episodes: executor, output, retries, budget."""
    parser.add_argument("--executor", choices=("local", "ray"), default="local")
    parser.add_argument(
        "--concurrency", type=int, default=8, metavar="K", help="episodes at once (local)"
    )
    parser.add_argument(
        "--address", metavar="auto|HOST:PORT", help="Ray cluster to join (default: start one)"
    )
    parser.add_argument(
        "--actors", type=int, metavar="N", help="Ray episode actors (default: CPUs)"
    )
    parser.add_argument("--out", type=Path, metavar="DIR", help="output directory")
    parser.add_argument(
        "--retries", type=int, default=0, metavar="N", help="re-run failed episodes N times"
    )
    parser.add_argument(
        "--max-cost",
        type=float,
        metavar="USD",
        help="stop starting episodes before the spend (done + running + next) would pass USD",
    )
    parser.add_argument(
        "--breaker",
        type=int,
        default=DEFAULT_BREAKER,
        metavar="K",
        help="stop starting a model's episodes after K degraded ones in a row (0: never)",
    )
    parser.add_argument(
        "--max-tokens", type=float, metavar="N", help="the same budget in tokens (in + out)"
    )
