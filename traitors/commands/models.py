"""``traitors models SPEC|SWEEP [--call]``: the models a spec or sweep would call, with what
each needs and costs, before any episode is played."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.table import Table

    from traitors.llm.preflight import ModelFacts

WIDTH = 140
"""Columns the table is laid out in, at least (it is wider than 80 with a few models)."""


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``models`` subcommand."""
    parser = commands.add_parser(
        "models",
        help="the models a spec or sweep calls: keys, prices, context, JSON schema, reasoning",
        description="List each model a spec or sweep (its design included) would call: its "
        "endpoint, whether its API key is set, its prices per million tokens (input, cached "
        "input, output), context window, and whether it supports JSON schema and reasoning. "
        "--call sends each one tiny request and shows the latency or the error.",
    )
    parser.add_argument("path", type=Path, metavar="SPEC|SWEEP", help="a spec or sweep YAML")
    parser.add_argument("--call", action="store_true", help="send each model one tiny request")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the table; exit 0 (1 with --call if a call failed)."""
    import asyncio

    from rich.console import Console

    from traitors.llm.preflight import model_facts
    from traitors.util.text import printable

    models = sorted(_models(args.path))
    if not models:
        Console().print(f"{args.path}: no seat calls a model")
        return 0
    facts = [model_facts(model) for model in models]
    calls = asyncio.run(_call_all(facts)) if args.call else None
    console = Console(width=max(Console().width, WIDTH))
    console.print(_table(facts, calls))
    failed = {model: error for model, (_, error) in (calls or {}).items() if error}
    for model, error in failed.items():
        line = f"{model}: {error.splitlines()[0][:300]}"
        console.print(printable(line), markup=False, highlight=False)
    return 1 if failed else 0


def _models(path: Path) -> set[str]:
    """The models the spec's (or the sweep's episodes') seats call."""
    from traitors.episode.spec import played_models, validate_spec
    from traitors.sweep.spec import load_sweep
    from traitors.util.specfile import read_mapping

    raw = read_mapping(path)
    if "base" not in raw:
        return played_models(validate_spec(raw, source=str(path)))
    _, episodes = load_sweep(path)
    specs = {id(e.spec): e.spec for e in episodes}
    return set().union(*(played_models(spec) for spec in specs.values()))


async def _call_all(facts: list[ModelFacts]) -> dict[str, tuple[float, str | None]]:
    """model -> (seconds, error or None) of one tiny call each, made one after another (none
    to a model whose key is missing)."""
    from traitors.llm.gateway import Gateway, ModelRequest
    from traitors.store.calls import CallLog

    gateway = Gateway(max_attempts=1, timeout=60.0)
    found: dict[str, tuple[float, str | None]] = {}
    for fact in facts:
        model = fact.model
        if fact.missing_keys:
            found[model] = (0.0, f"not called: {', '.join(fact.missing_keys)} not set")
            continue
        request = ModelRequest(
            model=model, messages=({"role": "user", "content": "Reply with OK."},), max_tokens=8
        )
        response = await gateway.complete(request, agent="models", log=CallLog())
        found[model] = (response.latency, response.error)
    return found


def _table(facts: list[ModelFacts], calls: dict[str, tuple[float, str | None]] | None) -> Table:
    from rich.markup import escape
    from rich.table import Table

    table = Table("model", "endpoint", "key", "$/M in", "cached", "out", "context", "schema",
                  "reasoning", title="prices in dollars per million tokens")  # fmt: skip
    if calls is not None:
        table.add_column("call")
    for fact in facts:
        key = "missing " + ", ".join(fact.missing_keys) if fact.missing_keys else "ok"
        row = [
            escape(fact.model), fact.endpoint, key, _price(fact.input_price),
            _price(fact.cached_price), _price(fact.output_price),
            f"{fact.context:,}" if fact.context else "?", _flag(fact.json_schema),
            _flag(fact.reasoning),
        ]  # fmt: skip
        if calls is not None:
            latency, error = calls[fact.model]
            row.append("failed (below)" if error else f"{latency:.2f} s")
        table.add_row(*row)
    return table


def _price(value: float | None) -> str:
    return "?" if value is None else f"{value:.3g}"


def _flag(value: bool | None) -> str:
    return "?" if value is None else ("yes" if value else "no")
