"""The mutation score per module from mutmut's results in mutants/, and each mutant that lived.

Usage: python scripts/mutation_score.py [mutant-name-glob ...]  (scripts/mutation.sh runs it)
"""

from __future__ import annotations

import fnmatch
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

KILLED = {1, 3, 37, 36, 24, -24, 152, 255}
"""mutmut's exit codes of a mutant the tests caught: they failed, or never ended (a timeout:
the mutant loops, and a test run that hangs fails too)."""
LIVED = {0: "survived", 5: "no tests", 33: "no tests"}
"""mutmut's exit codes of a mutant nothing caught."""


def results(globs: list[str]) -> dict[str, int | None]:
    """Mutant name -> exit code (None: not run yet), for the mutants ``globs`` name."""
    found: dict[str, int | None] = {}
    for meta in sorted(Path("mutants").rglob("*.py.meta")):
        codes = json.loads(meta.read_text()).get("exit_code_by_key", {})
        for name, code in codes.items():
            if not globs or any(fnmatch.fnmatchcase(name, g) for g in globs):
                found[name] = code
    return found


def module_of(name: str) -> str:
    """``traitors.llm.gateway.x_redact__mutmut_3`` -> ``traitors.llm.gateway``."""
    return name.rsplit("__mutmut_", 1)[0].rpartition(".")[0]


def main(globs: list[str]) -> int:
    found = results(globs)
    if not found:
        print("no mutants found: run scripts/mutation.sh first")
        return 1
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    lived: list[tuple[str, str]] = []
    for name, code in sorted(found.items()):
        status = "killed" if code in KILLED else "not run" if code is None else "lived"
        by_module[module_of(name)][status] += 1
        if status == "lived":
            lived.append((name, LIVED.get(code, f"exit {code}")))  # type: ignore[arg-type]
    print(f"{'module':<28} {'killed':>7} {'lived':>6} {'not run':>8} {'score':>7}")
    for module, counts in sorted(by_module.items()):
        checked = counts["killed"] + counts["lived"]
        score = f"{100 * counts['killed'] / checked:.0f}%" if checked else "-"
        row = f"{module:<28} {counts['killed']:>7} {counts['lived']:>6} {counts['not run']:>8}"
        print(f"{row} {score:>7}")
    for name, why in lived:
        print(f"lived ({why}): {name}   (see: mutmut show {name})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
