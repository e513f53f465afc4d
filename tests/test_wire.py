"""Wire-level provider tests: requests go through litellm's own provider code (OpenAI chat
completions, Anthropic Messages, Gemini generateContent) to a simulator on loopback
(``tests/provider_sim.py``), with dummy keys. Each case ends as documented: a valid action, a
repaired one, a counted default, or a degraded episode; the call records and the manifest say
which, and ``traitors replay`` of the episode needs no server.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Callable, Iterator
from email.utils import formatdate
from pathlib import Path
from typing import Any

import litellm
import pytest
from conftest import NetworkBlocked
from provider_sim import Failure as Fail
from provider_sim import ProviderSim, SimRequest, Step, Turn, filled

from traitors.cli import main
from traitors.episode.spec import ScenarioSpec, load_spec
from traitors.game.events import InvalidActionEvent, Private, ReasoningEvent
from traitors.llm import CallLog, Gateway, ModelRequest, ModelResponse
from traitors.store.calls import CallRecord
from traitors.store.log import CALLS, read_episode
from traitors.sweep.episodes import EpisodeSummary, run_episodes

KEYS = {
    "OPENAI_API_KEY": "sk-Zq8w3TuV0aL9mK2pXy",
    "ANTHROPIC_API_KEY": "sk-ant-Qw7rT2yU9pL4kJ6h",
    "GEMINI_API_KEY": "AIzaXk3mN8bV5cQ1wE7r",
}
"""Dummy keys, random-looking so that redaction (which masks any 4 characters of a key) does
not touch replies."""
OPENAI = "openai/gpt-4o-mini"
ANTHROPIC = "anthropic/claude-haiku-4-5"
"""A current Claude: litellm asks it for JSON with Anthropic's native ``output_format``."""
ANTHROPIC_TOOL = "anthropic/claude-sonnet-4-20250514"
"""A Claude litellm asks for JSON through a forced tool call (its ``json_tool_call``)."""
GEMINI = "gemini/gemini-2.5-flash"
MODELS = (OPENAI, ANTHROPIC, GEMINI)
SCHEMA = {
    "type": "object",
    "properties": {"vote": {"enum": ["Ann", "Bob"]}, "reasoning": {"type": "string"}},
    "required": ["vote", "reasoning"],
    "additionalProperties": False,
}
JSON_SCHEMA = {
    "type": "json_schema",
    "json_schema": {"name": "decision", "schema": SCHEMA, "strict": True},
}
SMALL = ["rules.n_players=5", "rules.n_traitors=1", "rules.max_rounds=1"]


@pytest.fixture(scope="module", autouse=True)
def warm() -> None:
    """litellm's first call to each provider imports and builds its clients (seconds, in the
    event loop): done once here, so the timings below are the simulator's."""
    sim = ProviderSim().start()
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name, value in KEYS.items():
                patch.setenv(name, value)
            for model in (*MODELS, ANTHROPIC_TOOL):
                asyncio.run(
                    Gateway(timeout=120).complete(ask(sim, model), agent="w", log=CallLog())
                )
    finally:
        sim.stop()


@pytest.fixture
def sim(monkeypatch: pytest.MonkeyPatch) -> Iterator[ProviderSim]:
    """A fresh simulator with dummy keys in the environment; stopped after the test."""
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    server = ProviderSim().start()
    yield server
    server.stop()


def ask(
    sim: ProviderSim, model: str, messages: tuple[dict[str, str], ...] | None = None, **options: Any
) -> ModelRequest:
    return ModelRequest(
        model=model,
        messages=messages
        or ({"role": "system", "content": "The rules."}, {"role": "user", "content": "Vote."}),
        temperature=0.3,
        max_tokens=64,
        seed=7,
        response_format=JSON_SCHEMA,
        api_base=sim.base_for(model),
        **options,
    )


