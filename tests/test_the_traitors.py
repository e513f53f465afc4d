"""Rules of The Traitors, driven directly with hand-chosen actions."""

from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import make_game, run_to

from scenarios.the_traitors import (
    RecruitOfferEvent,
    RecruitResponseEvent,
    TheTraitors,
    TraitorsConfig,
)
from traitors.game.actions import ActionError, Pass, Respond, Vote
from traitors.game.events import (
    Channel,
    Direct,
    EliminationEvent,
    Event,
    Private,
    RevealEvent,
    RoleEvent,
    VoteEvent,
    VoteResultEvent,
)
from traitors.game.rules import IllegalTransition


def eliminated(event: Event, cause: str) -> bool:
    """Whether ``event`` eliminated a player by ``cause`` (banish, murder)."""
    return isinstance(event, EliminationEvent) and event.cause == cause


def votes(**ballots: str | None) -> dict[str, Vote | Pass]:
    return {voter: Vote(target=t) if t else Pass() for voter, t in ballots.items()}


def results(events: list) -> list[VoteResultEvent]:
    return [e for e in events if isinstance(e, VoteResultEvent)]


def test_round_walks_through_the_phases_in_order() -> None:
    rules, state = make_game()
    state, events = run_to(rules, state, "banish_vote")
    phases = [e.phase for e in events if e.kind == "phase"]
    assert phases == ["breakfast", "discussion", "belief_probe", "banish_vote"]
    assert state.round == 1


def test_plurality_banishes_and_reveals_the_role() -> None:
    rules, state = make_game()
    state, _ = run_to(rules, state, "banish_vote")
    state, events = rules.apply(state, votes(A="C", B="C", C="A", D="A", E="C", F="C", G="B"))
    banish = [e for e in events if eliminated(e, "banish")]
    reveal = [e for e in events if isinstance(e, RevealEvent)]
    assert [b.target for b in banish] == ["C"]
    assert [(r.player, r.role) for r in reveal] == [("C", "faithful")]
    assert "C" not in state.alive
    assert results(events)[0].tally == {"A": 2, "B": 1, "C": 4}
    assert state.phase == "conclave"


def test_no_reveal_when_disabled() -> None:
    rules, state = make_game(reveal_on_banish=False)
    state, _ = run_to(rules, state, "banish_vote")
    _, events = rules.apply(state, votes(A="C", B="C", C="A", D="C", E="C", F="C", G="C"))
    assert not [e for e in events if isinstance(e, RevealEvent)]


def test_tie_triggers_one_revote_among_the_tied_then_a_seeded_pick() -> None:
    rules, state = make_game()
    state, _ = run_to(rules, state, "banish_vote")
    tie = votes(A="C", B="C", C="D", D="C", E="D", F="D", G=None)
    state, events = rules.apply(state, tie)
    assert results(events)[0].tied == ("C", "D")
    assert results(events)[0].decided is None
    assert state.phase == "banish_vote" and state.ballot == 1
    requests = rules.plan(state).requests
    assert requests["A"].targets == ("C", "D")
    assert requests["C"].targets == ("D",)  # the tied cannot vote for themselves
    with pytest.raises(ActionError):
        requests["A"].check(Vote(target="E"))
    again = votes(A="C", B="C", C="D", D="C", E="D", F="D", G=None)
    _after, events = rules.apply(state, again)
    result = results(events)[0]
    assert result.random_pick and result.decided in ("C", "D")
    assert [e.target for e in events if eliminated(e, "banish")] == [result.decided]
    # The pick comes from the game's seeded stream: same state, same pick.
    _, events_again = rules.apply(state, again)
    assert results(events_again)[0].decided == result.decided
    picks = set()
    for seed in range(20):
        seeded = replace(state, seed=seed)
        _, ev = rules.apply(seeded, again)
        picks.add(results(ev)[0].decided)
    assert picks == {"C", "D"}


def test_tie_rule_random_picks_at_once_and_no_banish_banishes_nobody() -> None:
    tie = votes(A="C", B="C", C="D", D="C", E="D", F="D", G=None)
    rules, state = make_game(banish_tie="random")
    state, _ = run_to(rules, state, "banish_vote")
    _, events = rules.apply(state, tie)
    assert results(events)[0].random_pick
    assert len([e for e in events if eliminated(e, "banish")]) == 1

    rules, state = make_game(banish_tie="no_banish")
    state, _ = run_to(rules, state, "banish_vote")
    state, events = rules.apply(state, tie)
    assert not [e for e in events if eliminated(e, "banish")]
    assert state.phase == "conclave" and len(state.alive) == 7


