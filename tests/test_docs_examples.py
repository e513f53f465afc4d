"""Every example in the README and the docs runs.

Sybil parses each page into its fenced code blocks; this module runs them:

- ```python blocks are executed, in page order, in one namespace per page;
- ```bash blocks are run with bash (``-e``: any failing command fails the example);
- ```console blocks are ``$ command`` lines, each followed by lines it prints: each command is
  run, and each shown line that is not elided (``...`` or ``…`` alone, or as a wildcard inside a
  line) must appear in what it printed (box-drawing characters and runs of spaces aside).

A page's examples run in order, in a fresh temporary directory holding a copy of
``scenarios/`` and the test fixtures, so relative paths work and nothing is written into
the repository; ``traitors`` is the installed console script of this environment.

An HTML comment on the line before a block says how it is treated:

- ``<!-- example: skip REASON -->``: needs an API key, a GPU, a cluster or the network; not run,
  counted (fewer than 10% of the examples may be skipped);
- ``<!-- example: slow -->``: takes long (many games, or a local model): left out of the page's
  quick test; a second test of the page, marked ``slow``, runs all its examples, slow ones
  included, in order, in a fresh directory;
- ``<!-- example: excerpt PATH -->`` (python): an excerpt of the source file PATH, shown to be
  read, not run: every line of it that is not elided must be a line of PATH;
- ``<!-- example: file PATH -->`` (any language): the block is the file PATH, exactly.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sybil import Sybil
from sybil.parsers.markdown import CodeBlockParser

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
RUNNABLE = {"python", "bash", "console"}
MARKER = re.compile(r"<!--\s*example:\s*(\w+)\s*(.*?)\s*-->\s*$")
BOX = re.compile(r"[│┃┏┓┗┛┡┩┠┨╇╈╋━─┳┻┼╭╮╯╰═║╔╗╚╝┌┐└┘├┤┬┴▆]")
ELLIPSIS = re.compile(r"\.\.\.|…")
COMMAND_TIMEOUT = 900


@dataclass
class DocExample:
    page: Path
    line: int
    language: str
    source: str
    marker: str = ""
    argument: str = ""
    namespace: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


class _Collect(CodeBlockParser):
    """Sybil's fenced-code-block lexer, collecting the blocks of one language."""

    def evaluate(self, example: Any) -> None:  # pragma: no cover - never evaluated
        raise NotImplementedError


def _examples(page: Path) -> list[DocExample]:
    text = page.read_text(encoding="utf-8")
    lines = text.splitlines()
    parsers = [_Collect(language) for language in (*sorted(RUNNABLE), "yaml", "toml")]
    document = Sybil(parsers=parsers).parse(page)
    found = []
    for example in document.examples():
        language = str(example.region.lexemes.get("arguments", "")).split()[0]
        line = example.line
        before = [raw.strip() for raw in lines[: line - 1] if raw.strip()]
        marker = MARKER.search(before[-1]) if before else None
        kind, argument = (marker.group(1), marker.group(2)) if marker else ("", "")
        if language in RUNNABLE or kind == "file":
            source = str(example.parsed)
            found.append(DocExample(page, line, language, source, kind, argument))
    return found


EXAMPLES = {page: _examples(page) for page in PAGES}
ALL = [example for examples in EXAMPLES.values() for example in examples]
RUN = [e for e in ALL if e.language in RUNNABLE and e.marker not in {"skip", "excerpt", "file"}]


def _workdir(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    shutil.copytree(
        ROOT / "scenarios", work / "scenarios", ignore=shutil.ignore_patterns("__pycache__")
    )
    (work / "tests").mkdir()
    (work / "tests" / "fixtures").symlink_to(ROOT / "tests" / "fixtures")
    return work


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not re.search(r"_(KEY|TOKEN|SECRET)$", k)}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    env["COLUMNS"] = "200"
    env["TERM"] = "dumb"
    env.pop("VIRTUAL_ENV", None)
    return env


