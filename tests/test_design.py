"""Sweep designs (balanced model x role x seat), stopping rules and the planner."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path

import pytest

from analysis.planning import episodes_for_rate, seeds_for_difference, wilson_width, z_for
from traitors.cli import main
from traitors.episode.spec import SpecError
from traitors.store.journal import read_journal
from traitors.sweep.design import NAME_POOL, DesignSpec
from traitors.sweep.design_view import seat_models
from traitors.sweep.jobs import Job
from traitors.sweep.spec import load_sweep
from traitors.sweep.stopping import StopSpec, wilson

ROOT = Path(__file__).resolve().parent.parent


def write_sweep(tmp_path: Path, body: str, scenario: str = "the_traitors") -> Path:
    path = tmp_path / "sweep.yaml"
    base = ROOT / "scenarios" / f"{scenario}.yaml"
    path.write_text(f"name: test\nbase: {base}\n" + body)
    return path


DESIGN = """
set: {rules.n_players: 7, rules.n_traitors: 2, rules.max_rounds: 3}
design:
  models: [heuristic, random, fake/random]
  balance: roles
  shuffle_names: true
episodes: 4
"""


def jobs_of(path: Path) -> list[Job]:
    return [Job.of(e) for e in load_sweep(path)[1]]


SEATS_OF = {
    "the_traitors": "rules.n_players: 7, rules.n_traitors: 2, rules.max_rounds: 3",
    "werewolf": "rules.n_players: 7, rules.n_werewolves: 2",
    "avalon": "rules.n_players: 7",
}


@pytest.mark.parametrize("scenario", sorted(SEATS_OF))
def test_a_balanced_design_gives_every_model_every_role_and_seat_equally(
    tmp_path: Path, scenario: str
) -> None:
    body = DESIGN.replace(SEATS_OF["the_traitors"], SEATS_OF[scenario])
    jobs = jobs_of(write_sweep(tmp_path, body, scenario))
    assert len(jobs) == 4 * 3  # 4 seeds x a block of 3 (one row per model)
    by_role: Counter[tuple[str, str]] = Counter()
    by_seat: Counter[tuple[str, int]] = Counter()
    for job in jobs:
        for position, (model, role) in enumerate(seat_models(job)):
            by_role[model, role] += 1
            by_seat[model, position] += 1
    models = {"heuristic", "random", "fake/random"}
    roles = {role for _, role in by_role}
    for role in roles:  # exactly equal, role by role
        assert {by_role[m, role] for m in models} == {by_role["heuristic", role]}
    assert set(by_seat.values()) == {4}  # each model once per seat per seed
    # Paired: a seed's block deals the same roles to the same positions.
    for seed in range(4):
        block = [j for j in jobs if j.seed == seed]
        assert len({tuple(r for _, r in seat_models(j)) for j in block}) == 1
        assert len({j.spec.players for j in block}) == 1


def test_names_are_shuffled_per_seed_from_the_pool(tmp_path: Path) -> None:
    jobs = jobs_of(write_sweep(tmp_path, DESIGN))
    names = {job.spec.players for job in jobs}
    assert len(names) == 4  # one draw per seed
    assert all(set(n) <= set(NAME_POOL) and len(set(n)) == 7 for n in names if n)
    alice = Counter(
        seat_models(job)[job.spec.players.index("Alice")][0]  # type: ignore[union-attr]
        for job in jobs
        if job.spec.players and "Alice" in job.spec.players
    )
    assert len(alice) != 1 or sum(alice.values()) < 3  # no model is always Alice


def test_mirror_swaps_the_models_and_does_not_repeat_an_assignment() -> None:
    design = DesignSpec(models=("a", "b"), mirror=True)
    assert design.rows(4) == [("a", "b", "a", "b"), ("b", "a", "b", "a")]
    both = DesignSpec(models=("a", "b"), balance="roles", mirror=True)
    assert both.rows(3) == [("a", "b", "a"), ("b", "a", "b")]  # the mirror adds nothing
    three = DesignSpec(models=("a", "b", "c"), balance="roles", mirror=True)
    assert len(three.rows(4)) == 6 == three.largest_block()


def test_the_dry_run_shows_the_design_counts(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    path = write_sweep(tmp_path, DESIGN)
    assert main(["sweep", str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "seats played per model" in out
    assert "games per model and seat position" in out
    assert "seat 7" in out and "fake/random" in out


MODEL_FREE_DESIGN = """
set: {rules.n_players: 6, rules.n_traitors: 2, rules.max_rounds: 3,
      agents.default.policy: llm, agents.default.model: openai/no-price-for-this-model,
      agents.default.api_base: "http://127.0.0.1:9/v1"}
