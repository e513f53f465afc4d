"""The Resistance: Avalon: rules driven by hand, conformance, PettingZoo, an LLM game with a
fake model, the spectator's views and exact replay."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import random
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from scenarios.avalon import Avalon, AvalonConfig, AvalonHeuristic, AvalonState
from scenarios.avalon.kinds import (
    AssassinationEvent,
    MerlinBeliefEvent,
    ProposalEvent,
    Propose,
    QuestCard,
    QuestCardEvent,
    QuestResultEvent,
    TeamVote,
    TeamVoteEvent,
    TeamVoteResultEvent,
    VisionEvent,
)
from scenarios.avalon.table import (
    ASSASSIN,
    FAIL,
    MERLIN,
    MINION,
    MORDRED,
    MORGANA,
    OBERON,
    PERCIVAL,
    SERVANT,
    SUCCESS,
)
from traitors.commands.spectate import add_watch_parser, run_watch
from traitors.episode.conformance import check_scenario
from traitors.episode.core import EpisodeCore
from traitors.episode.engine import run_episode
from traitors.episode.policy import Observation
from traitors.episode.spec import ScenarioSpec, build_rules, validate_spec
from traitors.game.actions import ActionError, ActionRequest, Belief, Vote
from traitors.game.events import (
    PUBLIC,
    BeliefEvent,
    Event,
    InvalidActionEvent,
    Private,
    RevealEvent,
    RoleEvent,
    player_view,
)
from traitors.game.registry import register_scenario
from traitors.game.rules import Outcome
from traitors.llm.fake import FakeCall, fill_schema, register_fake_model
from traitors.pettingzoo import env, parallel_env
from traitors.store.log import CALLS, iter_events, read_episode
from traitors.sweep.episodes import run_episodes
from traitors.sweep.replay import replay_episode
from traitors.view.spectate.panels import transcript_panel
from traitors.view.spectate.view import Spectator, episode_words

SEVEN = {
    "A": ASSASSIN,
    "B": MORGANA,
    "C": MINION,
    "D": MERLIN,
    "E": PERCIVAL,
    "F": SERVANT,
    "G": SERVANT,
}
EVIL7 = {"A", "B", "C"}


# --- driving the rules by hand -------------------------------------------------------------


def table(
    roles: Mapping[str, str], leader: int = 0, **options: Any
) -> tuple[Avalon, AvalonState, list[Event]]:
    """Rules, the setup events and the state at the first proposal, roles fixed by the test."""
    rules = Avalon(AvalonConfig(n_players=len(roles), **options))
    state = rules.initial_state(tuple(roles), random.Random(0))
    state = replace(state, roles=dict(roles), leader=leader)
    events = rules.setup_events(state)
    state, more = rules.apply(state, {})
    assert state.phase == "proposal"
    return rules, state, events + more


def defaults(rules: Avalon, state: AvalonState) -> tuple[AvalonState, list[Event]]:
    """Answer the current step with every request's default."""
    return rules.apply(state, {a: r.default for a, r in rules.plan(state).requests.items()})


def propose(
    rules: Avalon, state: AvalonState, team: Iterable[str], approvers: Iterable[str]
) -> tuple[AvalonState, list[Event]]:
    """The leader proposes ``team``; silent discussion and probes; ``approvers`` approve."""
    leader = state.players[state.leader]
    state, events = rules.apply(state, {leader: Propose(team=tuple(team))})
    while state.phase in ("discussion", "belief_probe"):
        state, more = defaults(rules, state)
        events += more
    assert state.phase == "team_vote"
    yes = set(approvers)
    state, more = rules.apply(state, {p: TeamVote(approve=p in yes) for p in state.players})
    return state, events + more


def quest(
    rules: Avalon, state: AvalonState, team: Iterable[str], fails: Iterable[str] = ()
) -> tuple[AvalonState, list[Event]]:
    """``team`` is approved by all and goes; ``fails`` play fail; Merlin probes by default."""
    state, events = propose(rules, state, team, state.players)
    assert state.phase == "quest"
    failing = set(fails)
    requests = rules.plan(state).requests
    cards = {p: QuestCard(card=FAIL if p in failing else SUCCESS) for p in requests}
    for player, card in cards.items():
        requests[player].check(card)
    state, more = rules.apply(state, cards)
    events += more
    while state.phase == "merlin_probe":
        state, more = defaults(rules, state)
        events += more
    return state, events


