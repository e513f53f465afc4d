"""The steppable episode core: one loop for every driver, and restoring it from a log prefix."""

from __future__ import annotations

import asyncio

import pytest

from traitors.episode.core import EpisodeCore, RestoreError, RulesViolation
from traitors.episode.engine import run_episode
from traitors.episode.policy import Decision
from traitors.episode.spec import load_spec, validate_spec, with_policy
from traitors.game.actions import Pass, Speak, Vote
from traitors.game.events import (
    DECISION_KINDS,
    ActEvent,
    InvalidActionEvent,
    ReasoningEvent,
    SpeakEvent,
    parse_event,
)

SCENARIOS = {
    "the_traitors": {"n_players": 6, "n_traitors": 2, "max_rounds": 4},
    "werewolf": {"n_players": 6, "n_werewolves": 1, "debate_turns": 2, "max_rounds": 3},
    "principal_agent": {"case": "laptop", "questions": 2},
}


def spec(scenario: str, policy: str = "heuristic"):
    raw = {"name": scenario, "scenario": scenario, "rules": SCENARIOS[scenario]}
    return with_policy(validate_spec(raw), policy)


def played(scenario: str, seed: int, policy: str = "heuristic"):
    the_spec = spec(scenario, policy)
    result = asyncio.run(run_episode(the_spec, seed))
    return the_spec.build_rules(), result


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
@pytest.mark.parametrize("policy", ["heuristic", "random"])
def test_restored_prefix_is_byte_identical_at_every_decision_point(scenario, policy) -> None:
    rules, result = played(scenario, 3, policy)
    players, events = result.manifest.players, result.events
    starts = [
        e.seq for i, e in enumerate(events) if e.kind in DECISION_KINDS and (
            i == 0 or events[i - 1].kind not in DECISION_KINDS or e.kind == "reasoning"
        )
    ]  # fmt: skip
    checked = 0
    for seq in starts[:: max(1, len(starts) // 8)]:
        core = EpisodeCore.restore(rules, players, 3, events, until=seq)
        restored = [e.model_dump_json() for e in core.events]
        assert restored == [e.model_dump_json() for e in events[: len(core.events)]]
        assert len(core.events) <= seq and core.pending and not core.over
        checked += len(core.events) == seq
    assert checked, "some decision starts should be restored exactly"
    whole = EpisodeCore.restore(rules, players, 3, events)
    assert whole.over and whole.outcome == result.outcome and whole.events == events


def test_a_restored_core_plays_on_like_the_original() -> None:
    rules, result = played("the_traitors", 5)
    events = result.events
    middle = EpisodeCore.restore(rules, result.manifest.players, 5, events, until=len(events) // 2)
    # Re-applying the rest of the recorded actions from here reaches the same end.
    rest = EpisodeCore.restore(rules, result.manifest.players, 5, events)
    assert rest.events[: len(middle.events)] == middle.events
    while not middle.over:
        start = len(middle.events)
        acts = {}
        for event in events[start:]:
            if event.kind not in DECISION_KINDS:
                break
            if isinstance(event, ActEvent):
                acts[event.actor] = event.action
        middle.submit(acts)
    assert middle.events == events


def test_restoring_another_episode_s_log_fails_at_the_first_difference() -> None:
    rules, result = played("werewolf", 1)
    with pytest.raises(RestoreError, match="differs from the log"):
        EpisodeCore.restore(rules, result.manifest.players, 2, result.events)
    damaged = list(result.events)
    speech = next(i for i, e in enumerate(damaged) if isinstance(e, SpeakEvent) and e.round > 0)
    act = damaged[speech - 1]
    assert isinstance(act, ActEvent)
    damaged[speech - 1] = act.model_copy(update={"action": Speak(text="something else")})
    with pytest.raises(RestoreError, match=f"event {speech} differs"):
        EpisodeCore.restore(rules, result.manifest.players, 1, damaged)
    prefix = result.events[: speech - 1]  # a log cut short is a prefix: restored up to its end
    core = EpisodeCore.restore(rules, result.manifest.players, 1, prefix)
    assert core.events == prefix[: len(core.events)] and not core.over


def test_act_events_round_trip_through_the_log_and_hide_from_everyone() -> None:
    _, result = played("principal_agent", 0)
    acts = [e for e in result.events if isinstance(e, ActEvent)]
    assert acts and all(e.visibility.scope == "god" for e in acts)
    assert [parse_event(e.model_dump_json()) for e in acts] == acts
    purchase = next(e for e in acts if e.action.kind == "purchase")
    assert type(purchase.action).__module__ == "scenarios.principal_agent"


def test_submit_defaults_missing_and_illegal_answers_and_refuses_strangers(traitors_yaml) -> None:
    the_spec = load_spec(traitors_yaml, ["rules.n_players=5", "rules.n_traitors=1"])
    rules = the_spec.build_rules()
    core = EpisodeCore(rules, the_spec.seats(5), 0)
    (speaker,) = core.pending
    assert core.check(speaker, Vote(target="Nobody")) is not None
    assert core.check(speaker, Pass()) is None
    stranger = next(p for p in core.players if p != speaker)
    with pytest.raises(RulesViolation, match="without being asked"):
        core.submit({stranger: Pass()})
    core.submit({speaker: Decision(Vote(target="Nobody"), reasoning="hmm")})
    mine = [e for e in core.events if e.actor == speaker and e.kind in DECISION_KINDS]
    assert [e.kind for e in mine] == ["reasoning", "invalid_action", "act"]
    assert isinstance(mine[0], ReasoningEvent) and isinstance(mine[1], InvalidActionEvent)
    assert core.defaulted[speaker] == 1 and core.decisions[speaker] == 1
    (second,) = core.pending
    core.submit({})  # nobody answered: the default, with an invalid_action event
    assert core.defaulted[second] == 1
    invalid = [e for e in core.events if isinstance(e, InvalidActionEvent) and e.actor == second]
    assert invalid and invalid[0].error == "no action given"
    while not core.over:
        core.submit({agent: request.default for agent, request in core.pending.items()})
    with pytest.raises(RulesViolation, match="over"):
        core.submit({})


def test_simultaneous_steps_apply_sorted_by_agent_and_record_each_decision() -> None:
    the_spec = spec("the_traitors")
    core = EpisodeCore(the_spec.build_rules(), the_spec.seats(6), 2)
    while len(core.pending) < 2:
        core.submit({agent: Pass() for agent in core.pending})
    voters = sorted(core.pending)
    core.submit({agent: core.pending[agent].default for agent in reversed(voters)})
    acts = [e.actor for e in core.events if isinstance(e, ActEvent)][-len(voters) :]
    assert acts == voters