def _shell(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", command],
        cwd=cwd,
        env=_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT,
        check=False,
    )


def _normal(line: str) -> str:
    return " ".join(BOX.sub(" ", line).split())


def _shown_line_matches(shown: str, printed: list[str]) -> bool:
    parts = [re.escape(_normal(part)) for part in ELLIPSIS.split(shown)]
    pattern = re.compile(".*".join(parts))
    if any(pattern.search(line) for line in printed):
        return True
    # a table row that the terminal wrapped otherwise: its words in order, close together
    words = [word for word in _normal(shown).split() if not ELLIPSIS.search(word)]
    flat = " ".join(printed).split()
    for start, word in enumerate(flat):
        if not words or word != words[0]:
            continue
        limit, at = min(len(flat), start + 3 * len(words) + 40), start
        for wanted in words:
            while at < limit and flat[at] != wanted:
                at += 1
            if at >= limit:
                break
            at += 1
        else:
            return True
    return False


def _console(source: str) -> list[tuple[str, list[str]]]:
    """``$ command`` lines (with ``\\`` continuations) and the lines shown under each."""
    steps: list[tuple[str, list[str]]] = []
    lines = iter(source.splitlines())
    for line in lines:
        if line.startswith("$ "):
            command = line[2:]
            while command.endswith("\\"):
                command = command[:-1] + " " + next(lines).strip()
            steps.append((command, []))
        elif steps:
            steps[-1][1].append(line)
        elif line.strip():
            raise AssertionError(f"console block: output before any $ command: {line!r}")
    return steps


def _run(example: DocExample, cwd: Path, namespace: dict[str, Any]) -> None:
    where = example.id
    if example.language == "python":
        code = compile(example.source, where, "exec")
        old = Path.cwd()
        os.chdir(cwd)
        try:
            exec(code, namespace)
        finally:
            os.chdir(old)
    elif example.language == "bash":
        done = _shell(example.source, cwd)
        assert done.returncode == 0, (
            f"{where}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
        )
    elif example.language == "console":
        for command, shown in _console(example.source):
            done = _shell(command, cwd)
            printed = [_normal(line) for line in (done.stdout + done.stderr).splitlines()]
            assert done.returncode == 0, (
                f"{where}: `{command}` exited {done.returncode}\n{done.stdout}\n{done.stderr}"
            )
            for line in shown:
                if not _normal(line) or ELLIPSIS.fullmatch(_normal(line)):
                    continue
                assert _shown_line_matches(line, printed), (
                    f"{where}: `{command}` did not print the line shown:\n  {line}\n"
                    f"it printed:\n{done.stdout}\n{done.stderr}"
                )


def _pages_with_runs(slow: bool = False) -> list[Path]:
    """Pages with examples to run: quick ones, or (``slow``) at least one slow one."""
    return [
        page
        for page, examples in EXAMPLES.items()
        if any(e in RUN and (e.marker == "slow") == slow for e in examples)
    ]


@pytest.mark.parametrize("page", _pages_with_runs(), ids=lambda page: str(page.relative_to(ROOT)))
def test_page_examples_run(page: Path, tmp_path: Path) -> None:
    """The page's examples that are not slow, in order, in one directory and namespace."""
    work = _workdir(tmp_path)
    namespace: dict[str, Any] = {"__name__": "__doc_example__"}
    for example in EXAMPLES[page]:
        if example in RUN and example.marker != "slow":
            _run(example, work, namespace)


@pytest.mark.slow
@pytest.mark.parametrize(
    "page",
    _pages_with_runs(slow=True),
    ids=lambda page: str(page.relative_to(ROOT)),
)
def test_page_examples_run_with_the_slow_ones(page: Path, tmp_path: Path) -> None:
    """The page's examples, slow ones included (many games, a local model), in order."""
    work = _workdir(tmp_path)
    namespace: dict[str, Any] = {"__name__": "__doc_example__"}
    for example in EXAMPLES[page]:
        if example in RUN:
            _run(example, work, namespace)


