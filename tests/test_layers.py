"""The layers hold at run time: the episode core loads no model code, the CLI starts light.

The import contracts themselves are checked by import-linter in ``.ci/run``
(``[tool.importlinter]`` in pyproject.toml).
"""

from __future__ import annotations

import subprocess
import sys

import pytest

LOADED = "import sys, {module}; print(' '.join(sorted(sys.modules)))"


def _loaded(module: str) -> set[str]:
    code = LOADED.format(module=module)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize("module", ["traitors.episode.core", "traitors.episode.engine"])
def test_the_episode_core_loads_no_model_code(module: str) -> None:
    loaded = _loaded(module)
    assert module in loaded
    assert not {m for m in loaded if m == "litellm" or m.startswith(("litellm.", "traitors.llm"))}


def test_the_cli_starts_without_litellm_ray_or_polars() -> None:
    loaded = _loaded("traitors.cli")
    assert not loaded & {"litellm", "ray", "polars", "textual"}


def test_the_game_contract_loads_nothing_above_it() -> None:
    loaded = {m for m in _loaded("traitors.game.events") if m.startswith("traitors.")}
    assert "traitors.game.events" in loaded
    assert all(m.startswith(("traitors.game", "traitors.util")) for m in loaded), loaded
