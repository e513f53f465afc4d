"""MkDocs hook: writes the generated reference pages at build time.

- ``reference/cli.md``: every subcommand's ``--help``, walked from ``traitors.cli``'s argparse
  parser (nested subcommands too), so the page is the parser;
- ``reference/spec-schema.md``: the fields of the spec, sweep and rules models, read from the
  pydantic models (``model_fields`` and ``model_json_schema``).

Nothing is written into the source tree: the pages exist only in the build.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import itertools
import json
import os
import textwrap
import types
import typing
from collections.abc import Iterator
from typing import Any

from mkdocs.structure.files import File, Files

CLI_PAGE = "reference/cli.md"
SCHEMA_PAGE = "reference/spec-schema.md"


def _subcommands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _subcommands(sub, (*path, name))


def cli_page() -> str:
    from traitors.cli import _parser

    os.environ["COLUMNS"] = "100"  # argparse wraps help at the terminal's width
    parser = _parser()
    out = [
        "# Command line",
        "",
        "Generated at build time from `traitors.cli`'s argparse parser: each section is the",
        "command's `--help`, exactly as `traitors ... --help` prints it.",
        "",
    ]
    for path, sub in _subcommands(parser):
        name = " ".join(("traitors", *path))
        out += [f"## `{name}`", "", "```text", sub.format_help().rstrip(), "```", ""]
    return "\n".join(out)


def _type_name(annotation: Any) -> str:
    """A readable type: ``Annotated`` constraints left out, unions with ``|``."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(arg) for arg in args)
    if origin is typing.Literal:
        return "Literal[" + ", ".join(repr(arg) for arg in args) + "]"
    if annotation is type(None):
        return "None"
    if origin is not None:
        name = getattr(origin, "__name__", str(origin))
        return f"{name}[{', '.join('...' if a is Ellipsis else _type_name(a) for a in args)}]"
    return getattr(annotation, "__name__", str(annotation).replace("typing.", ""))


def _attribute_docs(model: Any) -> dict[str, str]:
    """The docstrings under a model's fields (``x: int = 1`` then ``\"\"\"...\"\"\"``)."""
    docs: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
        except (OSError, TypeError, SyntaxError):
            continue
        body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
        for node, after in itertools.pairwise(body):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            ):
                docs[node.target.id] = " ".join(after.value.value.split())
    return docs


def _default(field: Any) -> str:
    if field.is_required():
        return "(required)"
    if field.default_factory is not None:
        try:
            value = field.default_factory()
        except TypeError:
            return "(computed)"
    else:
        value = field.default
    text = json.dumps(value, default=str) if not hasattr(value, "model_dump") else "(object)"
    return f"`{text}`"


def _model_section(title: str, model: Any) -> list[str]:
    doc = (model.__doc__ or "").strip()
    out = [f"## {title}", "", f"`{model.__module__}.{model.__qualname__}`", ""]
    if doc:
        out += [doc, ""]
    out += ["| field | type | default | meaning |", "|---|---|---|---|"]
    docs = _attribute_docs(model)
    for name, field in model.model_fields.items():
        meaning = " ".join((field.description or docs.get(name, "")).split())
        meaning = meaning.replace("|", "\\|")
        key = field.alias or name
        out.append(
            f"| `{key}` | `{_type_name(field.annotation)}` | {_default(field)} | {meaning} |"
        )
    try:
        schema = json.dumps(model.model_json_schema(), indent=2, default=str)
    except Exception as exc:  # a model with a type JSON schema cannot express
        schema = f"(no JSON schema: {type(exc).__name__})"
    out += ["", '??? note "JSON schema"', "", "    ```json"]
    out += ["    " + line for line in schema.splitlines()]
    out += ["    ```", ""]
    return out


def schema_page() -> str:
    from traitors.episode.spec import AgentSpec, Persona, ScenarioSpec
    from traitors.game import registry
    from traitors.store.manifest import HealthLimits
    from traitors.sweep.design import DesignSpec
    from traitors.sweep.spec import InferenceSpec, SweepSpec
    from traitors.sweep.stopping import StopSpec

    out = [
        "# Spec schema",
        "",
        "Generated at build time from the pydantic models that read specs and sweeps",
        "(`model_fields` and `model_json_schema`): what a YAML file, or `--set PATH=VALUE`, may",
        "say. Unknown keys are refused (one line naming the file and field, exit 2).",
        "",
    ]
    for title, model in (
        ("Scenario spec", ScenarioSpec),
        ("Agent layer (`agents.default`, a role, a seat)", AgentSpec),
        ("Persona", Persona),
        ("Health limits (`health:`)", HealthLimits),
        ("Sweep", SweepSpec),
        ("Design (`design:`)", DesignSpec),
        ("Stopping rule (`stop:`)", StopSpec),
        ("Inference server (`inference:`)", InferenceSpec),
    ):
        out += _model_section(title, model)
    out += ["# Rules of each scenario (`rules:`)", ""]
    for name in registry.names("scenario"):
        rules = registry.lookup("scenario", name)
        out += _model_section(f"`{name}`", rules.config_model)
    return "\n".join(out)


def on_files(files: Files, config: Any) -> Files:
    for uri, make in ((CLI_PAGE, cli_page), (SCHEMA_PAGE, schema_page)):
        files.append(File.generated(config, uri, content=make()))
    return files