design:
  models: [heuristic, random]
  balance: roles
  shuffle_names: true
episodes: 3
"""


MIXED_DESIGN = """
set: {rules.n_players: 6, rules.n_traitors: 2, rules.max_rounds: 3,
      agents.default.policy: llm, agents.default.model: openai/gpt-4o-mini}
design: {models: [heuristic, fake/random], balance: roles}
episodes: 3
"""


def test_a_design_of_model_free_policies_over_an_llm_base_calls_no_model(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    from traitors.commands.run import estimates
    from traitors.sweep.driver import JobQueue
    from traitors.sweep.ray_executor import RayExecutor, calls_models

    path = write_sweep(tmp_path, MODEL_FREE_DESIGN)
    jobs = jobs_of(path)
    assert len(jobs) == 6 and not any(calls_models(job) for job in jobs)
    assert estimates(jobs) == {}  # nothing to estimate, no price needed
    queue = JobQueue(jobs, lambda job: None)
    assert len(RayExecutor(batch=4)._next_batch(queue)) == 4  # scripted: batched
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["sweep", str(path), "--dry-run"]) == 0
    assert "calls/ep" not in capsys.readouterr().out
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--max-cost", "0.01", "--out", str(out)]) == 0
    assert not list(out.glob("*/calls.jsonl"))
    # a design naming a model does call one, on every row
    mixed = write_sweep(tmp_path, MIXED_DESIGN)
    assert all(calls_models(job) for job in jobs_of(mixed))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("design: {models: [heuristic, heuristic]}\n", "named twice"),
        ("design: {models: [llm, heuristic]}\n", "not a model"),
        ("design: {models: [heuristic]}\n", "at least 2"),
        ("design: {models: [heuristic, random], balance: seats}\n", "balance"),
        ("set: {agents.Alice.policy: random}\ndesign: {models: [heuristic, random]}\n", "Alice"),
        ("design: {models: [heuristic, 'nonsense']}\n", "nonsense"),
        ("stop: {ci_width: 0.2, max_episodes: 10}\nepisodes: 3\n", "not both"),
        ("stop: {ci_width: 2, max_episodes: 10}\n", "ci_width"),
    ],
)
def test_bad_designs_and_stop_rules_are_one_clear_line(
    tmp_path: Path, body: str, message: str
) -> None:
    with pytest.raises(SpecError, match=message) as caught:
        load_sweep(write_sweep(tmp_path, body))
    assert "\n" not in str(caught.value)


def test_an_unknown_stop_faction_is_refused(tmp_path: Path, capsys) -> None:
    path = write_sweep(tmp_path, "stop: {ci_width: 0.3, max_episodes: 10, faction: wolves}\n")
    assert main(["sweep", str(path), "--out", str(tmp_path / "run")]) == 2
    assert "wolves" in capsys.readouterr().err


@pytest.mark.slow
def test_a_stop_rule_stops_each_cell_once_its_interval_is_narrow(tmp_path: Path, capsys) -> None:
    stop = StopSpec(ci_width=0.45, max_episodes=200, check_every=10)
    path = write_sweep(
        tmp_path,
        "set: {rules.n_players: 5, rules.n_traitors: 1, rules.max_rounds: 3}\n"
        "grid: {agents.default.policy: [heuristic, random]}\n"
        f"stop: {json.dumps(stop.model_dump(exclude_defaults=True))}\n",
    )
    out = tmp_path / "run"
    assert main(["sweep", str(path), "--out", str(out), "--concurrency", "1"]) == 0
    text = capsys.readouterr().out
    assert "Bonferroni" in text
    entries = read_journal(out)
    done = [e for e in entries.values() if e.status == "complete"]
    assert 20 <= len(done) < 400  # stopped well before max_episodes in both cells
    jobs = jobs_of(path)
    for cell in (0, 1):
        outcomes = [
            entries[j.episode_id].outcome
            for j in jobs
            if j.cell == cell and entries[j.episode_id].status == "complete"
        ]
        wins = sum(o == "traitors" for o in outcomes)
        low, high = wilson(wins, len(outcomes), stop.z())
        assert high - low <= stop.ci_width  # it stopped with its interval narrow enough
        assert len(outcomes) % stop.check_every == 0  # at a look (one episode at a time)
        earlier = wilson(
            sum(o == "traitors" for o in outcomes[: -stop.check_every]),
            len(outcomes) - stop.check_every,
            stop.z(),
        )
        assert earlier[1] - earlier[0] > stop.ci_width or len(outcomes) == stop.check_every
    # Resuming plays nothing more: the journal's outcomes count again.
    assert main(["sweep", str(path), "--out", str(out), "--concurrency", "1"]) == 0
    assert sum(e.status == "complete" for e in read_journal(out).values()) == len(done)


def test_the_looks_spend_the_error_by_bonferroni() -> None:
    stop = StopSpec(ci_width=0.1, max_episodes=100, check_every=10, alpha=0.05)
    assert stop.looks() == 10
    assert stop.z() == pytest.approx(z_for(0.005))
    assert stop.z() > z_for(0.05)


def test_the_planner_matches_the_wilson_formula() -> None:
    z = z_for(0.05)
    for p, width in ((0.5, 0.1), (0.2, 0.05), (0.9, 0.2), (0.01, 0.05)):
        n = episodes_for_rate(p, width, z)
        assert wilson_width(p, n, z) <= width < wilson_width(p, n - 1, z)
        # The Wilson width by hand, at p = 0.5: 2 z sqrt(n/4 + z^2/4) / (n + z^2).
    n = episodes_for_rate(0.5, 0.1, z)
    by_hand = 2 * z * math.sqrt(n / 4 + z * z / 4) / (n + z * z)
    assert wilson_width(0.5, n, z) == pytest.approx(by_hand)
    assert n == 381  # the textbook ~ z^2 / width^2 = 384, less Wilson's z^2 shrinkage


def test_the_pair_planner_follows_the_normal_formula() -> None:
    z = z_for(0.05)
    seeds = seeds_for_difference((0.5, 0.5), (1.0, 1.0), 0.1, z)
    assert seeds == math.ceil(4 * z * z * 0.5 / 0.01)
    fewer = seeds_for_difference((0.5, 0.5), (2.0, 2.0), 0.1, z)
    assert fewer == math.ceil(seeds / 2) or fewer == seeds // 2 + 1


@pytest.mark.slow
def test_plan_prints_cells_and_pairs_from_the_worst_case_and_a_pilot(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    path = write_sweep(tmp_path, DESIGN.replace("episodes: 4", "episodes: 2"))
    assert main(["plan", str(path), "--ci-width", "0.1"]) == 0
    out = capsys.readouterr().out
    assert "381" in out and "worst case" in out
    assert "deception" in out and "detection" in out and "heuristic - random" in out
    pilot = tmp_path / "pilot"
    assert main(["sweep", str(path), "--out", str(pilot)]) == 0
    capsys.readouterr()
    assert main(["plan", str(path), "--ci-width", "0.1", "--pilot", str(pilot)]) == 0
    assert f"rates from {pilot}" in capsys.readouterr().out
    assert main(["plan", str(path), "--ci-width", "3"]) == 2
    assert main(["plan", str(path), "--pilot", str(tmp_path / "nowhere")]) == 2
    assert "no such directory" in capsys.readouterr().err