def of(kind: type[Any], events: Iterable[Event]) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


# --- the table and the rules ----------------------------------------------------------------

EXPECTED_SIZES = {
    5: (2, 3, 2, 3, 3),
    6: (2, 3, 4, 3, 4),
    7: (2, 3, 3, 4, 4),
    8: (3, 4, 4, 5, 5),
    9: (3, 4, 4, 5, 5),
    10: (3, 4, 4, 5, 5),
}
EXPECTED_SIDES = {5: (3, 2), 6: (4, 2), 7: (4, 3), 8: (5, 3), 9: (6, 3), 10: (6, 4)}


@pytest.mark.parametrize("n", sorted(EXPECTED_SIZES))
def test_sides_and_team_sizes_per_table_size(n: int) -> None:
    rules = Avalon(AvalonConfig(n_players=n))
    dealt = rules.in_play()
    evil = [r for r in dealt if rules.faction(r) == "evil"]
    assert (len(dealt) - len(evil), len(evil)) == EXPECTED_SIDES[n]
    assert dealt.count(MERLIN) == dealt.count(ASSASSIN) == dealt.count(PERCIVAL) == 1
    assert dealt.count(MORGANA) == 1 and MORDRED not in dealt and OBERON not in dealt
    seats = tuple(f"P{i}" for i in range(n))
    state = rules.initial_state(seats, random.Random(n))
    assert sorted(state.roles.values()) == sorted(dealt)
    sizes = []
    for quest_no in range(1, 6):
        step = rules.plan(replace(state, phase="proposal", round=quest_no, attempt=1))
        (request,) = step.requests.values()
        sizes.append(request.picks)
        request.check(request.default)
        with pytest.raises(ActionError, match=f"team of {request.picks}"):
            request.check(Propose(team=seats[: request.picks + 1]))
    assert tuple(sizes) == EXPECTED_SIZES[n]


def test_a_proposal_must_name_distinct_players_at_the_table() -> None:
    rules, state, _ = table(SEVEN)
    (request,) = rules.plan(state).requests.values()
    assert request.actor == "A" and request.picks == 2
    request.check(Propose(team=("A", "G")))
    with pytest.raises(ActionError, match="repeats"):
        request.check(Propose(team=("A", "A")))
    with pytest.raises(ActionError, match="cannot go"):
        request.check(Propose(team=("A", "Zed")))
    schema = request.reply_schema()["properties"]["team"]
    assert schema["minItems"] == schema["maxItems"] == 2
    assert schema["items"]["enum"] == list(SEVEN)
    assert request.action_from_reply({"team": ["B", "C"]}) == Propose(team=("B", "C"))
    with pytest.raises(ActionError):
        request.action_from_reply({"team": "B, C"})


def test_config_rejects_special_roles_that_do_not_fit() -> None:
    with pytest.raises(ValueError, match="only 2 evil"):
        AvalonConfig(n_players=5, mordred=True)  # assassin + morgana + mordred > 2
    with pytest.raises(ValueError, match="only 3 evil"):
        AvalonConfig(n_players=7, mordred=True, oberon=True)
    with pytest.raises(ValueError):
        AvalonConfig(n_players=4)
    with pytest.raises(ValueError):
        AvalonConfig(max_rounds=6)
    assert AvalonConfig(n_players=10, mordred=True, oberon=True).evil_count() == 4
    assert AvalonConfig(n_players=5, percival=True, morgana=False, mordred=True).good_count() == 3


def test_five_rejected_teams_in_a_row_make_evil_win_and_the_leader_rotates() -> None:
    rules, state, _ = table(SEVEN, leader=5)
    events: list[Event] = []
    for _ in range(5):
        state, more = propose(rules, state, ("F", "G"), approvers=("F", "G", "D"))  # 3 of 7
        events += more
    assert [e.actor for e in of(ProposalEvent, events)] == ["F", "G", "A", "B", "C"]
    assert [e.attempt for e in of(ProposalEvent, events)] == [1, 2, 3, 4, 5]
    results = of(TeamVoteResultEvent, events)
    assert [r.rejected_in_a_row for r in results] == [1, 2, 3, 4, 5]
    assert all(not r.approved and (r.approvals, r.rejections) == (3, 4) for r in results)
    assert rules.outcome(state) == Outcome("evil", "5 teams rejected in a row", 1)
    assert rules.judge(events) == "evil"
    assert all(e.visibility == PUBLIC for e in of(TeamVoteEvent, events))


