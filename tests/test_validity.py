"""The validity report: counts that match the raw logs, warnings, degraded episodes left out,
the rules-text check, and the sweep summary's validity rows."""

from __future__ import annotations

import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import fifth_game
import litellm
import polars as pl
import pytest
from games import GAMES, game_spec
from rich.console import Console

from analysis.loader import load
from analysis.rules_check import check_text, episode_rules
from analysis.suite import compute, default_groups
from analysis.summary import Table
from traitors.episode.spec import load_spec
from traitors.game.registry import lookup, register_scenario
from traitors.game.rules_text import check_rules_text
from traitors.llm.fake import FakeCall, register_fake_model, schema_filler
from traitors.llm.gateway import Gateway
from traitors.store.manifest import SeatHealth
from traitors.store.validity import FAILED_CALL_WARNING, is_timeout
from traitors.sweep.episodes import run_episodes
from traitors.sweep.jobs import JobResult
from traitors.sweep.progress import SweepProgress

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
SMALL = ["rules.n_players=5", "rules.n_traitors=1", "rules.max_rounds=2"]
LENIENT = ["health.max_failed_calls=100000", "health.max_defaulted_share=1.0"]


@pytest.fixture(autouse=True)
def one_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every failure is final (no retry), so a fake's failure rate is the failed-call rate."""
    gateway = Gateway(backoff=0.001, max_backoff=0.001, max_attempts=1)
    monkeypatch.setattr("traitors.sweep.services._gateway", gateway)


def traitors_spec(model: str, *extra: str) -> Any:
    settings = ["agents.default.policy=llm", f"agents.default.model={model}", *SMALL, *extra]
    return load_spec(SCENARIOS / "the_traitors.yaml", settings)


def validity(path: Path, include_degraded: bool = False) -> dict[str, Table]:
    """The validity group's tables and notes by name (notes: ``validity_note``, joined)."""
    tables = compute(load(path, include_degraded=include_degraded), ["validity"], [])
    named = {t.name: t for t in tables if t.frame.width}
    notes = "\n".join(t.title for t in tables if not t.frame.width)
    named["notes"] = Table("notes", notes, pl.DataFrame(), ())
    return named


def read_calls(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (path / "calls.jsonl").read_text().splitlines() if line]


def read_acts(path: Path) -> list[dict[str, Any]]:
    events = [json.loads(line) for line in (path / "events.jsonl").read_text().splitlines()]
    return [e for e in events if e["kind"] == "act"]


def manifest(path: Path) -> dict[str, Any]:
    return json.loads((path / "manifest.json").read_text())


def troubled(call: FakeCall) -> str:
    """A fake that times out, fails, replies garbage (repaired or defaulted) or answers well,
    by the call's number: every path the validity counts tell apart."""
    fill = schema_filler("troubled")
    match call.index % 11:
        case 3:
            raise litellm.Timeout("too slow", model=call.model, llm_provider="fake")
        case 5:
            raise litellm.ServiceUnavailableError("down", llm_provider="fake", model=call.model)
        case 7 | 8:
            return "no idea"
    return fill(call)