@pytest.mark.parametrize(
    "example", [e for e in ALL if e.marker == "excerpt"], ids=lambda example: example.id
)
def test_excerpt_is_from_its_source(example: DocExample) -> None:
    """An excerpt's lines (elisions and comments aside, however the source wraps them) are
    code of the file it names."""
    source = _code((ROOT / example.argument).read_text(encoding="utf-8").splitlines())
    for line in example.source.splitlines():
        if "..." in line or "…" in line:
            continue
        code = _code([line])
        assert code in source, f"{example.id}: not in {example.argument}: {line.strip()!r}"


def _code(lines: list[str]) -> str:
    """The lines without comments, whitespace and commas (where a formatter wraps a line and
    adds a trailing comma)."""
    text = "".join("".join(re.sub(r"(^|\s)#.*$", "", line).split()) for line in lines)
    return text.replace(",", "")


@pytest.mark.parametrize(
    "example", [e for e in ALL if e.marker == "file"], ids=lambda example: example.id
)
def test_block_is_the_file_it_names(example: DocExample) -> None:
    """The block is the file, line for line (lines that are only a comment aside)."""
    shipped = (ROOT / example.argument).read_text(encoding="utf-8").splitlines()

    def lines(text: list[str]) -> list[str]:
        return [
            line.rstrip() for line in text if line.strip() and not line.lstrip().startswith("#")
        ]

    assert lines(example.source.splitlines()) == lines(shipped), (
        f"{example.id} differs from {example.argument}"
    )


def test_fewer_than_a_tenth_of_the_examples_are_skipped() -> None:
    runnable = [e for e in ALL if e.language in RUNNABLE]
    skipped = [e for e in runnable if e.marker == "skip"]
    python = sum(e.language == "python" for e in runnable)
    shell = len(runnable) - python
    slow = sum(e.marker == "slow" for e in runnable)
    excerpts = sum(e.marker == "excerpt" for e in runnable)
    print(
        f"\ndoc examples: {len(runnable)} ({python} python, {shell} shell); "
        f"{len(runnable) - len(skipped) - excerpts} run ({slow} of them slow), "
        f"{excerpts} python excerpts checked against their source, {len(skipped)} skipped:"
    )
    for example in skipped:
        print(f"  skipped {example.id}: {example.argument}")
    assert len(runnable) >= 20
    assert len(skipped) < 0.1 * len(runnable), [e.id for e in skipped]
    for example in skipped:
        assert example.argument, f"{example.id}: a skipped example must say why"


def test_every_marker_is_known() -> None:
    for example in ALL:
        assert example.marker in {"", "skip", "slow", "excerpt", "file"}, example.id
        if example.marker == "excerpt":
            assert example.language == "python" and (ROOT / example.argument).is_file(), example.id


def test_shown_output_must_be_printed() -> None:
    """The comparison is not vacuous: a line not printed fails; an elision, or a table row the
    page shows wrapped narrower than the terminal printed it, does not."""
    printed = [
        _normal(line)
        for line in [
            "imported 8 game(s) into runs/kaggle in 0.3 s: 7 complete",
            "│ 1 │ drop 14: Frank: My money is on Heidi. Too quiet, too careful. │ Heidi │ -0.95 │",
        ]
    ]
    assert _shown_line_matches("imported 8 game(s) into runs/kaggle in ... s: 7 complete", printed)
    assert not _shown_line_matches("imported 9 game(s) into runs/kaggle in ... s", printed)
    wrapped = "│ 1 │ drop 14: Frank: My money is on Heidi. Too │ Heidi │ -0.95 │"
    assert _shown_line_matches(wrapped, printed)
    assert _shown_line_matches("│   │ quiet, too careful.   │       │       │", printed)
    assert not _shown_line_matches(wrapped.replace("-0.95", "-0.59"), printed)
    assert not _shown_line_matches(wrapped.replace("Heidi │", "Alice │"), printed)
    assert _console("$ a \\\n  b\nout\n$ c\n") == [("a  b", ["out"]), ("c", [])]
