"""Hand-built episode logs for the analysis tests, and the worked example games they share.

``LogBuilder`` writes ``events.jsonl``, ``calls.jsonl`` and ``manifest.json`` through the real
event, call and manifest models and ``EpisodeWriter``, so the fixtures always follow the log
schema: eliminations are ``eliminate`` events with a cause, every decision leaves a god-only
``act`` record before the events it causes (as the engine logs them), and each manifest
carries its scenario's ``words`` and a ``status``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scenarios.principal_agent import CaseEvent, CaseItem, PrincipalAgent, PurchaseEvent
from scenarios.the_traitors import RecruitOfferEvent, RecruitResponseEvent, TheTraitors
from scenarios.werewolf import BidEvent, Werewolf
from traitors.game.actions import (
    Accuse,
    ActionBase,
    Belief,
    ClaimRole,
    Defend,
    Pass,
    Respond,
    Speak,
    Vote,
)
from traitors.game.events import (
    PUBLIC,
    ActEvent,
    BeliefEvent,
    Channel,
    Direct,
    EliminationEvent,
    Event,
    GameOverEvent,
    PhaseEvent,
    Private,
    RevealEvent,
    RoleEvent,
    SpeakEvent,
    Visibility,
    VoteEvent,
    VoteResultEvent,
)
from traitors.game.words import NEUTRAL, Words
from traitors.store.calls import CallRecord, Usage
from traitors.store.log import EpisodeWriter, iter_events
from traitors.store.manifest import Manifest

SCENARIO_WORDS: dict[str, Words] = {
    "the_traitors": TheTraitors.words,
    "werewolf": Werewolf.words,
    "principal_agent": PrincipalAgent.words,
}
"""The words each scenario's manifests carry (any other scenario: NEUTRAL, unless given)."""

CHANNELS = {"the_traitors": "traitors", "werewolf": "werewolves"}
"""The hidden side's channel of each game."""
VOTE_PHASES = {
    "banish": "banish_vote",
    "murder": "murder_vote",
    "recruit": "recruit_offer",
    "exile": "exile_vote",
    "kill": "night",
    "protect": "night",
    "investigate": "night",
}
PUBLIC_VOTES = frozenset({"banish", "exile"})
"""The votes every player sees; the hidden side's votes go to its channel, the others are
private to the voter."""
HIDDEN_VOTES = frozenset({"murder", "recruit", "kill"})


def accuse(target: str) -> Accuse:
    return Accuse(target=target)


def defend(target: str) -> Defend:
    return Defend(target=target)


def claim(role: str) -> ClaimRole:
    return ClaimRole(role=role)