def test_murder_needs_unanimity_with_two_revotes_then_plurality() -> None:
    rules, state = make_game(("A", "B", "C", "D", "E", "F", "G", "H", "I"), ("A", "B", "C"))
    state, _ = run_to(rules, state, "banish_vote")
    everyone_votes_d = {p: Vote(target="D") for p in state.alive if p != "D"}
    state, _ = rules.apply(state, everyone_votes_d | {"D": Vote(target="E")})
    state, _ = run_to(rules, state, "murder_vote")
    split = votes(A="E", B="E", C="F")
    for ballot in (0, 1):
        state, events = rules.apply(state, split)
        assert state.phase == "murder_vote" and state.ballot == ballot + 1
        assert results(events)[0].decided is None
        assert all(e.visibility == Channel(name="traitors") for e in events if e.kind != "phase")
    state, events = rules.apply(state, split)
    assert results(events)[0].decided == "E"  # plurality after the last re-vote
    murders = [e for e in events if eliminated(e, "murder")]
    assert [m.target for m in murders] == ["E"]
    assert murders[0].phase == "breakfast" and murders[0].round == 2
    assert "E" not in state.alive


def test_unanimous_revote_murders_at_once() -> None:
    rules, state = make_game()
    state, _ = run_to(rules, state, "banish_vote")
    state, _ = rules.apply(state, {p: Vote(target="C") for p in "ABDEFG"} | {"C": Vote(target="D")})
    state, _ = run_to(rules, state, "murder_vote")
    state, _ = rules.apply(state, votes(A="D", B="E"))
    state, events = rules.apply(state, votes(A="E", B="E"))
    assert [e.target for e in events if eliminated(e, "murder")] == ["E"]
    ballots = {e.ballot for e in events if isinstance(e, VoteEvent)}
    assert ballots == {1}


def test_only_faithful_can_be_murdered() -> None:
    rules, state = make_game()
    state, _ = run_to(rules, state, "banish_vote")
    state, _ = rules.apply(state, {p: Vote(target="C") for p in "ABDEFG"} | {"C": Vote(target="D")})
    state, _ = run_to(rules, state, "murder_vote")
    step = rules.plan(state)
    assert set(step.requests) == {"A", "B"}
    assert step.simultaneous
    for request in step.requests.values():
        assert set(request.targets) == {"D", "E", "F", "G"}
        with pytest.raises(ActionError):
            request.check(Vote(target="B"))
    # Traitors who all abstain still murder a faithful (a seeded pick).
    state, events = rules.apply(state, votes(A=None, B=None))
    state, events = rules.apply(state, votes(A=None, B=None))
    state, events = rules.apply(state, votes(A=None, B=None))
    victim = [e.target for e in events if eliminated(e, "murder")]
    assert len(victim) == 1 and state.roles[victim[0]] == "faithful"


def test_faithful_win_when_the_last_traitor_is_banished() -> None:
    rules, state = make_game(("A", "B", "C", "D", "E"), ("A",))
    state, _ = run_to(rules, state, "banish_vote")
    state, _ = rules.apply(state, {p: Vote(target="A") for p in "BCDE"} | {"A": Vote(target="B")})
    outcome = rules.outcome(state)
    assert outcome is not None and outcome.winner == "faithful" and not outcome.truncated


def test_traitors_win_at_parity_after_a_murder() -> None:
    rules, state = make_game(("A", "B", "C", "D", "E"), ("A",))
    state, _ = run_to(rules, state, "banish_vote")
    state, _ = rules.apply(state, {p: Vote(target="B") for p in "ACDE"} | {"B": Vote(target="C")})
    assert rules.outcome(state) is None  # 1 traitor vs 3 faithful
    state, _ = run_to(rules, state, "murder_vote")
    state, _ = rules.apply(state, votes(A="C"))
    state, _ = run_to(rules, state, "banish_vote")
    assert rules.outcome(state) is None  # 1 vs 2
    state, _ = rules.apply(state, {p: Vote(target="D") for p in "ACE"} | {"D": Vote(target="E")})
    outcome = rules.outcome(state)
    assert outcome is not None and outcome.winner == "traitors"