@pytest.fixture(scope="module")
def troubled_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("troubled")
    gateway = Gateway(backoff=0.001, max_backoff=0.001, max_attempts=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("traitors.sweep.services._gateway", gateway)
        model = register_fake_model("validity-troubled?price=2", troubled)
        summaries = run_episodes(traitors_spec(model, *LENIENT), [1, 2, 3], out)
    assert all(s.manifest.status == "complete" for s in summaries)
    return out


def episode_dirs(run: Path) -> list[Path]:
    return sorted(p for p in run.iterdir() if (p / "manifest.json").is_file())


@pytest.mark.slow
def test_counts_per_model_match_calls_jsonl_and_the_manifests(troubled_run: Path) -> None:
    dirs = episode_dirs(troubled_run)
    calls = [c for d in dirs for c in read_calls(d)]
    health = SeatHealth()
    for d in dirs:
        health.add(SeatHealth(**manifest(d)["health_total"]))
    table = validity(troubled_run)["validity"].frame
    (total,) = table.filter(pl.col("kind") == "all").to_dicts()
    assert total["calls"] == len(calls) == health.calls
    assert total["failed_calls"] == sum(c["error"] is not None for c in calls)
    assert total["failed_calls"] == health.failed_calls > 0
    assert total["timeouts"] == sum(c["error"].startswith("Timeout") for c in calls if c["error"])
    assert 0 < total["timeouts"] < total["failed_calls"]
    assert total["decisions"] == health.decisions
    assert total["defaulted"] == health.defaulted > 0
    assert total["repaired"] == health.repaired > 0
    player_rounds = {(d.name, a["actor"], a["round"]) for d in dirs for a in read_acts(d)}
    prompt_tokens = sum(c["usage"]["prompt_tokens"] for c in calls)
    assert total["prompt_tokens_per_player_round"] == pytest.approx(
        prompt_tokens / len(player_rounds)
    )
    cost = sum(c["cost"] for c in calls)
    assert cost > 0 and total["cost_per_episode"] == pytest.approx(cost / len(dirs))


def test_counts_per_action_kind_match_the_act_records(troubled_run: Path) -> None:
    dirs = episode_dirs(troubled_run)
    acts = Counter(a["action"]["kind"] for d in dirs for a in read_acts(d))
    table = validity(troubled_run)["validity"].frame
    kinds = table.filter(pl.col("kind") != "all")
    decisions = dict(kinds.filter(pl.col("decisions") > 0).select("kind", "decisions").rows())
    assert decisions == dict(acts)
    (total,) = table.filter(pl.col("kind") == "all").to_dicts()
    for column in ("calls", "failed_calls", "timeouts", "repaired", "defaulted"):
        assert kinds[column].sum() == total[column]
    assert kinds.filter(pl.col("kind") == "notes")["decisions"].sum() == 0


def test_counts_per_seat_match_the_manifests(troubled_run: Path) -> None:
    expected: dict[str, Counter[str]] = {}
    for d in episode_dirs(troubled_run):
        for seat, health in manifest(d)["health"].items():
            expected.setdefault(seat, Counter()).update(health)
    seats = validity(troubled_run)["validity_seats"].frame
    assert sorted(seats["seat"]) == sorted(expected)
    for row in seats.iter_rows(named=True):
        for column in ("decisions", "calls", "failed_calls", "repaired", "defaulted"):
            assert row[column] == expected[row["seat"]][column], (row["seat"], column)
    assert seats["episodes"].to_list() == [3] * len(expected)


def test_a_model_that_fails_often_gets_a_warning(troubled_run: Path) -> None:
    notes = validity(troubled_run)["notes"].title
    (line,) = [n for n in notes.splitlines() if n.startswith("validity warning")]
    assert "failed calls" in line and "timeouts" in line and "defaulted actions" in line
    assert f"limit {FAILED_CALL_WARNING:.0%}" in line


def test_a_reliable_model_gets_no_warning(tmp_path: Path) -> None:
    model = register_fake_model("validity-reliable", schema_filler("reliable"))
    run_episodes(traitors_spec(model), [1, 2], tmp_path)
    tables = validity(tmp_path)
    assert "validity warning" not in tables["notes"].title
    (total,) = tables["validity"].frame.filter(pl.col("kind") == "all").to_dicts()
    assert total["failed_calls"] == total["defaulted"] == total["repaired"] == 0
    assert total["calls"] > 0


def test_degraded_episodes_are_left_out_and_counted(tmp_path: Path) -> None:
    def down(call: FakeCall) -> str:
        raise litellm.ServiceUnavailableError("down", llm_provider="fake", model=call.model)

    good = register_fake_model("validity-good", schema_filler("good"))
    bad = register_fake_model("validity-down", down)
    (complete,) = run_episodes(traitors_spec(good), [1], tmp_path)
    (degraded,) = run_episodes(traitors_spec(bad), [1], tmp_path)
    assert degraded.manifest.status == "degraded"
    for include in (False, True):
        tables = validity(tmp_path, include_degraded=include)
        frame = tables["validity"].frame
        assert "1 complete episode(s); 1 degraded left out" in tables["validity"].title
        assert frame["model"].unique().to_list() == [good]
        (total,) = frame.filter(pl.col("kind") == "all").to_dicts()
        assert total["calls"] == complete.manifest.health_total.calls
        assert total["failed_calls"] == 0
        assert "degraded episodes 1 of 2" in tables["notes"].title


def test_the_rules_check_catches_a_wrong_traitor_count_in_a_recorded_prompt(
    tmp_path: Path,
) -> None:
    model = register_fake_model("validity-rules", schema_filler("rules"))
    (summary,) = run_episodes(traitors_spec(model), [1], tmp_path)
    assert "validity_rules" not in validity(tmp_path)
    calls = summary.dir / "calls.jsonl"
    said = "1 of them are secretly traitors"
    assert said in calls.read_text()
    calls.write_text(calls.read_text().replace(said, "2 of them are secretly traitors"))
    tables = validity(tmp_path)
    rules = tables["validity_rules"].frame
    assert set(rules["fact"]) == {"traitors"}
    assert set(rules["expected"]) == {"1"} and set(rules["stated"]) == {"2"}
    assert sorted(rules["seat"]) == sorted(summary.manifest.players)
    assert rules["calls"].sum() == summary.manifest.health_total.calls
    assert "rules text differs from the rules played in 1 episode(s)" in tables["notes"].title


@pytest.mark.parametrize("scenario", GAMES)
@pytest.mark.slow
def test_real_fake_model_episodes_state_their_rules(scenario: str, tmp_path: Path) -> None:
    (summary,) = run_episodes(game_spec(scenario, "llm", model="fake/random"), [4], tmp_path)
    assert summary.manifest.status == "complete"
    tables = validity(tmp_path)
    assert "validity_rules" not in tables
    assert "system prompt(s) checked state the rules" in tables["notes"].title
    assert "not checked" not in tables["notes"].title  # every registered game declares facts
    assert "could not be paired" not in tables["notes"].title
    (total,) = (
        tables["validity"]
        .frame.filter((pl.col("kind") == "all") & pl.col("model").str.starts_with("fake/"))
        .to_dicts()
    )
    llm_seats = [s for s, a in summary.manifest.agents.items() if a.get("policy") == "llm"]
    decisions = sum(summary.manifest.health[s].decisions for s in llm_seats)
    assert total["decisions"] == decisions > 0
    assert total["calls"] == len(read_calls(summary.dir))


@pytest.mark.parametrize("scenario", GAMES)
def test_every_game_declares_the_rule_facts_its_rules_text_states(scenario: str) -> None:
    rules = episode_rules(scenario, {})
    check = check_rules_text(scenario, rules, lookup("scenario", scenario)(rules).describe())
    assert check.declared and check.ok, check.summary()


def test_recorded_prompts_of_a_game_without_rule_facts_are_named_unchecked(
    tmp_path: Path,
) -> None:
    register_scenario("spy_unchecked", fifth_game.Spy)  # no analysis plug-in: no rule facts
    run_episodes(game_spec("spy_unchecked", "llm", model="fake/random"), [1], tmp_path)
    notes = validity(tmp_path)["notes"].title
    assert "all 0 system prompt(s) checked" in notes
    assert "not checked for spy_unchecked (no rule facts declared)" in notes


RULE_VARIANTS = [
    ("the_traitors", {}),
    ("the_traitors", {"n_players": 12, "n_traitors": 4, "max_rounds": 7}),
    ("the_traitors", {"banish_tie": "random", "murder_rule": "plurality"}),
    ("the_traitors", {"banish_tie": "no_banish"}),
    ("werewolf", {}),
    ("werewolf", {"n_players": 11, "n_werewolves": 3, "max_rounds": 4}),
    ("avalon", {}),
    ("avalon", {"n_players": 10}),
    ("principal_agent", {"questions": 3}),
]


@pytest.mark.parametrize(("scenario", "rules"), RULE_VARIANTS)
def test_each_scenarios_rules_text_states_its_rules(scenario: str, rules: dict[str, Any]) -> None:
    applied = episode_rules(scenario, rules)
    text = lookup("scenario", scenario)(applied).describe()
    assert check_text(scenario, applied, text) == []


def test_a_text_of_other_rules_is_caught_fact_by_fact() -> None:
    played = episode_rules("the_traitors", {"n_players": 8, "n_traitors": 2, "max_rounds": 5})
    other = episode_rules(
        "the_traitors",
        {"n_players": 9, "n_traitors": 3, "max_rounds": 5, "banish_tie": "random"},
    )
    text = lookup("scenario", "the_traitors")(other).describe()
    found = {(m.fact, m.expected, m.stated) for m in check_text("the_traitors", played, text)}
    assert found == {
        ("players", "8", "9"),
        ("traitors", "2", "3"),
        ("banishment tie rule", "revote_then_random", "not stated"),
        ("banishment tie rule", "revote_then_random", "random"),
    }
    contradicted = text + "\nAfter 6 rounds the game is a draw."
    assert ("round limit", "5", "6") in {
        (m.fact, m.expected, m.stated) for m in check_text("the_traitors", other, contradicted)
    }


def test_timeouts_are_told_apart_by_the_error_type() -> None:
    assert is_timeout("TimeoutError: ") and is_timeout("Timeout: litellm.Timeout: too slow")
    assert is_timeout("APITimeoutError: read timed out")
    assert not is_timeout("ServiceUnavailableError: down (Timeout in the message)")
    assert not is_timeout(None)


def test_validity_is_a_default_group_only_for_runs_with_model_calls(
    troubled_run: Path, tmp_path: Path
) -> None:
    assert "validity" in default_groups(load(troubled_run))
    scripted = load_spec(SCENARIOS / "the_traitors.yaml", [*SMALL, "agents.default.policy=random"])
    run_episodes(scripted, [1], tmp_path)
    assert "validity" not in default_groups(load(tmp_path))


def result(eid: str, status: str, **health: int) -> JobResult:
    return JobResult(eid, status, health=health)  # type: ignore[arg-type]


def test_the_sweep_summary_counts_validity_and_warns() -> None:
    out = io.StringIO()
    progress = SweepProgress(3, Console(file=out, width=120))
    clean = {"decisions": 50, "calls": 60, "failed_calls": 0, "repaired": 1, "defaulted": 0}
    progress.finish(result("a", "complete", **clean))
    progress.finish(result("b", "complete", **clean))
    assert progress.warning() is None
    progress.finish(result("c", "failed", **{**clean, "failed_calls": 9}))  # degraded
    progress.finish(JobResult("d", "failed", error="Traceback ..."))  # raised: no health
    Console(file=out, width=120).print(progress.summary())
    text = out.getvalue()
    assert "0 / 120" in text and "2 / 100" in text  # failed calls, repaired: complete only
    assert "degraded attempts (left out)" in text
    warning = progress.warning()
    assert warning is not None and "degraded episodes 1 of 3" in warning
    assert "validity warning" in text


def test_the_sweep_summary_counts_timed_out_calls(tmp_path: Path) -> None:
    from traitors.episode.spec import episode_id
    from traitors.sweep.driver import run_sweep
    from traitors.sweep.jobs import Job
    from traitors.sweep.local import LocalExecutor

    spec = traitors_spec(register_fake_model("validity-troubled-sweep", troubled), *LENIENT)
    jobs = [Job(spec, seed, episode_id(spec, seed)) for seed in (1, 2)]
    out = io.StringIO()
    progress = SweepProgress(len(jobs), Console(file=out, width=120))
    results = run_sweep(jobs, tmp_path / "run", LocalExecutor(2), {"name": "t"}, progress)
    assert [r.status for r in results] == ["complete", "complete"]
    calls = [c for d in episode_dirs(tmp_path / "run") for c in read_calls(d)]
    timeouts = sum(is_timeout(c["error"]) for c in calls)
    assert 0 < timeouts < sum(c["error"] is not None for c in calls)
    Console(file=out, width=120).print(progress.summary())
    (row,) = [line for line in out.getvalue().splitlines() if "timed-out calls" in line]
    assert f"{timeouts} / {len(calls)}" in row
    warning = progress.warning()
    assert warning is not None and f"timeouts {timeouts} of {len(calls)}" in warning


def test_the_warning_line_reaches_report_html(troubled_run: Path, tmp_path: Path, capsys) -> None:
    from traitors.cli import main

    out = tmp_path / "report"
    assert main(["analyze", str(troubled_run), "--metrics", "validity", "--out", str(out)]) == 0
    (line,) = [n for n in capsys.readouterr().out.splitlines() if n.startswith("validity warning")]
    assert "failed calls" in line
    report = (out / "report.html").read_text()
    assert "validity warning: " in report and "failed calls" in report
    assert report.index("validity warning") < report.index("<h2>")  # with the notes, on top


def test_the_sweep_summary_shows_cached_tokens_their_share_and_saving() -> None:
    progress = SweepProgress(2, Console(file=io.StringIO(), width=120))
    usage = {"calls": 4, "prompt_tokens": 4000, "cached_tokens": 3000, "cache_saving": 0.25}
    for name in ("a", "b"):
        progress.finish(JobResult(name, "complete", usage=usage, outcome="draw"), final=True)
    out = io.StringIO()
    Console(file=out, width=120).print(progress.summary())
    (row,) = [line for line in out.getvalue().splitlines() if "cached prompt tokens" in line]
    assert "6000 (75%) ($0.5000)" in row