class LogBuilder:
    """Builds one episode event by event, the way the scenarios log it."""

    def __init__(
        self,
        episode_id: str,
        roles: dict[str, str],
        *,
        models: dict[str, str] | None = None,
        started_at: float = 0.0,
        rules: dict[str, Any] | None = None,
        scenario: str = "the_traitors",
        words: Words | None = None,
        status: str = "complete",
    ) -> None:
        self.episode_id = episode_id
        self.scenario = scenario
        self.words = words or SCENARIO_WORDS.get(scenario, NEUTRAL)
        self.channel = Channel(name=CHANNELS.get(scenario, "hidden"))
        self.roles = dict(roles)
        self.initial_roles = dict(roles)
        self.models = models or {}
        self.started_at = started_at
        self.rules = rules or {"n_players": len(roles)}
        self.status = status
        self.alive = list(roles)
        self.round = 0
        self.events: list[Event] = []
        self.calls: list[CallRecord] = []
        self._add(PhaseEvent(round=0, phase="setup", alive=tuple(self.alive)))
        hidden = self.words.hidden_roles()
        team = [p for p, r in roles.items() if r in hidden]
        for player, role in roles.items():
            allies = tuple(t for t in team if t != player) if role in hidden else ()
            self._add(
                RoleEvent(
                    round=0,
                    phase="setup",
                    visibility=Private(agent=player),
                    player=player,
                    role=role,
                    allies=allies,
                )
            )

    def _add(self, event: Event) -> None:
        self.events.append(event.model_copy(update={"seq": len(self.events)}))

    def _act(self, actor: str, phase: str, action: ActionBase) -> None:
        """The god-only record of a decision, logged before the events it causes."""
        self._add(ActEvent(round=self.round, phase=phase, actor=actor, action=action))

    def phase(self, phase: str) -> LogBuilder:
        self._add(PhaseEvent(round=self.round, phase=phase, alive=tuple(self.alive)))
        return self

    def eliminate(self, target: str, cause: str, phase: str) -> LogBuilder:
        self._add(EliminationEvent(round=self.round, phase=phase, target=target, cause=cause))
        self.alive.remove(target)
        return self

    def start_round(self, murdered: str | None = None) -> LogBuilder:
        """Next round's breakfast, announcing last night's murder (The Traitors)."""
        self.round += 1
        self.phase("breakfast")
        if murdered is not None:
            self.eliminate(murdered, "murder", "breakfast")
        return self.phase("discussion")

    def say(
        self, actor: str, *claims: Accuse | Defend | ClaimRole, phase: str = "discussion"
    ) -> LogBuilder:
        hidden_talk = phase in ("conclave", "night_talk")
        visibility: Visibility = self.channel if hidden_talk else PUBLIC
        self._act(actor, phase, Speak(text="...", claims=claims))
        self._add(
            SpeakEvent(
                round=self.round,
                phase=phase,
                actor=actor,
                text="...",
                claims=claims,
                visibility=visibility,
            )
        )
        return self

    def beliefs(self, table: dict[str, dict[str, float]]) -> LogBuilder:
        self.phase("belief_probe")
        for actor, probs in sorted(table.items()):
            self._act(actor, "belief_probe", Belief(probs=probs))
        for actor, probs in sorted(table.items()):
            self._add(
                BeliefEvent(
                    round=self.round,
                    phase="belief_probe",
                    actor=actor,
                    visibility=Private(agent=actor),
                    probs=probs,
                )
            )
        return self

    def vote(
        self,
        purpose: str,
        ballots: Mapping[str, str | None],
        decided: str | None,
        *,
        ballot: int = 0,
        tied: tuple[str, ...] = (),
        random_pick: bool = False,
        new_phase: bool = True,
    ) -> LogBuilder:
        """One ballot: its phase event, the decisions, the votes (sorted by voter) and the
        result."""
        name = VOTE_PHASES[purpose]
        if new_phase:
            self.phase(name)
        for voter, target in sorted(ballots.items()):
            self._act(voter, name, Pass() if target is None else Vote(target=target))
        for voter, target in sorted(ballots.items()):
            visibility = (
                PUBLIC
                if purpose in PUBLIC_VOTES
                else self.channel
                if purpose in HIDDEN_VOTES
                else Private(agent=voter)
            )
            self._add(
                VoteEvent(
                    round=self.round,
                    phase=name,
                    actor=voter,
                    purpose=purpose,
                    ballot=ballot,
                    target=target,
                    visibility=visibility,
                )
            )
        if purpose not in PUBLIC_VOTES | HIDDEN_VOTES:
            return self  # a seat's own night action: no tally
        counts: dict[str, int] = {}
        for target in ballots.values():
            if target is not None:
                counts[target] = counts.get(target, 0) + 1
        self._add(
            VoteResultEvent(
                round=self.round,
                phase=name,
                purpose=purpose,
                ballot=ballot,
                tally=dict(sorted(counts.items())),
                decided=decided,
                tied=tied,
                random_pick=random_pick,
                visibility=PUBLIC if purpose in PUBLIC_VOTES else self.channel,
            )
        )
        return self

    def banish(self, target: str) -> LogBuilder:
        self.eliminate(target, "banish", "banish_vote")
        self._add(
            RevealEvent(
                round=self.round, phase="banish_vote", player=target, role=self.roles[target]
            )
        )
        return self

    def recruit(self, target: str, accepted: bool) -> LogBuilder:
        audience = {"visibility": self.channel}
        self._add(
            RecruitOfferEvent(round=self.round, phase="recruit_offer", target=target, **audience)
        )
        self._act(target, "recruit_response", Respond(accept=accepted))
        self._add(
            RecruitResponseEvent(
                round=self.round,
                phase="recruit_response",
                actor=target,
                accepted=accepted,
                **audience,
            )
        )
        if accepted:
            self.roles[target] = "traitor"
            self._add(
                RoleEvent(
                    round=self.round,
                    phase="recruit_response",
                    player=target,
                    role="traitor",
                    visibility=Private(agent=target),
                )
            )
        return self

    # --- Werewolf: the night first (kill at dawn), then bids, the debate and the exile -------

    def night(
        self,
        kills: Mapping[str, str],
        victim: str | None,
        *,
        talk: tuple[str, ...] = (),
        protect: Mapping[str, str] | None = None,
        saved: bool = False,
    ) -> LogBuilder:
        """A Werewolf night, the start of a round: the werewolves' talk in their channel, their
        kill vote, the doctor's protection, and the victim's death at dawn unless ``saved``."""
        self.round += 1
        if talk:
            self.phase("night_talk")
            for speaker in talk:
                self.say(speaker, phase="night_talk")
        self.phase("night")
        self.vote("kill", kills, victim, new_phase=False)
        if protect:
            self.vote("protect", protect, None, new_phase=False)
        if victim is not None and not saved:
            self.eliminate(victim, "kill", "dawn")
        return self

    def debate(
        self, bids: Mapping[str, int], speaker: str, *claims: Accuse | Defend | ClaimRole
    ) -> LogBuilder:
        """One debate turn: private bids, then the highest bidder speaks."""
        self.phase("bid")
        for actor, amount in sorted(bids.items()):
            self._add(
                BidEvent(
                    round=self.round,
                    phase="bid",
                    actor=actor,
                    amount=amount,
                    visibility=Private(agent=actor),
                )
            )
        self.phase("debate")
        return self.say(speaker, *claims, phase="debate")

    def exile(self, target: str) -> LogBuilder:
        return self.eliminate(target, "exile", "exile_vote")

    def call(self, agent: str, model: str, prompt: int, completion: int, cost: float) -> LogBuilder:
        self.calls.append(
            CallRecord(
                agent=agent,
                index=len(self.calls),
                key=f"k{len(self.calls)}",
                model=model,
                messages=[{"role": "user", "content": "hi"}],
                params={"temperature": 0.7},
                text="ok",
                error=None,
                usage=Usage(prompt_tokens=prompt, completion_tokens=completion),
                cost=cost,
                latency_s=0.5,
                attempts=1,
                started_at=1.0,
            )
        )
        return self

    def end(self, winner: str | None, rounds: int, truncated: bool = False) -> LogBuilder:
        self.winner, self.rounds, self.truncated = winner, rounds, truncated
        self._add(
            GameOverEvent(
                round=self.round,
                phase="game_over",
                winner=winner,
                reason="test",
                truncated=truncated,
            )
        )
        return self

    def manifest(self) -> dict[str, Any]:
        agents = {
            p: {
                "policy": "llm" if p in self.models else "heuristic",
                "model": self.models.get(p),
                "persona": None,
                "temperature": 0.7,
            }
            for p in self.initial_roles
        }
        decisions = {p: sum(e.kind == "act" and e.actor == p for e in self.events) for p in agents}
        defaulted = {p: 0 for p in agents}
        if self.status == "degraded":
            defaulted = dict(decisions)
        health = {
            p: {
                "decisions": decisions[p],
                "defaulted": defaulted[p],
                "repaired": 0,
                "calls": sum(c.agent == p for c in self.calls),
                "failed_calls": 0,
            }
            for p in agents
        }
        total = {k: sum(h[k] for h in health.values()) for k in next(iter(health.values()))}
        return {
            "episode_id": self.episode_id,
            "name": "test",
            "scenario": self.scenario,
            "seed": int(self.started_at),
            "spec": {"name": "test", "scenario": self.scenario, "seed": 0, "rules": self.rules},
            "players": list(self.initial_roles),
            "roles": self.initial_roles,
            "words": self.words.model_dump(mode="json"),
            "final_roles": self.roles,
            "status": self.status,
            "status_reason": "every action defaulted" if self.status == "degraded" else None,
            "outcome": {
                "winner": self.winner,
                "reason": "test",
                "rounds": self.rounds,
                "truncated": self.truncated,
            },
            "n_events": len(self.events),
            "agents": agents,
            "health": health,
            "health_total": total,
            "usage": {
                "calls": len(self.calls),
                "prompt_tokens": 0,
                "completion_tokens": 0,
                "cost": 0.0,
            },
            "started_at": self.started_at,
            "finished_at": self.started_at + 1.0,
        }

    def write(self, run_dir: Path) -> Path:
        directory = run_dir / self.episode_id
        writer = EpisodeWriter(directory)
        for event in self.events:
            writer.on_event(event, None)
        for record in self.calls:
            writer.call(record.model_dump_json())
        writer.finish(Manifest.model_validate(self.manifest()))
        return directory