def test_round_limit_ends_in_a_truncated_draw() -> None:
    rules, state = make_game(max_rounds=1)
    state, _ = run_to(rules, state, "banish_vote")
    state, _ = rules.apply(state, {p: Vote(target="C") for p in "ABDEFG"} | {"C": Vote(target="D")})
    state, _ = run_to(rules, state, "murder_vote")
    state, _ = rules.apply(state, votes(A="D", B="D"))
    outcome = rules.outcome(state)
    assert outcome is not None
    assert outcome.winner is None and outcome.truncated and outcome.rounds == 1


def _banish_traitor_a(**options: object):
    rules, state = make_game(recruitment=True, **options)
    state, _ = run_to(rules, state, "banish_vote")
    state, events = rules.apply(
        state, {p: Vote(target="A") for p in "BCDEFG"} | {"A": Vote(target="C")}
    )
    return rules, state, events


def test_recruitment_offer_accepted_makes_a_traitor() -> None:
    rules, state, _ = _banish_traitor_a()
    assert state.phase == "recruit_offer"
    step = rules.plan(state)
    assert set(step.requests) == {"B"} and set(step.requests["B"].targets) == set("CDEFG")
    state, events = rules.apply(state, votes(B="E"))
    offer = next(e for e in events if isinstance(e, RecruitOfferEvent))
    assert offer.target == "E" and offer.visibility == Direct(recipients=("B", "E"))
    assert state.phase == "recruit_response"
    assert list(rules.plan(state).requests) == ["E"]
    state, events = rules.apply(state, {"E": Respond(accept=True)})
    answer = next(e for e in events if isinstance(e, RecruitResponseEvent))
    assert answer.accepted and answer.visibility == Direct(recipients=("B", "E"))
    assert state.roles["E"] == "traitor" and "E" in state.channels["traitors"]
    role = next(e for e in events if isinstance(e, RoleEvent))
    assert role.visibility == Private(agent="E") and role.allies == ("B",)
    assert state.phase == "conclave" and state.queue and set(state.queue) == {"B", "E"}


def test_recruitment_refused_changes_nothing() -> None:
    rules, state, _ = _banish_traitor_a()
    state, _ = rules.apply(state, votes(B="E"))
    state, _ = rules.apply(state, {"E": Respond(accept=False)})
    assert state.roles["E"] == "faithful" and "E" not in state.channels["traitors"]


def test_recruitment_off_or_after_a_faithful_banishment_skips_the_offer() -> None:
    rules, state = make_game()
    state, _ = run_to(rules, state, "banish_vote")
    state, _ = rules.apply(state, {p: Vote(target="A") for p in "BCDEFG"} | {"A": Vote(target="C")})
    assert state.phase == "conclave"
    rules, state = make_game(recruitment=True)
    state, _ = run_to(rules, state, "banish_vote")
    state, _ = rules.apply(state, {p: Vote(target="C") for p in "ABDEFG"} | {"C": Vote(target="D")})
    assert state.phase == "conclave"


def test_traitors_know_each_other_and_faithful_only_themselves() -> None:
    rules, state = make_game()
    events = rules.setup_events(state)
    roles = {e.player: e for e in events if isinstance(e, RoleEvent)}
    assert roles["A"].allies == ("B",) and roles["B"].allies == ("A",)
    assert roles["C"].allies == () and roles["C"].role == "faithful"
    assert all(e.visibility == Private(agent=p) for p, e in roles.items())


def test_illegal_phase_transitions_raise() -> None:
    rules, state = make_game()
    with pytest.raises(IllegalTransition):
        rules.goto(state, "murder_vote", [])
    finished = replace(state, phase="game_over")
    with pytest.raises(IllegalTransition):
        rules.plan(finished)
    with pytest.raises(IllegalTransition):
        rules.apply(finished, {})


def test_config_rejects_traitor_majorities() -> None:
    with pytest.raises(ValueError, match="fewer than half"):
        TraitorsConfig(n_players=3, n_traitors=3)
    with pytest.raises(ValueError, match="fewer than half"):
        TraitorsConfig(n_players=6, n_traitors=3)
    assert TheTraitors(TraitorsConfig(n_players=7, n_traitors=3)).seat_count() == 7
