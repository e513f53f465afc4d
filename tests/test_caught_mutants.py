"""Tests written for mutants that lived (scripts/mutation.sh): what a seat saw, rebuilt from
the log; the masking of a key's runs at either end of a text; the place of a YAML error; a
budget's edge and what it learns from finished episodes."""

from __future__ import annotations

import asyncio
import json

import pytest
from conftest import TRAITORS_YAML
from test_journal import sweep_jobs_stub

from traitors.episode.spec import load_spec
from traitors.game.events import (
    GOD_ONLY,
    Channel,
    Direct,
    LogChannels,
    Private,
    RoleEvent,
    SpeakEvent,
    audience,
    player_view,
)
from traitors.llm import CallLog, ModelRequest
from traitors.llm.gateway import redact
from traitors.sweep.budget import Budget, Spend
from traitors.sweep.estimate import DryGateway, estimate
from traitors.sweep.jobs import JobResult
from traitors.util.specfile import SpecError, parse_yaml

LOG = [
    RoleEvent(round=0, phase="setup", player="Ann", role="traitor", channels=("traitors",),
              visibility=Private(agent="Ann")),
    RoleEvent(round=0, phase="setup", player="Bob", role="faithful",
              visibility=Private(agent="Bob")),
    SpeakEvent(round=1, phase="conclave", actor="Ann", text="Bob next.",
               visibility=Channel(name="traitors")),
    RoleEvent(round=2, phase="recruit", player="Bob", role="traitor", channels=("traitors",),
              visibility=Private(agent="Bob")),
    RoleEvent(round=2, phase="banish", player="Ann", role="banished",
              visibility=Private(agent="Ann")),
    SpeakEvent(round=2, phase="conclave", actor="Bob", text="Alone now.",
               visibility=Channel(name="traitors")),
    SpeakEvent(round=2, phase="discussion", actor="Bob", text="Hello all."),
    SpeakEvent(round=2, phase="whisper", actor="Bob", text="Psst, Cat.",
               visibility=Direct(recipients=("Cat",))),
]  # fmt: skip


def texts(agent: str) -> list[str]:
    """What ``agent`` saw: each speech's text, each role event as ``role:<role>``."""
    seen = player_view(LOG, agent)
    return [getattr(e, "text", f"{e.kind}:{getattr(e, 'role', '')}") for e in seen]


def test_a_seat_sees_a_channel_only_while_it_is_a_member() -> None:
    assert texts("Ann") == ["role:traitor", "Bob next.", "role:banished", "Hello all."]
    assert texts("Bob") == ["role:faithful", "role:traitor", "Alone now.", "Hello all."]
    assert texts("Cat") == ["Hello all.", "Psst, Cat."]


def test_the_log_rebuilds_channel_membership_as_it_was() -> None:
    members = LogChannels()
    for event in LOG[:4]:
        members.update(event)
    assert members.channels == {"traitors": frozenset({"Ann", "Bob"})}
    members.update(LOG[4])
    assert members.channels == {"traitors": frozenset({"Bob"})}
    assert audience(SpeakEvent(round=1, phase="x", text="-", visibility=GOD_ONLY), members) == ()


SECRET = "Zq8xK2pW7mN4vR9t"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (SECRET, "***"),
        (f"x{SECRET} tail", "x*** tail"),
        (f"ends in {SECRET[-4:]}", "ends in ***"),
        (f"{SECRET[:5]} and {SECRET[-6:]}!", "*** and ***!"),
        (f"{SECRET[:7]} tail", "*** tail"),
    ],
)
def test_a_key_s_runs_are_masked_at_either_end(
    monkeypatch: pytest.MonkeyPatch, text: str, shown: str
) -> None:
    monkeypatch.setenv("TRAITORS_TEST_API_KEY", SECRET)
    assert redact(text) == shown


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a: b: c", "mapping values are not allowed here (line 1, column 5)"),
        ("name: [x\n", "expected ',' or ']', but got '<stream end>' (line 2, column 1)"),
        ("a: \x07", "unacceptable character #x0007: special characters are not allowed in "
                    '"<unicode string>", position 3'),
    ],
)  # fmt: skip
def test_a_yaml_error_says_what_and_where_on_one_line(text: str, problem: str) -> None:
    with pytest.raises(SpecError) as error:
        parse_yaml(text, "f.yaml")
    assert str(error.value) == f"f.yaml: not valid YAML: {problem}"


def test_a_budget_admits_up_to_its_limit_exactly() -> None:
    jobs = sweep_jobs_stub(3)
    cost = Budget(max_cost=1.0, max_tokens=None, estimate=lambda job: Spend(0.5, 0))
    tokens = Budget(max_cost=None, max_tokens=100, estimate=lambda job: Spend(0, 50))
    for budget in (cost, tokens):
        budget.started(jobs[0])
        assert budget.admit(jobs[1])  # 0.5 + 0.5 is within 1.0; 50 + 50 within 100
        budget.started(jobs[1])
        assert not budget.admit(jobs[2])


