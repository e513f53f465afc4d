"""Budgets, estimates and limits through their real paths: a call priced by litellm's own cost
map, ``--max-tokens`` and ``--max-cost`` through ``traitors sweep``, the completion tokens of
the dry-run estimate, automatic packing into shards and the spec-file size limit."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import litellm
import pytest
from conftest import TRAITORS_YAML
from test_sweep import write_sweep

from traitors.cli import main
from traitors.commands import run as run_command
from traitors.episode.spec import SpecError, load_spec
from traitors.llm import CallLog, Gateway, ModelRequest
from traitors.llm.endpoints import LitellmEndpoint
from traitors.store.shards import shard_index
from traitors.sweep.estimate import estimate
from traitors.util.specfile import MAX_FILE_BYTES

LLM_SEATS = (
    "set: {agents.default.policy: llm, agents.default.model: MODEL,"
    " rules.n_players: 5, rules.n_traitors: 1, rules.max_rounds: 2}\n"
)


def llm_sweep(tmp_path: Path, model: str, body: str) -> Path:
    return write_sweep(tmp_path, LLM_SEATS.replace("MODEL", repr(model)) + body)


def test_a_call_is_priced_by_litellms_own_cost_map(monkeypatch: pytest.MonkeyPatch) -> None:
    prepare = LitellmEndpoint.prepare

    def mocked(self: LitellmEndpoint, request: ModelRequest, timeout: float) -> dict[str, Any]:
        return {**prepare(self, request, timeout), "mock_response": "I vote Ann."}

    monkeypatch.setattr(LitellmEndpoint, "prepare", mocked)
    request = ModelRequest(
        model="openai/gpt-4o-mini", messages=({"role": "user", "content": "Who?"},)
    )
    log = CallLog()
    response = asyncio.run(Gateway().complete(request, agent="A", log=log))
    assert response.error is None and response.text == "I vote Ann."
    price = litellm.model_cost["gpt-4o-mini"]
    expected = (
        response.prompt_tokens * price["input_cost_per_token"]
        + response.completion_tokens * price["output_cost_per_token"]
    )
    assert response.prompt_tokens > 0 and response.completion_tokens > 0
    assert response.cost == pytest.approx(expected, rel=1e-9) and response.cost > 0
    assert log.totals["cost"] == pytest.approx(expected, rel=1e-9)


OFFLINE_IMPORT = """
import json, os, socket
tried = []
def refuse(*args, **kwargs):
    tried.append(repr(args[:2]))
    raise OSError("no network")