def test_a_tie_rejects_and_an_approval_resets_the_count() -> None:
    six = {"A": ASSASSIN, "B": MORGANA, "C": MERLIN, "D": PERCIVAL, "E": SERVANT, "F": SERVANT}
    rules, state, _ = table(six)
    state, events = propose(rules, state, ("A", "C"), approvers=("A", "B", "C"))  # 3-3
    assert state.phase == "proposal" and state.rejected == 1
    (result,) = of(TeamVoteResultEvent, events)
    assert not result.approved and result.rejected_in_a_row == 1
    state, events = propose(rules, state, ("C", "D"), approvers=("A", "B", "C", "D"))
    assert state.phase == "quest" and state.rejected == 0
    assert of(TeamVoteResultEvent, events)[0].rejected_in_a_row == 0
    assert rules.plan(state).requests.keys() == {"C", "D"}


def test_three_failed_quests_make_evil_win_and_reveal_every_role() -> None:
    rules, state, events = table(SEVEN, merlin_probe="never")
    for team in (("A", "D"), ("A", "D", "E"), ("A", "D", "E")):
        state, more = quest(rules, state, team, fails=("A",))
        events += more
    results = of(QuestResultEvent, events)
    assert [(r.round, r.fails, r.succeeded) for r in results] == [(q, 1, False) for q in (1, 2, 3)]
    assert rules.outcome(state) == Outcome("evil", "three quests failed", 3)
    assert rules.judge(events) == "evil"
    assert rules.judge(events[: events.index(results[-1])]) is None  # two failures: not yet
    reveals = of(RevealEvent, events)
    assert {(r.player, r.role) for r in reveals} == set(SEVEN.items())
    assert all(r.visibility == PUBLIC for r in reveals)


def test_quest_cards_are_private_and_the_result_counts_fails_only() -> None:
    rules, state, _ = table(SEVEN)
    state, events = quest(rules, state, ("B", "E"), fails=("B",))
    cards = of(QuestCardEvent, events)
    assert [(c.actor, c.card) for c in cards] == [("B", FAIL), ("E", SUCCESS)]
    assert all(c.visibility == Private(agent=c.actor) for c in cards)
    (result,) = of(QuestResultEvent, events)
    assert result.visibility == PUBLIC and result.fails == 1 and result.team == ("B", "E")
    assert "B" not in result.prompt_text("G", rules.words).split(":")[1].split("from")[0]
    assert cards[0].prompt_text("E", rules.words) is None  # E never learns B's card
    assert "you played fail" in (cards[0].prompt_text("B", rules.words) or "")


def test_good_players_cannot_play_fail() -> None:
    rules, state, _ = table(SEVEN)
    state, _ = propose(rules, state, ("A", "D"), approvers=SEVEN)
    requests = rules.plan(state).requests
    assert requests["D"].choices == (SUCCESS,)
    assert requests["A"].choices == (SUCCESS, FAIL)
    with pytest.raises(ActionError, match="not yours to play"):
        requests["D"].check(QuestCard(card=FAIL))
    requests["A"].check(QuestCard(card=FAIL))
    # Through the episode core: an illegal fail is replaced by the default success.
    core = EpisodeCore(build_rules("avalon", {"n_players": 5}), ("P", "Q", "R", "S", "T"), 3)
    while core.state.phase != "quest" or all(
        core.state.roles[p] in (ASSASSIN, MORGANA) for p in core.pending
    ):
        core.submit({a: r.default for a, r in core.pending.items()})
    good = next(p for p in core.pending if core.state.roles[p] not in (ASSASSIN, MORGANA))
    start = len(core.events)
    core.submit({**{a: r.default for a, r in core.pending.items()}, good: QuestCard(card=FAIL)})
    new = core.events[start:]
    assert [e.error for e in of(InvalidActionEvent, new)] == [
        "card 'fail' not yours to play; legal: ['success']"
    ]
    assert [e.card for e in of(QuestCardEvent, new) if e.actor == good] == [SUCCESS]