def complete(
    request: ModelRequest, gateway: Gateway | None = None
) -> tuple[CallRecord, ModelResponse, CallLog]:
    """One call through the gateway: its record, its response and the log."""
    log = CallLog()
    records: list[CallRecord] = []
    add = log.add

    def keep(record: CallRecord) -> None:
        records.append(record)
        add(record)

    log.add = keep  # type: ignore[method-assign]
    gateway = gateway or Gateway(backoff=0.001, max_backoff=0.01, max_attempts=2, timeout=10)
    response = asyncio.run(gateway.complete(request, agent="A", log=log))
    (record,) = records
    return record, response, log


# --- one call: what reaches the wire and what is recorded ----------------------------------


@pytest.mark.parametrize("model", [*MODELS, ANTHROPIC_TOOL])
def test_structured_output_reaches_each_provider_in_its_own_form(
    sim: ProviderSim, model: str
) -> None:
    record, response, _ = complete(ask(sim, model))
    (sent,) = sim.requests
    body = sent.body
    if model == OPENAI:
        assert sent.path == "/v1/chat/completions" and body["response_format"] == JSON_SCHEMA
        assert body["messages"][0] == {"role": "system", "content": "The rules."}
        assert (body["temperature"], body["max_tokens"], body["seed"]) == (0.3, 64, 7)
    elif model == ANTHROPIC:
        assert sent.path == "/v1/messages" and "tools" not in body
        assert body["output_format"] == {"type": "json_schema", "schema": SCHEMA}
    elif model == ANTHROPIC_TOOL:
        (tool,) = body["tools"]
        assert tool["name"] == "json_tool_call" and tool["input_schema"] == SCHEMA
        assert body["tool_choice"] == {"name": "json_tool_call", "type": "tool"}
    else:
        assert sent.path == "/v1beta/models/gemini-2.5-flash:generateContent"
        config = body["generationConfig"]
        assert config["response_mime_type"] == "application/json"
        assert config["response_json_schema"] == SCHEMA
        assert body["system_instruction"] == {"parts": [{"text": "The rules."}]}
    if model in (ANTHROPIC, ANTHROPIC_TOOL):
        assert "seed" not in body and body["temperature"] == 0.3  # Anthropic takes no seed
    assert record.error is None and record.attempts == 1
    assert response.text == record.text == filled(sent)  # the tool's input became the text
    assert json.loads(record.text or "")["vote"] in ("Ann", "Bob")


@pytest.mark.parametrize("model", MODELS)
def test_cached_and_reasoning_tokens_are_counted_and_priced_at_the_providers_rates(
    sim: ProviderSim, model: str
) -> None:
    writes = 100 if model == ANTHROPIC else 0
    reasoning = 0 if model == ANTHROPIC else 200  # Anthropic reports no thinking tokens
    sim.reply(
        Turn(
            prompt_tokens=2000,
            completion_tokens=300,
            cached_tokens=1500,
            cache_write_tokens=writes,
            reasoning_tokens=reasoning,
        )
    )
    record, _, log = complete(ask(sim, model))
    usage = record.usage
    assert (usage.prompt_tokens, usage.completion_tokens) == (2000, 300)
    assert (usage.cached_tokens, usage.cache_write_tokens) == (1500, writes)
    assert usage.reasoning_tokens == reasoning
    price = litellm.model_cost[model.split("/", 1)[1]]
    fresh = 2000 - 1500 - writes
    expected = (
        fresh * price["input_cost_per_token"]
        + 1500 * price["cache_read_input_token_cost"]
        + writes * price.get("cache_creation_input_token_cost", 0.0)
        + 300 * price["output_cost_per_token"]
    )
    assert record.cost == pytest.approx(expected, rel=1e-9)
    uncached = 2000 * price["input_cost_per_token"] + 300 * price["output_cost_per_token"]
    assert record.cost < uncached
    assert log.totals["cached_tokens"] == 1500 and log.totals["reasoning_tokens"] == reasoning
    line = json.loads(record.to_json())
    assert line["usage"]["cached_tokens"] == 1500


