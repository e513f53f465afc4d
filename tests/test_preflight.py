"""Preflight: a model whose API key is unset is refused in one line, before anything is
written, by every command that would call it; ``traitors models`` shows what each needs."""

from __future__ import annotations

from pathlib import Path

import pytest

from traitors.cli import main
from traitors.episode.spec import load_spec
from traitors.sweep.episodes import run_episodes

ROOT = Path(__file__).resolve().parent.parent
HOSTED = "openai/gpt-4o-mini"
SMALL = ["rules.n_players=5", "rules.n_traitors=1", "rules.max_rounds=2"]


def sets(settings: list[str]) -> list[str]:
    return [part for setting in settings for part in ("--set", setting)]


@pytest.fixture(autouse=True)
def no_openai_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def refused(capsys: pytest.CaptureFixture[str], argv: list[str], out: Path) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and HOSTED in err and "OPENAI_API_KEY" in err
    assert not out.exists()
    return err


def test_run_refuses_a_model_without_its_key(traitors_yaml, tmp_path, capsys) -> None:
    out = tmp_path / "run"
    argv = ["run", str(traitors_yaml), "--agents", "llm", "--model", HOSTED, "--out", str(out)]
    refused(capsys, [*argv, *sets(SMALL)], out)


def test_play_refuses_a_model_without_its_key(traitors_yaml, tmp_path, capsys) -> None:
    out = tmp_path / "play"
    settings = ["agents.default.policy=llm", f"agents.default.model={HOSTED}", *SMALL]
    argv = ["play", str(traitors_yaml), "--as", "Alice", "--out", str(out)]
    refused(capsys, [*argv, *sets(settings)], out)


def sweep_file(tmp_path: Path, models: str) -> Path:
    path = tmp_path / "sweep.yaml"
    path.write_text(
        f"name: pre\nbase: {ROOT / 'scenarios' / 'the_traitors.yaml'}\n"
        "set: {rules.n_players: 6, rules.n_traitors: 2, rules.max_rounds: 2}\n"
        f"design: {{models: [{models}]}}\n"
    )
    return path


@pytest.mark.parametrize("dry", [True, False])
def test_a_sweep_design_naming_a_keyless_model_is_refused(tmp_path, capsys, dry) -> None:
    path, out = sweep_file(tmp_path, f"heuristic, {HOSTED}"), tmp_path / "sweep"
    refused(capsys, ["sweep", str(path), "--out", str(out), *(["--dry-run"] if dry else [])], out)


def test_a_design_of_free_models_passes_preflight(tmp_path, capsys) -> None:
    path = sweep_file(tmp_path, "heuristic, fake/random")
    assert main(["sweep", str(path), "--dry-run"]) == 0


def test_fork_and_influence_check_the_continuations_models(traitors_yaml, tmp_path, capsys):
    spec = load_spec(traitors_yaml, ["agents.default.policy=heuristic", *SMALL])
    (parent,) = run_episodes(spec, [0], tmp_path / "parent")
    seat = parent.manifest.players[0]
    out = tmp_path / "forks"
    argv = ["fork", str(parent.dir), "--at", "5", "--out", str(out)]
    swap = ["--set", f"agents.{seat}.policy=llm", "--set", f"agents.{seat}.model={HOSTED}"]
    refused(capsys, [*argv, *swap], out)
    assert main([*argv, "--dry-run"]) == 0  # the parent alone needs no key


def test_models_lists_keys_prices_and_calls(tmp_path, capsys, monkeypatch) -> None:
    path = sweep_file(tmp_path, f"fake/random, {HOSTED}")
    assert main(["models", str(path), "--call"]) == 1
    out = capsys.readouterr().out
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if "│" in line}
    assert set(rows) == {"fake/random", HOSTED}
    assert "missing OPENAI_API_KEY" in rows[HOSTED] and "128,000" in rows[HOSTED]
    assert " s " in rows["fake/random"] and "failed" in rows[HOSTED]
    assert f"{HOSTED}: not called: OPENAI_API_KEY not set" in out
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    assert main(["models", str(path)]) == 0
    assert "missing" not in capsys.readouterr().out


def test_a_model_litellm_does_not_know_needs_an_api_base(traitors_yaml, tmp_path, capsys):
    typo = "openai/gpt-4o-minii"
    out = tmp_path / "typo"
    argv = ["run", str(traitors_yaml), "--agents", "llm", "--model", typo, "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and not out.exists()
    assert f"{traitors_yaml} --model: agents.default.model: litellm does not know" in err
    served = ["agents.default.policy=llm", f"agents.default.model={typo}"]
    spec = load_spec(traitors_yaml, [*served, "agents.default.api_base=http://127.0.0.1:9/v1"])
    assert spec.agents["default"].model == typo