def test_a_budget_learns_each_cell_s_mean_and_forgets_what_finished() -> None:
    jobs = sweep_jobs_stub(3)
    budget = Budget(max_cost=10.0, max_tokens=None, estimate=lambda job: Spend(9, 9))
    budget.started(jobs[0])
    budget.started(jobs[1])
    usage = {"prompt_tokens": 100, "completion_tokens": 50}
    budget.finished(JobResult(jobs[0].episode_id, "complete", usage={**usage, "cost": 0.2}))
    budget.finished(JobResult(jobs[1].episode_id, "complete", usage={"completion_tokens": 350}))
    assert budget.running == {}
    assert budget.spent == Spend(0.2, 500)  # no cost given: none spent
    assert budget.expected(jobs[2]) == Spend(0.1, 250)
    budget.finished(JobResult("never-started", "skipped"))  # nothing to forget: no error
    assert budget.spent == Spend(0.2, 500)


def test_the_dry_gateway_counts_four_characters_a_token_and_replies_at_max_tokens() -> None:
    gateway = DryGateway()
    messages = (
        {"role": "system", "content": "Rules here"},
        {"role": "user", "content": "Your vote"},
    )
    request = ModelRequest(model="fake/random", messages=messages, max_tokens=40)
    for _ in range(2):
        asyncio.run(gateway.complete(request, agent="A", log=CallLog()))
    assert dict(gateway.tokens) == {"fake/random": [2 * 5, 2 * 40]}  # 20 characters a prompt


def test_the_dry_gateway_replies_in_the_schema_asked_for() -> None:
    schema = {"type": "object", "properties": {"vote": {"enum": ["Zorblax"]}}, "required": ["vote"]}
    form = {"type": "json_schema", "json_schema": {"name": "d", "schema": schema}}
    messages = ({"role": "user", "content": "Your vote"},)
    request = ModelRequest(model="fake/random", messages=messages, response_format=form)
    response = asyncio.run(DryGateway().complete(request, agent="A", log=CallLog()))
    assert json.loads(response.text or "") == {"vote": "Zorblax"}


TWO_PRICES = (
    "agents.default.policy=llm",
    "agents.default.model=fake/random?price=0.01",
    "agents.traitor.policy=llm",
    "agents.traitor.model=fake/random?price=0.03",
    "rules.n_players=5",
    "rules.n_traitors=1",
    "rules.max_rounds=2",
)


def test_the_estimate_averages_its_samples_and_prices_each_model() -> None:
    spec = load_spec(TRAITORS_YAML, TWO_PRICES)
    three = estimate(spec, samples=3)
    ones = [estimate(spec.model_copy(update={"seed": spec.seed + i}), samples=1) for i in range(3)]
    for field in ("calls", "prompt_tokens", "completion_tokens", "cost"):
        mean = sum(getattr(one, field) for one in ones) / 3
        assert getattr(three, field) == pytest.approx(mean), field
    assert len({one.prompt_tokens for one in ones}) > 1  # the samples differ: each counts
    for one in ones:  # both models priced: between the cheaper and the dearer price
        assert 0.01 * one.tokens / 1000 < (one.cost or 0.0) < 0.03 * one.tokens / 1000


def test_the_estimate_of_a_free_model_costs_nothing_and_of_an_unpriced_one_is_unknown() -> None:
    free = load_spec(TRAITORS_YAML, [*TWO_PRICES[:1], "agents.default.model=fake/random"])
    assert estimate(free, samples=1).cost == 0.0
    unpriced = load_spec(
        TRAITORS_YAML,
        [
            *TWO_PRICES[:1],
            "agents.default.model=openai/no-such-model-anywhere",
            "agents.default.api_base=http://127.0.0.1:9/v1",
        ],
    )
    found = estimate(unpriced, samples=1)
    assert found.cost is None and found.unknown == ("openai/no-such-model-anywhere",)


def test_a_budget_learns_from_complete_and_failed_episodes_only() -> None:
    jobs = sweep_jobs_stub(4)
    budget = Budget(max_cost=10.0, max_tokens=None, estimate=lambda job: Spend(9, 9))
    for job in jobs[:3]:
        budget.started(job)
    budget.finished(JobResult(jobs[0].episode_id, "interrupted", usage={"cost": 5.0}))
    assert budget.expected(jobs[3]) == Spend(9, 9)  # a cut-off episode teaches nothing
    budget.finished(JobResult(jobs[1].episode_id, "failed", usage={"cost": 0.5}))
    budget.finished(JobResult(jobs[2].episode_id, "complete", usage={"cost": 0.1}))
    assert budget.expected(jobs[3]) == Spend(0.3, 0)