def test_a_call_without_cache_or_thinking_is_recorded_as_before(sim: ProviderSim) -> None:
    record, _, _ = complete(ask(sim, OPENAI))
    line = json.loads(record.to_json())
    assert set(line["usage"]) == {"prompt_tokens", "completion_tokens"}
    later = {"error_kind", "reasoning", "finish_reason", "refusal"}
    assert not later & set(line)


@pytest.mark.parametrize(
    ("model", "options"),
    [
        (ANTHROPIC, {"thinking_budget": 2048}),
        (ANTHROPIC_TOOL, {"reasoning_effort": "high"}),
        (GEMINI, {"thinking_budget": 512}),
        ("openai/o3-mini", {"reasoning_effort": "low"}),  # reasoning_content: OpenAI-compatible
    ],
)
def test_a_models_thinking_is_asked_for_in_its_providers_terms_and_recorded(
    sim: ProviderSim, model: str, options: dict[str, Any]
) -> None:
    thought = "Ann voted against her ally; she may be bluffing."
    sim.reply(Turn(thinking=thought, reasoning_tokens=40))
    record, response, _ = complete(ask(sim, model, **options))
    body = sim.requests[0].body
    if model == ANTHROPIC:
        assert body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
        assert body["max_tokens"] == 64 + 2048 and "temperature" not in body
    elif model == ANTHROPIC_TOOL:
        assert body["thinking"] == {"type": "enabled", "budget_tokens": 4096}  # litellm's high
        assert body["max_tokens"] == 64 + 4096 and "temperature" not in body
        assert "tool_choice" not in body  # a thinking Claude may not be forced to use a tool
    elif model == GEMINI:
        config = body["generationConfig"]
        assert config["thinkingConfig"] == {"includeThoughts": True, "thinkingBudget": 512}
        assert config["temperature"] == 0.3
    else:
        assert body["reasoning_effort"] == "low" and body["max_completion_tokens"] == 64
        assert "temperature" not in body  # o-series take only the default
    assert record.reasoning == response.reasoning == thought
    assert record.params == {**ask(sim, model).params(), **options}  # what the agent asked
    assert record.usage.reasoning_tokens > 0
    assert json.loads(record.text or "")["vote"] in ("Ann", "Bob")  # the thought is not the text


def test_anthropic_gets_cache_breakpoints_and_the_others_none(sim: ProviderSim) -> None:
    messages = (
        {"role": "system", "content": "The rules."},
        {"role": "user", "content": "The game so far."},
        {"role": "assistant", "content": "Noted."},
        {"role": "user", "content": "Vote."},
    )
    for model in MODELS:
        complete(ask(sim, model, messages, stable_messages=2))
    anthropic_body = sim.requests[1].body
    breakpoint = {"type": "ephemeral"}
    assert anthropic_body["system"] == [
        {"type": "text", "text": "The rules.", "cache_control": breakpoint}
    ]
    first, second, last = anthropic_body["messages"]
    assert first["content"] == [
        {"type": "text", "text": "The game so far.", "cache_control": breakpoint}
    ]
    assert "cache_control" not in json.dumps([second, last])
    assert "cache_control" not in json.dumps([sim.requests[0].body, sim.requests[2].body])


# --- errors by kind -------------------------------------------------------------------------