@pytest.mark.parametrize(("players", "failed"), [(7, False), (6, True)])
def test_the_fourth_quest_needs_two_fails_with_seven_or_more(players: int, failed: bool) -> None:
    six = {"A": ASSASSIN, "B": MORGANA, "C": MERLIN, "D": PERCIVAL, "E": SERVANT, "F": SERVANT}
    roles = SEVEN if players == 7 else six
    good = [p for p, r in roles.items() if r not in (ASSASSIN, MORGANA, MINION)]
    sizes = EXPECTED_SIZES[players]
    rules, state, _ = table(roles, merlin_probe="never")
    state, _ = quest(rules, state, good[: sizes[0]])
    state, _ = quest(rules, state, ["A", *good[: sizes[1] - 1]], fails=["A"])
    state, _ = quest(rules, state, good[: sizes[2]])
    assert state.round == 4 and state.quests == (True, False, True)
    four = ["A", "B", *good[: sizes[3] - 2]]
    one_fail, more = quest(rules, state, four, fails=["A"])
    (result,) = of(QuestResultEvent, more)
    assert result.fails == 1 and result.fails_needed == (2 if players == 7 else 1)
    assert result.succeeded is not failed
    assert one_fail.phase == ("proposal" if failed else "assassination")
    two_fails, more = quest(rules, state, four, fails=["A", "B"])
    assert not of(QuestResultEvent, more)[0].succeeded
    assert (two_fails.phase, two_fails.round, two_fails.quests) == (
        "proposal",
        5,
        (True, False, True, False),
    )


@pytest.mark.parametrize(("named", "winner"), [("D", "evil"), ("E", "good")])
def test_the_assassination_after_three_successes(named: str, winner: str) -> None:
    rules, state, events = table(SEVEN)
    for team in (("D", "E"), ("D", "E", "F"), ("E", "F", "G")):
        state, more = quest(rules, state, team)
        events += more
    assert state.phase == "assassination"
    (request,) = rules.plan(state).requests.values()
    assert request.actor == "A" and set(request.targets) == {"D", "E", "F", "G"}
    probes = of(MerlinBeliefEvent, events)
    assert {e.actor for e in probes} == EVIL7 and {e.round for e in probes} == {1, 2, 3}
    state, more = rules.apply(state, {"A": Vote(target=named)})
    events += more
    (shot,) = of(AssassinationEvent, more)
    assert (shot.target, shot.hit, shot.visibility) == (named, named == "D", PUBLIC)
    outcome = rules.outcome(state)
    assert outcome is not None and outcome.winner == winner and outcome.rounds == 3
    assert rules.judge(events) == winner
    assert rules.judge([e for e in events if not isinstance(e, AssassinationEvent)]) is None


def test_merlin_probes_ask_only_evil_players_about_good_candidates() -> None:
    rules, state, _ = table(SEVEN)
    state, _ = quest(rules, state, ("D", "E"))
    assert state.phase == "proposal" and state.round == 2  # quest() answered the probe
    rules, state, _ = table(SEVEN)
    state, _ = propose(rules, state, ("D", "E"), approvers=SEVEN)
    state, _ = rules.apply(state, {"D": QuestCard(card=SUCCESS), "E": QuestCard(card=SUCCESS)})
    requests = rules.plan(state).requests
    assert state.phase == "merlin_probe" and set(requests) == EVIL7
    assert requests["A"].targets == ("D", "E", "F", "G")
    state, events = rules.apply(state, {p: Belief(probs={"D": 0.7}) for p in requests})
    assert [(e.actor, e.visibility, e.probs) for e in of(MerlinBeliefEvent, events)] == [
        (p, Private(agent=p), {"D": 0.7}) for p in sorted(EVIL7)
    ]
    assert not of(BeliefEvent, events)  # a different kind from the P(evil) probe


# --- knowledge at the start ------------------------------------------------------------------