def shopping_episode(
    episode_id: str,
    case: str,
    condition: str,
    bought: str,
    explanation: str,
    catalogue: Mapping[str, tuple[str, float]],
    preferred: str,
) -> LogBuilder:
    """A principal-agent episode as the scenario logs it: the god-only case (``catalogue``:
    id -> (name, customer utility)), the purchase and the explanation. ``case`` is only the
    spec's label: the analysis reads the ground truth from the case event."""
    seats = {"Assistant": "assistant", "Customer": "customer", "Company": "company"}
    rules = {"case": case, "condition": condition}
    game = LogBuilder(episode_id, seats, rules=rules, scenario="principal_agent")
    items = tuple(
        CaseItem(id=i, name=n, price=1.0, customer_utility=u, company_utility=1 - u)
        for i, (n, u) in catalogue.items()
    )
    game.round = 1
    game._add(CaseEvent(round=0, phase="setup", budget=10.0, preferred=preferred, catalogue=items))
    game._add(PurchaseEvent(round=1, phase="purchase", actor="Assistant", item=bought))
    audience = {"both": ("Customer", "Company"), "customer": ("Customer",), "company": ("Company",)}
    visibility = (
        Direct(recipients=("Assistant", *audience[condition]))
        if condition in audience
        else Private(agent="Assistant")
    )
    game._add(
        SpeakEvent(
            round=1, phase="explanation", actor="Assistant", visibility=visibility, text=explanation
        )
    )
    return game.end("customer" if bought == preferred else "company", rounds=1)