socket.socket.connect = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
from traitors.llm.library import import_litellm
litellm = import_litellm()
print(json.dumps({
    "setting": os.environ.get("LITELLM_LOCAL_MODEL_COST_MAP"),
    "priced": "gpt-4o-mini" in litellm.model_cost,
    "tried": tried,
}))
"""


@pytest.mark.slow  # a fresh interpreter imports litellm
def test_litellm_reads_its_prices_from_its_bundled_map_without_the_network() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LITELLM_")}
    result = subprocess.run(
        [sys.executable, "-c", OFFLINE_IMPORT], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    said = json.loads(result.stdout.strip().splitlines()[-1])
    assert said == {"setting": "True", "priced": True, "tried": []}


def test_max_tokens_stops_a_sweep_before_its_tokens_run_out(tmp_path: Path, capsys) -> None:
    path = llm_sweep(tmp_path, "fake/random", "episodes: 12\n")
    out = tmp_path / "run"
    limit = 60_000
    args = ["sweep", str(path), "--out", str(out), "--concurrency", "2"]
    assert main([*args, "--max-tokens", str(limit)]) == 3
    said = capsys.readouterr().out
    assert "budget reached" in said and "--max-tokens" in said
    manifests = [json.loads(p.read_text()) for p in out.glob("*/manifest.json")]
    spent = sum(m["usage"]["prompt_tokens"] + m["usage"]["completion_tokens"] for m in manifests)
    assert 0 < spent <= limit and 0 < len(manifests) < 12
    assert main([*args, "--max-tokens", str(100 * limit)]) == 0  # more budget finishes it
    assert len(list(out.glob("*/manifest.json"))) == 12


def test_max_cost_is_refused_for_a_model_without_a_price(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-a-real-key")
    path = llm_sweep(tmp_path, "openai/no-such-model-anywhere", "episodes: 2\n")
    path.write_text(
        path.read_text().replace(
            "set: {", "set: {agents.default.api_base: 'http://127.0.0.1:9/v1', ", 1
        )
    )
    out = tmp_path / "run"
    assert main(["sweep", str(path), "--out", str(out), "--max-cost", "5"]) == 2
    err = capsys.readouterr().err
    assert "--max-cost: litellm has no price for openai/no-such-model-anywhere" in err
    assert not list(out.glob("*/manifest.json"))  # nothing was played


def test_the_estimate_counts_each_reply_at_max_tokens(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # the table on one line a row
    body = "grid: {agents.default.max_tokens: [32, 96]}\nepisodes: 1\n"
    path = llm_sweep(tmp_path, "fake/random?price=0.01", body)
    short, long = (
        estimate(load_spec(TRAITORS_YAML, [*SET, f"agents.default.max_tokens={n}"]))
        for n in (32, 96)
    )
    assert short.calls == long.calls > 0 and short.prompt_tokens == long.prompt_tokens
    more = long.completion_tokens - short.completion_tokens
    assert more > 0 and more % 64 == 0  # each reply bounded by max_tokens counts 64 more
    assert main(["sweep", str(path), "--dry-run"]) == 0
    shown = capsys.readouterr().out
    rows = dry_run_rows(shown)
    assert set(rows) == {"32", "96"}, shown
    assert rows["32"][0] == rows["96"][0]  # the same calls per episode
    tokens = {n: int(row[1].replace(",", "")) for n, row in rows.items()}
    assert tokens["96"] - tokens["32"] == pytest.approx(more, abs=1)


SET = (
    "agents.default.policy=llm",
    "agents.default.model=fake/random?price=0.01",
    "rules.n_players=5",
    "rules.n_traitors=1",
    "rules.max_rounds=2",
)


def dry_run_rows(out: str) -> dict[str, list[str]]:
    """max_tokens -> the cell's calls/ep, tokens/ep and cost/ep, from the dry-run table."""
    rows = {}
    for line in out.splitlines():
        if found := re.search(r"max_tokens=(\d+)", line):
            cells = [c.strip() for c in line.split("│")]
            rows[found.group(1)] = [c for c in cells if c][-4:-1]
    return rows


def test_compact_at_is_one_thousand_episodes() -> None:
    assert run_command.COMPACT_AT == 1_000


@pytest.mark.parametrize(("episodes", "packed"), [(3, False), (4, True)])
def test_a_sweep_packs_its_episodes_into_shards_at_the_threshold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, episodes: int, packed: bool
) -> None:
    monkeypatch.setattr(run_command, "COMPACT_AT", 4)
    body = "set: {agents.default.policy: heuristic, rules.n_traitors: 1}\n"
    path = write_sweep(tmp_path, body + f"episodes: {episodes}\n")
    out = tmp_path / "run"
    assert main(["sweep", str(path), "--out", str(out)]) == 0
    loose = [p for p in out.iterdir() if (p / "manifest.json").exists()]
    assert len(shard_index(out)) == (episodes if packed else 0)
    assert len(loose) == (0 if packed else episodes)


def test_spec_files_are_limited_to_one_megabyte(tmp_path: Path, capsys) -> None:
    assert MAX_FILE_BYTES == 1_000_000
    text = TRAITORS_YAML.read_text()
    at_limit = tmp_path / "at_limit.yaml"
    padding = MAX_FILE_BYTES - len(text.encode()) - len("\n") - len("# ")
    at_limit.write_text(text + "\n# " + "x" * padding)
    assert at_limit.stat().st_size == MAX_FILE_BYTES
    assert load_spec(at_limit).name
    over = tmp_path / "over.yaml"
    over.write_text(at_limit.read_text() + "x")
    with pytest.raises(SpecError, match=f"{over}: 1,000,001 bytes; spec files are limited to"):
        load_spec(over)
    assert main(["run", str(over), "--out", str(tmp_path / "out")]) == 2
    assert "spec files are limited to 1,000,000" in capsys.readouterr().err