TEN = {
    "A": ASSASSIN,
    "B": MORGANA,
    "C": MORDRED,
    "D": OBERON,
    "E": MERLIN,
    "F": PERCIVAL,
    "G": SERVANT,
    "H": SERVANT,
    "I": SERVANT,
    "J": SERVANT,
}


def knowledge(events: Iterable[Event]) -> tuple[dict[str, tuple[str, ...]], dict[str, Any]]:
    allies = {e.player: e.allies for e in of(RoleEvent, events)}
    visions = {e.player: e for e in of(VisionEvent, events)}
    return allies, visions


def test_merlin_sees_every_evil_player_but_mordred_and_oberon_is_isolated() -> None:
    rules, _, events = table(TEN, mordred=True, oberon=True)
    allies, visions = knowledge(events)
    assert visions["E"].seen == ("A", "B", "D") and visions["E"].sees == "evil"
    assert visions["E"].visibility == Private(agent="E")
    assert "A, B, D" in visions["E"].prompt_text("E", rules.words)
    assert allies["A"] == ("B", "C") and allies["B"] == ("A", "C") and allies["C"] == ("A", "B")
    assert allies["D"] == ()  # Oberon knows nobody ...
    assert not any("D" in team for team in allies.values())  # ... and nobody knows him
    assert all(allies[p] == () for p in "EFGHIJ")
    assert set(visions) == {"E", "F"}


def test_percival_sees_merlin_and_morgana_without_telling_them_apart() -> None:
    swapped = {**SEVEN, "B": MERLIN, "D": MORGANA}
    _, _, events = table(SEVEN)
    _, _, other = table(swapped)
    (one,) = [e for e in of(VisionEvent, events) if e.player == "E"]
    (two,) = [e for e in of(VisionEvent, other) if e.player == "E"]
    assert one.seen == two.seen == ("B", "D") and one.sees == "merlin_or_morgana"
    assert one == two  # the same event whichever of B and D is Merlin
    text = one.prompt_text("E", Avalon.words)
    assert "B, D" in text and "cannot tell" in text
    rules, _, events = table({**SEVEN, "B": MINION}, morgana=False)
    (alone,) = [e for e in of(VisionEvent, events) if e.player == "E"]
    assert (alone.seen, alone.sees) == (("D",), "merlin")
    assert "Morgana" not in rules.describe() and "Percival (good) sees Merlin." in rules.describe()


def test_the_audit_names_the_games_secrets() -> None:
    rules, state, events = table(TEN, mordred=True, oberon=True)
    merlin_sight = next(e for e in of(VisionEvent, events) if e.player == "E")
    assert rules.audit(state, merlin_sight, "E") is None
    assert "vision shown to G" in (rules.audit(state, merlin_sight, "G") or "")
    cheat = merlin_sight.model_copy(update={"seen": ("A", "B", "C", "D")})
    assert "Merlin shown" in (rules.audit(state, cheat, "E") or "")
    card = QuestCardEvent(round=1, phase="quest", actor="A", visibility=PUBLIC, card=FAIL)
    assert "quest card" in (rules.audit(state, card, "G") or "")
    early = RevealEvent(round=1, phase="quest", player="A", role=ASSASSIN)
    assert "before the game ended" in (rules.audit(state, early, "G") or "")


class _MerlinSeesMordred(Avalon):
    """Bug on purpose: Merlin's sight includes Mordred."""

    def setup_events(self, state: AvalonState) -> list[Event]:
        events = super().setup_events(state)
        evil = state.evil()
        return [
            e.model_copy(update={"seen": evil})
            if isinstance(e, VisionEvent) and e.sees == "evil"
            else e
            for e in events
        ]


def test_the_conformance_check_catches_merlin_seeing_mordred() -> None:
    register_scenario("avalon_mordred_leak", _MerlinSeesMordred)
    spec = validate_spec(
        {"name": "leak", "scenario": "avalon_mordred_leak", "rules": {"mordred": True}}
    )
    report = check_scenario(spec, range(3), "random")
    assert not report.ok and all("Merlin shown" in p for p in report.problems)


# --- whole games -------------------------------------------------------------------------