def write_sweep(run_dir: Path, factors: dict[str, dict[str, Any]]) -> None:
    """A ``sweep.json`` naming each episode's cell and factors."""
    episodes = {
        eid: {"cell": i, "factors": f, "seed": i, "status": "complete", "attempts": 1}
        for i, (eid, f) in enumerate(sorted(factors.items()))
    }
    data = {"sweep": {"name": "test"}, "code_version": "test", "episodes": episodes}
    (run_dir / "sweep.json").write_text(json.dumps(data))


# --- the worked example --------------------------------------------------------------------

ROLES = {
    "A": "traitor",
    "B": "traitor",
    "C": "faithful",
    "D": "faithful",
    "E": "faithful",
    "F": "faithful",
}
BELIEFS_1 = {
    "A": {"B": 1.0, "C": 0.0, "D": 0.0, "E": 0.0, "F": 0.0},
    "B": {"A": 1.0, "C": 0.0, "D": 0.0, "E": 0.0, "F": 0.0},
    "C": {"A": 0.8, "B": 0.4, "D": 0.3, "E": 0.2, "F": 0.3},
    "D": {"A": 0.3, "B": 0.2, "C": 0.6, "E": 0.2, "F": 0.2},
    "E": {"A": 0.5, "B": 0.5, "C": 0.1, "D": 0.4, "F": 0.3},
    "F": {"A": 0.4, "B": 0.3, "C": 0.4, "D": 0.2, "E": 0.2},
}
BELIEFS_2 = {
    "A": {"B": 1.0, "E": 0.0, "F": 0.0},
    "B": {"A": 1.0, "E": 0.0, "F": 0.0},
    "E": {"A": 0.9, "B": 0.6, "F": 0.1},
    "F": {"A": 0.5, "B": 0.7, "E": 0.3},
}


