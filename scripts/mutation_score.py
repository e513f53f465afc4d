"""The mutation score per module from mutmut's results in mutants/, and each mutant that lived.

Usage: python scripts/mutation_score.py [mutant-name-glob ...]  (scripts/mutation.sh runs it)
"""

from __future__ import annotations

import fnmatch
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

KILLED = {1, 3, 37}
"""mutmut's exit codes of a mutant the tests (or the type check) caught."""
TIMEOUT = {36, 24, -24, 152, 255}
"""mutmut's exit codes of a mutant whose tests ran past the time limit (counted as caught: a
suite that hangs or takes several times as long fails; the count is shown apart)."""
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
        status = (
            "killed"
            if code in KILLED
            else "timeout"
            if code in TIMEOUT
            else "not run"
            if code is None
            else "lived"
        )
        by_module[module_of(name)][status] += 1
        if status == "lived":
            lived.append((name, LIVED.get(code, f"exit {code}")))  # type: ignore[arg-type]
    print(f"{'module':<28} {'killed':>7} {'timeout':>8} {'lived':>6} {'not run':>8} {'score':>6}")
    for module, counts in sorted(by_module.items()):
        caught = counts["killed"] + counts["timeout"]
        checked = caught + counts["lived"]
        score = f"{100 * caught / checked:.0f}%" if checked else "-"
        row = f"{module:<28} {counts['killed']:>7} {counts['timeout']:>8} {counts['lived']:>6}"
        print(f"{row} {counts['not run']:>8} {score:>6}")
    for name, why in lived:
        print(f"lived ({why}): {name}   (see: mutmut show {name})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