def avalon_spec(policy: str = "random", **rules: Any) -> ScenarioSpec:
    raw = {"name": "avalon", "scenario": "avalon", "rules": rules}
    raw["agents"] = {"default": {"policy": policy}}
    return validate_spec(raw)


@pytest.mark.parametrize(
    ("policy", "seeds", "rules"),
    [
        ("random", 150, {"n_players": 5}),
        ("random", 100, {"n_players": 7, "mordred": True}),
        ("random", 100, {"n_players": 10, "mordred": True, "oberon": True}),
        ("random", 60, {"n_players": 9, "max_rounds": 3, "merlin_probe": "never"}),
        ("heuristic", 150, {"n_players": 6}),
        ("heuristic", 100, {"n_players": 8, "percival": False, "discussion": False}),
        ("heuristic", 60, {"n_players": 10, "oberon": True, "merlin_probe": "assassination"}),
    ],
)
@pytest.mark.slow
def test_conformance(policy: str, seeds: int, rules: dict[str, Any]) -> None:
    report = check_scenario(avalon_spec(**rules), range(seeds), policy)
    assert report.problems == []
    assert report.episodes == seeds and report.max_round <= rules.get("max_rounds", 5)
    if rules.get("max_rounds", 5) == 5:
        assert set(report.winners) == {"good", "evil"}  # both sides win sometimes


@pytest.mark.slow
def test_heuristic_play_is_sensible() -> None:
    spec = avalon_spec("heuristic", n_players=7)
    hits = shots = good_wins = 0
    for seed in range(60):
        result = asyncio.run(run_episode(spec, seed))
        events, roles = result.events, result.manifest.roles
        good_wins += result.outcome.winner == "good"
        for shot in of(AssassinationEvent, events):
            shots += 1
            hits += shot.hit
        for card in of(QuestCardEvent, events):
            assert card.card == SUCCESS or Avalon.words.roles[roles[card.actor]] == "evil"
        for proposal in of(ProposalEvent, events):
            assert proposal.actor in proposal.team  # leaders go on their own teams
    assert 0.15 < good_wins / 60 < 0.8
    assert shots > 10 and hits / shots > 1 / 4  # better than a blind pick among 4 good


def test_heuristic_inference_of_a_good_player() -> None:
    rules, state, events = table(SEVEN)
    state, more = quest(rules, state, ("E", "B"), fails=("B",))
    events += more

    def decide(seat: AvalonHeuristic, request: ActionRequest) -> Any:
        seen = tuple(player_view(events, seat.seat))
        observation = Observation(seat.seat, 2, state.phase, state.players, state.alive, seen)
        return asyncio.run(seat.decide(observation, request)).action

    def ask(actor: str, purpose: str, kind: str, **fields: Any) -> ActionRequest:
        return ActionRequest(actor=actor, purpose=purpose, prompt="", kinds=(kind,), **fields)

    percival = AvalonHeuristic("E", 1, rules.words)
    others = tuple(p for p in SEVEN if p != "E")
    belief = decide(percival, ask("E", "belief", "belief", targets=others))
    assert belief.probs["B"] == 1.0 and belief.probs["D"] == 0.0  # B failed; so D is Merlin
    assert sum(belief.probs.values()) == pytest.approx(3.0)
    merlin = AvalonHeuristic("D", 1, rules.words)
    belief = decide(merlin, ask("D", "belief", "belief", targets=("A", "B", "C", "F")))
    assert belief.probs == {"A": 1.0, "B": 1.0, "C": 1.0, "F": 0.0}
    team = decide(merlin, ask("D", "proposal", "propose", targets=state.players, picks=3))
    assert isinstance(team, Propose) and team.team[0] == "D" and not set(team.team) & EVIL7


# --- PettingZoo -------------------------------------------------------------------------------

PZ_TABLES = [{"n_players": 5, "discussion": False}, {"n_players": 10, "oberon": True}]