CONTEXT = {
    OPENAI: Fail(400, "This model's maximum context length is 128000 tokens. However, your "
                 "messages resulted in 200000 tokens.", code="context_length_exceeded"),
    ANTHROPIC: Fail(400, "prompt is too long: 210000 tokens > 200000 maximum"),
    GEMINI: Fail(400, "The input token count (2000000) exceeds the maximum number of tokens "
                 "allowed (1048576)."),
}  # fmt: skip
ERRORS: list[tuple[str, Fail, str]] = [
    *[(model, Fail(401, "invalid key"), "auth") for model in MODELS],
    (GEMINI, Fail(400, "API key not valid. Please pass a valid API key."), "auth"),
    *[(model, Fail(403, "not allowed"), "permission") for model in MODELS],
    *[(model, Fail(404, "no such model", code="model_not_found"), "not_found") for model in MODELS],
    *[(model, Fail(400, "messages: bad shape"), "bad_request") for model in MODELS],
    *[(model, failure, "context_length") for model, failure in CONTEXT.items()],
    (OPENAI, Fail(400, "Your request was rejected as a result of our safety system.",
                  code="content_policy_violation"), "content_policy"),
    *[(model, Fail(429, "slow down"), "rate_limit") for model in MODELS],
    *[(model, Fail(500, "oops"), "transient") for model in MODELS],
    *[(model, Fail(503, "overloaded"), "transient") for model in MODELS],
    (ANTHROPIC, Fail(529, "overloaded"), "transient"),
]  # fmt: skip
RETRIED = {"rate_limit", "timeout", "transient"}


@pytest.mark.parametrize(
    ("model", "failure", "kind"),
    ERRORS,
    ids=[f"{m.split('/')[0]}-{f.status}-{k}" for m, f, k in ERRORS],
)
def test_each_error_is_named_by_kind_and_only_transient_ones_are_retried(
    sim: ProviderSim, model: str, failure: Fail, kind: str
) -> None:
    sim.respond = lambda request: failure
    record, response, log = complete(ask(sim, model))
    attempts = 2 if kind in RETRIED else 1
    assert record.error_kind == kind and record.text is None and response.error
    assert record.attempts == attempts == len(sim.requests)
    assert log.failed_kinds == {kind: 1}
    assert json.loads(record.to_json())["error_kind"] == kind


@pytest.mark.parametrize("retry_after", ["1", "date"], ids=["seconds", "http-date"])
@pytest.mark.slow
def test_a_rate_limit_waits_as_long_as_retry_after_asks(sim: ProviderSim, retry_after: str) -> None:
    asked = formatdate(time.time() + 2, usegmt=True) if retry_after == "date" else retry_after
    sim.reply(Fail(429, "slow down", retry_after=asked), Turn())
    started = time.perf_counter()
    gateway = Gateway(backoff=0.001, max_backoff=5.0, max_attempts=2, timeout=10)
    record, _, _ = complete(ask(sim, OPENAI), gateway)
    waited = time.perf_counter() - started
    assert record.error is None and record.attempts == 2 and len(sim.requests) == 2
    assert 0.95 <= waited < 4.0  # not the 1-2 ms backoff: the provider's word (a date: 1-2 s)


def test_a_long_retry_after_is_capped_by_the_gateway(sim: ProviderSim) -> None:
    sim.reply(Fail(429, "slow down", retry_after="3600"), Turn())
    started = time.perf_counter()
    gateway = Gateway(backoff=0.001, max_backoff=0.2, max_attempts=2, timeout=10)
    record, _, _ = complete(ask(sim, ANTHROPIC), gateway)
    assert record.error is None and record.attempts == 2
    assert time.perf_counter() - started < 2.0


@pytest.mark.slow
def test_a_slow_reply_times_out_and_is_retried(sim: ProviderSim) -> None:
    gateway = Gateway(backoff=0.001, max_backoff=0.01, max_attempts=2, timeout=0.5)
    sim.reply(Turn(delay=5), Turn())
    started = time.perf_counter()
    record, _, _ = complete(ask(sim, GEMINI), gateway)
    assert record.error is None and record.attempts == 2
    sim.reply(Turn(delay=5), Turn(delay=5))
    record, _, _ = complete(ask(sim, GEMINI), gateway)
    assert record.error_kind == "timeout" and record.attempts == 2
    assert time.perf_counter() - started < 4.0  # three timeouts of 0.5 s, not 5 s replies