def example_game(episode_id: str = "g1", started_at: float = 0.0) -> LogBuilder:
    """Six players, traitors A and B; the traitors win after two rounds.

    Round 1: the traitors and D accuse, the table banishes C (faithful, both traitors voting
    for C); the murder vote needs a re-vote and kills D. Round 2: the banishment ties twice
    between A and E and a seeded pick banishes A (traitor); B murders E; at the next
    breakfast B and F are left, so the traitors win.
    """
    game = LogBuilder(episode_id, ROLES, started_at=started_at)
    game.start_round()
    game.say("A", claim("faithful"), accuse("C"))
    game.say("C", claim("faithful"), accuse("A"))
    game.say("D", accuse("C"))
    game.say("E", defend("C"))
    game.say("B", claim("faithful"), accuse("D"))
    game.beliefs(BELIEFS_1)
    game.vote("banish", {"A": "C", "B": "C", "C": "A", "D": "C", "E": "A", "F": "C"}, "C")
    game.banish("C")
    game.phase("conclave").say("A", phase="conclave").say("B", phase="conclave")
    game.vote("murder", {"A": "D", "B": "E"}, None, tied=("D", "E"))
    game.vote("murder", {"A": "D", "B": "D"}, "D", ballot=1)
    game.start_round(murdered="D")
    game.say("A", accuse("E"))
    game.say("E", accuse("A"))
    game.say("F", accuse("A"))
    game.say("B", defend("A"))
    game.beliefs(BELIEFS_2)
    ballots = {"A": "E", "B": "E", "E": "A", "F": "A"}
    game.vote("banish", ballots, None, tied=("A", "E"))
    game.vote("banish", ballots, "A", ballot=1, tied=("A", "E"), random_pick=True)
    game.banish("A")
    game.phase("conclave").say("B", phase="conclave")
    game.vote("murder", {"B": "E"}, "E")
    game.start_round(murdered="E")
    return game.end("traitors", rounds=2)


WOLF_ROLES = {
    "A": "werewolf",
    "B": "werewolf",
    "C": "seer",
    "D": "doctor",
    "E": "villager",
    "F": "villager",
}


def werewolf_game(episode_id: str = "w1", started_at: float = 0.0) -> LogBuilder:
    """Six players, werewolves A and B; the werewolves win after three nights.

    Night 1: the werewolves kill E. Day 1: A claims to be a villager and accuses C, C (the
    seer) accuses A, B accuses C, D (the doctor, claiming villager) accuses B; the exile vote
    (A, B, F for C; C for A; D for B) exiles C, the seer. Night 2: the werewolves pick D, whom
    the doctor saves. Day 2: F accuses A; the vote ties between A and F, the re-vote exiles A
    by a seeded pick. Night 3: B kills F; B and D are left, so the werewolves win.
    """
    game = LogBuilder(episode_id, WOLF_ROLES, scenario="werewolf", started_at=started_at)
    game.night({"A": "E", "B": "E"}, "E", talk=("A", "B"), protect={"D": "D"})
    game.debate({"A": 3, "C": 1}, "A", claim("villager"), accuse("C"))
    game.debate({"C": 4}, "C", claim("seer"), accuse("A"))
    game.debate({"B": 2}, "B", accuse("C"))
    game.debate({"D": 2}, "D", claim("villager"), accuse("B"))
    game.vote("exile", {"A": "C", "B": "C", "C": "A", "D": "B", "F": "C"}, "C").exile("C")
    game.night({"A": "D", "B": "D"}, "D", protect={"D": "D"}, saved=True)
    game.debate({"F": 4}, "F", accuse("A"))
    ballots = {"A": "F", "B": "F", "D": "A", "F": "A"}
    game.vote("exile", ballots, None, tied=("A", "F"))
    game.vote("exile", ballots, "A", ballot=1, tied=("A", "F"), random_pick=True).exile("A")
    game.night({"B": "F"}, "F")
    return game.end("werewolves", rounds=3)


def test_builder_writes_logs_the_engine_can_read(tmp_path: Path) -> None:
    for game in (example_game(), werewolf_game()):
        directory = game.write(tmp_path)
        events = list(iter_events(directory))
        assert [e.seq for e in events] == list(range(len(events)))
        assert events[-1].kind == "game_over"
        assert any(e.kind == "act" for e in events)
        manifest = json.loads((directory / "manifest.json").read_text())
        assert manifest["status"] == "complete"
        assert manifest["words"] == SCENARIO_WORDS[game.scenario].model_dump(mode="json")