@pytest.mark.filterwarnings("ignore::UserWarning")  # PettingZoo's style advice
@pytest.mark.parametrize("options", PZ_TABLES)
@pytest.mark.slow
def test_pettingzoo_api_and_seed_tests(options: dict[str, Any]) -> None:
    from pettingzoo.test import (  # type: ignore[import-untyped]
        api_test,
        parallel_api_test,
        parallel_seed_test,
        seed_test,
    )

    api_test(env("avalon", **options), num_cycles=1000)
    parallel_api_test(parallel_env("avalon", **options), num_cycles=1000)
    seed_test(lambda: env("avalon", **options), num_cycles=500)
    parallel_seed_test(lambda: parallel_env("avalon", **options), num_cycles=500)


def test_pettingzoo_catalogue_holds_every_team_and_plays_to_the_end() -> None:
    aec = env("avalon", n_players=5)
    catalogue = aec.unwrapped.catalogue
    teams = [label for label in catalogue.labels if label.startswith("team ")]
    assert len(teams) == 10 + 10  # every pair and every triple of 5 seats
    assert {"approve", "reject", "play success", "play fail"} <= set(catalogue.labels)
    aec.reset(seed=4)
    for agent in aec.agent_iter():
        obs, _, terminated, truncated, _ = aec.last()
        if terminated or truncated:
            aec.step(None)
            continue
        legal = [i for i, ok in enumerate(obs["action_mask"]) if ok]
        request = aec.unwrapped.game.requests[agent]
        if request.purpose == "proposal":  # 0 stands for the request's default team
            teams = [catalogue.labels[i] for i in legal[1:]]
            assert all(label.startswith("team ") for label in teams)
            assert len(teams) == len(list(itertools.combinations("ABCDE", request.picks)))
        aec.step(legal[-1])
    assert aec.unwrapped.game.outcome is not None


# --- an LLM game with a fake model, watched and replayed ------------------------------------


def fill(schema: dict[str, Any], rng: random.Random) -> Any:
    """A schema-valid value, arrays of distinct enum items included."""
    if schema.get("type") == "array":
        return rng.sample(schema["items"]["enum"], schema["minItems"])
    if schema.get("type") == "object":
        return {k: fill(v, rng) for k, v in schema.get("properties", {}).items()}
    return fill_schema(schema, rng)


def fake_avalon_player(call: FakeCall) -> str:
    rng = random.Random(call.prompt)
    response_format = call.params.get("response_format") or {}
    schema = response_format.get("json_schema", {}).get("schema")
    if schema is None:
        return "Notes: watch who approves the failed teams."
    return json.dumps(fill(schema, rng))


@pytest.fixture(scope="module")
def llm_episode(tmp_path_factory: pytest.TempPathFactory) -> Path:
    model = register_fake_model("avalon-player", fake_avalon_player)
    spec = validate_spec(
        {
            "name": "avalon-llm",
            "scenario": "avalon",
            "rules": {"n_players": 5},
            "agents": {"default": {"policy": "llm", "model": model, "max_tokens": 64}},
        }
    )
    (summary,) = run_episodes(spec, [2], tmp_path_factory.mktemp("llm"))
    return summary.dir


@pytest.mark.slow
def test_an_llm_game_with_a_fake_model_plays_to_the_end(llm_episode: Path) -> None:
    log = read_episode(llm_episode)
    events, roles = log.events, log.manifest.roles
    assert events[-1].kind == "game_over" and log.manifest.status == "complete"
    assert not of(InvalidActionEvent, events)
    assert of(ProposalEvent, events) and of(TeamVoteEvent, events)
    calls = [json.loads(line) for line in (llm_episode / CALLS).read_text().splitlines()]
    assert calls and all(c["error"] is None for c in calls)
    merlin = next(p for p, r in roles.items() if r == MERLIN)
    for call in calls:  # Merlin's sight reaches every decision of Merlin's, and only his
        prompt = "\n".join(m["content"] for m in call["messages"])
        sight = "you see these players as evil" in prompt
        assert not sight or call["agent"] == merlin
        assert sight or call["agent"] != merlin or "Decision now:" not in prompt
        assert "Avalon" in call["messages"][0]["content"]
    schemas = [
        c["messages"][-1]["content"] for c in calls if "team" in c["messages"][-1]["content"]
    ]
    assert any("different" in text for text in schemas)  # the team's array schema in words


def test_the_llm_game_replays_exactly(llm_episode: Path) -> None:
    result = replay_episode(llm_episode)
    assert result.ok, result.divergence