@pytest.mark.parametrize(
    ("model", "key"),
    [(OPENAI, "OPENAI_API_KEY"), (ANTHROPIC, "ANTHROPIC_API_KEY"), (GEMINI, "GEMINI_API_KEY")],
)
def test_a_missing_key_is_an_auth_error_and_nothing_is_sent(
    sim: ProviderSim, model: str, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(key)
    record, _, _ = complete(ask(sim, model))
    assert record.error_kind == "auth" and record.attempts == 1
    assert sim.requests == []  # litellm refused before sending


def test_the_guard_lets_tests_reach_the_simulator_and_nothing_else(sim: ProviderSim) -> None:
    port = int(sim.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
    for host in ("10.255.255.1", "provider.example.com", "127.example.com"):
        with pytest.raises(NetworkBlocked):
            socket.create_connection((host, 443), timeout=1)
    record, _, _ = complete(ask(sim, OPENAI).model_copy(update={"api_base": None}))
    assert "must not reach the network" in (record.error or "") and not sim.requests


def test_a_stopped_simulator_refuses_connections() -> None:
    sim = ProviderSim().start()
    url = sim.url
    sim.stop()
    sim.stop()  # idempotent
    port = int(url.rsplit(":", 1)[1])
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1)


def test_the_simulator_answers_a_bounded_number_of_requests(sim: ProviderSim) -> None:
    sim.max_requests = 2
    records = [complete(ask(sim, OPENAI))[0] for _ in range(3)]
    assert [r.error_kind for r in records] == [None, None, "bad_request"]


# --- whole episodes -------------------------------------------------------------------------


@pytest.fixture
def gateway(monkeypatch: pytest.MonkeyPatch) -> Gateway:
    """The runner's gateway: quick retries, and time for a Retry-After of a second."""
    fast = Gateway(backoff=0.001, max_backoff=2.0, max_attempts=4, timeout=10)
    monkeypatch.setattr("traitors.sweep.services._gateway", fast)
    return fast


def play(
    traitors_yaml: Path, tmp_path: Path, sim: ProviderSim, model: str, *extra: str
) -> EpisodeSummary:
    settings = [
        "agents.default.policy=llm",
        f"agents.default.model={model}",
        f"agents.default.api_base={sim.base_for(model)}",
        *SMALL,
        *extra,
    ]
    spec: ScenarioSpec = load_spec(traitors_yaml, settings)
    (summary,) = run_episodes(spec, [3], tmp_path)
    return summary


def records_of(directory: Path) -> list[CallRecord]:
    lines = (directory / CALLS).read_text().splitlines()
    return [CallRecord.model_validate_json(line) for line in lines]


def replays_without_the_server(sim: ProviderSim, directory: Path) -> bool:
    sim.stop()
    return main(["replay", str(directory)]) == 0


def is_vote(request: SimRequest) -> bool:
    schema = request.schema() or {}
    return "vote" in schema.get("properties", {})


def is_repair(request: SimRequest) -> bool:
    return "was not accepted" in request.last_user_text()


def seat_of(request: SimRequest) -> str | None:
    for seat in ("Alice", "Bob", "Carol", "Dave", "Erin"):
        if f"You are {seat}." in request.prompt:
            return seat
    return None


@pytest.mark.parametrize("model", [*MODELS, ANTHROPIC_TOOL])
def test_an_episode_plays_over_the_wire_and_replays_without_the_server(
    traitors_yaml: Path, tmp_path: Path, sim: ProviderSim, gateway: Gateway, model: str
) -> None:
    sim.respond = lambda request: Turn(prompt_tokens=1000, cached_tokens=600)
    summary = play(traitors_yaml, tmp_path, sim, model)
    manifest = summary.manifest
    records = records_of(summary.dir)
    assert manifest.status == "complete" and manifest.outcome is not None
    assert manifest.outcome.reason in ("round limit reached", "all traitors banished")
    assert records and all(r.error is None and r.attempts == 1 for r in records)
    assert len(sim.requests) == len(records) == manifest.usage["calls"]
    assert manifest.usage["cached_tokens"] == 600 * len(records)
    assert manifest.health_total.defaulted == manifest.health_total.repaired == 0
    assert replays_without_the_server(sim, summary.dir)


def malformed(text: str) -> Callable[[SimRequest], Step]:
    """Votes answered with ``text`` first; the repair turn gets a valid reply."""
    return lambda request: (
        Turn(text=text) if is_vote(request) and not is_repair(request) else Turn()
    )


@pytest.mark.parametrize(
    ("model", "bad"),
    [(ANTHROPIC, "{vote: Ann"), (OPENAI, ""), (GEMINI, "I vote for Bob.")],
    ids=["malformed-json", "empty-content", "prose"],
)
def test_a_malformed_or_empty_reply_is_repaired(
    traitors_yaml: Path, tmp_path: Path, sim: ProviderSim, gateway: Gateway, model: str, bad: str
) -> None:
    sim.respond = malformed(bad)
    summary = play(traitors_yaml, tmp_path, sim, model)
    manifest = summary.manifest
    records = records_of(summary.dir)
    repairs = [r for r in records if "was not accepted" in r.messages[-1]["content"]]
    assert repairs and all(r.messages[-2] == {"role": "assistant", "content": bad} for r in repairs)
    assert manifest.health_total.repaired == len(repairs) > 0
    assert manifest.health_total.defaulted == 0 and manifest.status == "complete"
    assert not [e for e in read_episode(summary.dir).events if isinstance(e, InvalidActionEvent)]
    assert replays_without_the_server(sim, summary.dir)


def cut_votes(request: SimRequest) -> Step:
    """A vote cut by max_tokens inside its last field (the reasoning)."""
    if not is_vote(request):
        return Turn()
    reply = json.loads(filled(request))
    reply.pop("reasoning", None)
    return Turn(text=json.dumps(reply)[:-1] + ', "reasoning": "Bob was quiet and', finish="length")


@pytest.mark.parametrize("model", [OPENAI, GEMINI])
def test_a_reply_cut_by_max_tokens_still_gives_a_valid_action(
    traitors_yaml: Path, tmp_path: Path, sim: ProviderSim, gateway: Gateway, model: str
) -> None:
    sim.respond = cut_votes
    summary = play(traitors_yaml, tmp_path, sim, model)
    cut = [r for r in records_of(summary.dir) if r.finish_reason == "length"]
    total = summary.manifest.health_total
    assert cut and all((r.text or "").endswith("quiet and") for r in cut)
    assert total.repaired == total.defaulted == 0 and summary.manifest.status == "complete"
    assert replays_without_the_server(sim, summary.dir)


@pytest.mark.parametrize(
    ("model", "finish"),
    [
        (OPENAI, "refusal"),
        (ANTHROPIC, "refusal"),
        (OPENAI, "content_filter"),
        (GEMINI, "content_filter"),
    ],
)
def test_a_refusal_or_a_content_filter_stop_is_a_counted_default(
    traitors_yaml: Path, tmp_path: Path, sim: ProviderSim, gateway: Gateway, model: str, finish: str
) -> None:
    asked: list[SimRequest] = []

    def refuse_alice(request: SimRequest) -> Step:
        """Alice's first vote and its repair turn are refused (a tie's re-vote is not)."""
        if is_vote(request) and seat_of(request) == "Alice":
            asked.append(request)
            if len(asked) <= 2:
                return Turn(finish=finish, text="")
        return Turn()

    sim.respond = refuse_alice
    summary = play(traitors_yaml, tmp_path, sim, model, "health.max_defaulted_share=0.5")
    manifest = summary.manifest
    refused = [r for r in records_of(summary.dir) if r.agent == "Alice" and r.text == ""]
    assert len(refused) == 2 and is_repair(asked[1])  # the vote and its repair turn
    if model == OPENAI and finish == "refusal":
        assert all(r.refusal == "I can't help with that." for r in refused)
    else:  # Anthropic's refusal stop, too, is a content filter to litellm
        assert all(r.finish_reason == "content_filter" for r in refused)
    invalid = [e for e in read_episode(summary.dir).events if isinstance(e, InvalidActionEvent)]
    assert [(e.actor, e.error) for e in invalid] == [("Alice", "reply holds no JSON object")]
    assert manifest.health["Alice"].defaulted == manifest.health_total.defaulted == 1
    assert manifest.status == "complete"  # within the spec's limit: counted, not degraded
    assert replays_without_the_server(sim, summary.dir)


@pytest.mark.parametrize(
    ("model", "failure", "kind", "attempts"),
    [
        (OPENAI, Fail(401, "invalid key"), "auth", 1),
        (ANTHROPIC, Fail(401, "invalid key"), "auth", 1),
        (GEMINI, Fail(401, "invalid key"), "auth", 1),
        (
            ANTHROPIC,
            Fail(400, "prompt is too long: 210000 tokens > 200000 maximum"),
            "context_length",
            1,
        ),
        (OPENAI, Fail(503, "overloaded"), "transient", 4),
        (GEMINI, Fail(429, "quota", retry_after="0"), "rate_limit", 4),
    ],
)
def test_a_failed_call_stops_the_episode_as_degraded_and_it_replays(
    traitors_yaml: Path,
    tmp_path: Path,
    sim: ProviderSim,
    gateway: Gateway,
    model: str,
    failure: Fail,
    kind: str,
    attempts: int,
) -> None:
    sim.respond = lambda request: failure
    summary = play(traitors_yaml, tmp_path, sim, model)
    manifest = summary.manifest
    (record,) = records_of(summary.dir)
    assert record.error_kind == kind and record.attempts == attempts == len(sim.requests)
    assert manifest.status == "degraded" and manifest.failed_kinds == {kind: 1}
    assert f"model calls failed (limit 0): {kind} 1" in (manifest.status_reason or "")
    assert manifest.outcome is not None and manifest.outcome.winner is None
    assert manifest.outcome.reason.startswith("stopped, cannot count: 1 of 1 model calls failed")
    assert manifest.health_total.calls == 1
    assert replays_without_the_server(sim, summary.dir)


def test_a_slow_provider_stops_the_episode_with_timeouts(
    traitors_yaml: Path, tmp_path: Path, sim: ProviderSim, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow = Gateway(backoff=0.001, max_backoff=0.01, max_attempts=2, timeout=0.3)
    monkeypatch.setattr("traitors.sweep.services._gateway", slow)
    sim.respond = lambda request: Turn(delay=5)
    started = time.perf_counter()
    summary = play(traitors_yaml, tmp_path, sim, OPENAI)
    assert time.perf_counter() - started < 4.0
    (record,) = records_of(summary.dir)
    assert record.error_kind == "timeout" and record.attempts == 2
    assert summary.manifest.status == "degraded"
    assert summary.manifest.failed_kinds == {"timeout": 1}
    assert replays_without_the_server(sim, summary.dir)


@pytest.mark.slow
def test_transient_failures_and_a_rate_limit_are_retried_and_the_game_goes_on(
    traitors_yaml: Path, tmp_path: Path, sim: ProviderSim, gateway: Gateway
) -> None:
    sim.reply(Fail(503, "overloaded"), Fail(500, "oops"), Fail(429, "slow", retry_after="1"))
    summary = play(traitors_yaml, tmp_path, sim, ANTHROPIC)
    first, *rest = records_of(summary.dir)
    assert first.error is None and first.attempts == 4 and first.latency_s >= 0.95
    assert all(r.attempts == 1 for r in rest)
    assert summary.manifest.status == "complete" and summary.manifest.failed_kinds == {}
    assert replays_without_the_server(sim, summary.dir)


def test_a_thinking_models_thoughts_are_its_own_private_reasoning(
    traitors_yaml: Path, tmp_path: Path, sim: ProviderSim, gateway: Gateway
) -> None:
    count = iter(range(10_000))
    sim.respond = lambda request: Turn(
        thinking=f"thought-{seat_of(request)}-{next(count)}", prompt_tokens=900, cached_tokens=800
    )
    summary = play(traitors_yaml, tmp_path, sim, ANTHROPIC, "agents.default.thinking_budget=1024")
    records = records_of(summary.dir)
    assert records and all((r.reasoning or "").startswith("thought-") for r in records)
    assert all(r.params["thinking_budget"] == 1024 for r in records)
    assert all(q.body["thinking"]["budget_tokens"] == 1024 for q in sim.requests)
    events = read_episode(summary.dir).events
    thoughts = [e for e in events if isinstance(e, ReasoningEvent)]
    assert thoughts and all(e.visibility == Private(agent=e.actor) for e in thoughts)
    assert all(e.text.startswith(f"thought-{e.actor}-") for e in thoughts)
    for record in records:  # no prompt shows anyone's thinking, its own seat's included
        assert "thought-" not in json.dumps(record.messages)
    assert summary.manifest.usage["reasoning_tokens"] > 0
    assert summary.manifest.usage["cached_tokens"] == 800 * len(records)
    assert replays_without_the_server(sim, summary.dir)


# --- sweeps ---------------------------------------------------------------------------------


def test_a_sweep_against_a_401_stops_after_three_episodes_with_one_line(
    tmp_path: Path, sim: ProviderSim, gateway: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    sim.respond = lambda request: Fail(401, "invalid api key")
    root = Path(__file__).resolve().parent.parent
    path, out = tmp_path / "sweep.yaml", tmp_path / "out"
    path.write_text(
        f"name: unauthorised\nbase: {root / 'scenarios' / 'the_traitors.yaml'}\n"
        "set: {agents.default.policy: llm, agents.default.model: " + OPENAI + ", "
        f"agents.default.api_base: '{sim.base_for(OPENAI)}', rules.n_players: 5, "
        "rules.n_traitors: 1, rules.max_rounds: 1}\nepisodes: 8\n"
    )
    assert main(["sweep", str(path), "--out", str(out), "--concurrency", "1"]) == 1
    printed = capsys.readouterr().out
    lines = [line for line in printed.splitlines() if line.startswith("circuit breaker")]
    assert len(lines) == 1 and OPENAI in lines[0] and "invalid api key" in lines[0]
    assert len(sim.requests) == 3  # one call per episode: an auth error is never retried
    episodes = [p for p in out.iterdir() if (p / "manifest.json").is_file()]
    assert len(episodes) == 3


def test_the_cached_share_and_saving_reach_analyze(
    traitors_yaml: Path, tmp_path: Path, sim: ProviderSim, gateway: Gateway, capsys
) -> None:
    sim.respond = lambda request: Turn(prompt_tokens=1000, cached_tokens=600)
    summary = play(traitors_yaml, tmp_path / "run", sim, OPENAI)
    records = records_of(summary.dir)
    price = litellm.get_model_info(OPENAI)
    per_call = 600 * (price["input_cost_per_token"] - price["cache_read_input_token_cost"])
    assert all(r.cache_saving == pytest.approx(per_call) for r in records)
    assert summary.manifest.usage["cache_saving"] == pytest.approx(per_call * len(records))
    capsys.readouterr()
    assert (
        main(["analyze", str(tmp_path / "run"), "--metrics", "validity", "--format", "json"]) == 0
    )
    (row,) = json.loads(capsys.readouterr().out)["validity_cache"]
    assert row["model"] == OPENAI and row["calls"] == len(records)
    assert row["cached_share"] == pytest.approx(0.6)
    assert row["saving"] == pytest.approx(per_call * len(records))