@pytest.fixture(scope="module")
def scripted_episode(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = avalon_spec("heuristic", n_players=7, mordred=True)
    (summary,) = run_episodes(spec, [5], tmp_path_factory.mktemp("scripted"))
    return summary.dir


def record(renderable: object) -> str:
    console = Console(record=True, width=120, height=50, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def watch_args(path: Path, *extra: str) -> Any:
    import argparse

    parser = argparse.ArgumentParser()
    add_watch_parser(parser.add_subparsers())
    return parser.parse_args(["watch", str(path), *extra])


def before_the_end(directory: Path) -> list[Event]:
    """The episode's events before the assassination and the final reveals."""
    events = list(iter_events(directory))
    end = next(i for i, e in enumerate(events) if isinstance(e, RevealEvent | AssassinationEvent))
    return events[:end]


def viewer_board(directory: Path, viewer: str, events: list[Event]) -> Spectator:
    spectator = Spectator(episode_words(directory), viewer, directory.name)
    for event in spectator.visible(events):
        spectator.board.update(event)
    return spectator


def test_watch_god_view_shows_the_quest_track(scripted_episode: Path) -> None:
    console = Console(record=True, force_terminal=True, width=120, height=50, file=io.StringIO())
    assert run_watch(watch_args(scripted_episode, "--speed", "0", "--plain"), console=console) == 0
    text = console.export_text()
    results = of(QuestResultEvent, iter_events(scripted_episode))
    track = " ".join(["✓" if r.succeeded else "✗" for r in results] + ["·"] * (5 - len(results)))
    assert "players (true roles)" in text and "GAME OVER" in text
    assert f"quests     {track}" in text or f"quests {track}" in " ".join(text.split())
    assert "team vote r" in text and "rejections" in text
    god = Spectator.of_episode(scripted_episode)
    assert god.board.notes["quests"] == track


def test_watch_as_percival_shows_the_vision_but_no_hidden_role(scripted_episode: Path) -> None:
    roles = read_episode(scripted_episode).manifest.roles
    percival = next(p for p, r in roles.items() if r == PERCIVAL)
    pair = [p for p, r in roles.items() if r in (MERLIN, MORGANA)]
    spectator = viewer_board(scripted_episode, percival, before_the_end(scripted_episode))
    board = spectator.board
    assert board.notes["merlin is"] == " or ".join(pair)
    assert {n: s.role for n, s in board.seats.items() if s.role} == {percival: PERCIVAL}
    text = record(spectator.render()) + record(transcript_panel(board))
    assert f"{percival} sees Merlin among: {', '.join(pair)}" in text
    assert not {ASSASSIN, MORGANA, MORDRED, MINION} & set(text.lower().split())
    console = Console(file=io.StringIO(), width=200)
    assert run_watch(watch_args(scripted_episode, "--as", percival), console=console) == 0
    lines = console.file.getvalue().splitlines()  # type: ignore[attr-defined]
    assert any("sees Merlin among" in line for line in lines)
    assert not any("sees as evil" in line for line in lines)
    cards = [line for line in lines if " plays success" in line or " plays fail" in line]
    assert all(f"[private] {percival} plays" in line for line in cards)


def test_watch_as_merlin_shows_evil_except_mordred(scripted_episode: Path) -> None:
    roles = read_episode(scripted_episode).manifest.roles
    merlin = next(p for p, r in roles.items() if r == MERLIN)
    spectator = viewer_board(scripted_episode, merlin, before_the_end(scripted_episode))
    known = {n: s.role for n, s in spectator.board.seats.items() if s.role}
    evil_seen = {p for p, r in roles.items() if r in (ASSASSIN, MORGANA, MINION)}
    assert known == {merlin: MERLIN} | dict.fromkeys(evil_seen, "evil")
    mordred = next(p for p, r in roles.items() if r == MORDRED)
    assert spectator.board.seats[mordred].role is None
    assert f"as {merlin} (merlin)" in record(spectator.render())


def test_a_recorded_scripted_episode_replays_exactly(scripted_episode: Path) -> None:
    result = replay_episode(scripted_episode)
    assert result.ok, result.divergence
    assert result.events == read_episode(scripted_episode).manifest.n_events
