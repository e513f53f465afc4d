"""Hand-built episode logs for the analysis tests, and the worked example game they share.

``LogBuilder`` writes ``events.jsonl``, ``calls.jsonl`` and ``manifest.json`` through the real
event models and ``EpisodeWriter``, so the fixtures always follow the log schema.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from traitors.actions import Accuse, ClaimRole, Defend
from traitors.events import (
    BanishEvent,
    BeliefEvent,
    CaseEvent,
    CaseItem,
    Channel,
    Direct,
    Event,
    GameOverEvent,
    MurderEvent,
    PhaseEvent,
    Private,
    PurchaseEvent,
    RecruitOfferEvent,
    RecruitResponseEvent,
    RevealEvent,
    RoleEvent,
    SpeakEvent,
    VoteEvent,
    VoteResultEvent,
)
from traitors.log import EpisodeWriter, iter_events

NIGHT = Channel(name="traitors")


def accuse(target: str) -> Accuse:
    return Accuse(target=target)


def defend(target: str) -> Defend:
    return Defend(target=target)


def claim(role: str) -> ClaimRole:
    return ClaimRole(role=role)


class LogBuilder:
    """Builds one episode event by event, the way the_traitors logs it."""

    def __init__(
        self,
        episode_id: str,
        roles: dict[str, str],
        *,
        models: dict[str, str] | None = None,
        started_at: float = 0.0,
        rules: dict[str, Any] | None = None,
        scenario: str = "the_traitors",
    ) -> None:
        self.episode_id = episode_id
        self.scenario = scenario
        self.roles = dict(roles)
        self.initial_roles = dict(roles)
        self.models = models or {}
        self.started_at = started_at
        self.rules = rules or {"n_players": len(roles)}
        self.alive = list(roles)
        self.round = 0
        self.events: list[Event] = []
        self.calls: list[dict[str, Any]] = []
        self._add(PhaseEvent(round=0, phase="setup", alive=tuple(self.alive)))
        traitors = [p for p, r in roles.items() if r == "traitor"]
        for player, role in roles.items():
            allies = tuple(t for t in traitors if t != player) if role == "traitor" else ()
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

    def phase(self, phase: str) -> LogBuilder:
        self._add(PhaseEvent(round=self.round, phase=phase, alive=tuple(self.alive)))
        return self

    def start_round(self, murdered: str | None = None) -> LogBuilder:
        """Next round's breakfast, announcing last night's murder."""
        self.round += 1
        if murdered is not None:
            self.alive.remove(murdered)
        self.phase("breakfast")
        if murdered is not None:
            self._add(MurderEvent(round=self.round, phase="breakfast", target=murdered))
        return self.phase("discussion")

    def say(
        self, actor: str, *claims: Accuse | Defend | ClaimRole, phase: str = "discussion"
    ) -> LogBuilder:
        visibility = NIGHT if phase == "conclave" else None
        extra = {"visibility": visibility} if visibility else {}
        self._add(
            SpeakEvent(
                round=self.round, phase=phase, actor=actor, text="...", claims=claims, **extra
            )
        )
        return self

    def beliefs(self, table: dict[str, dict[str, float]]) -> LogBuilder:
        self.phase("belief_probe")
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
    ) -> LogBuilder:
        """One ballot: its phase event, the votes (sorted by voter) and the result."""
        phase = {"banish": "banish_vote", "murder": "murder_vote", "recruit": "recruit_offer"}
        name = phase[purpose]
        extra: dict[str, Any] = {} if purpose == "banish" else {"visibility": NIGHT}
        self.phase(name)
        for voter, target in sorted(ballots.items()):
            self._add(
                VoteEvent(
                    round=self.round,
                    phase=name,
                    actor=voter,
                    purpose=purpose,
                    ballot=ballot,
                    target=target,
                    **extra,
                )
            )
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
                **extra,
            )
        )
        return self

    def banish(self, target: str) -> LogBuilder:
        self._add(BanishEvent(round=self.round, phase="banish_vote", target=target))
        self._add(
            RevealEvent(
                round=self.round, phase="banish_vote", player=target, role=self.roles[target]
            )
        )
        self.alive.remove(target)
        return self

    def recruit(self, target: str, accepted: bool) -> LogBuilder:
        audience = {"visibility": NIGHT}
        self._add(
            RecruitOfferEvent(round=self.round, phase="recruit_offer", target=target, **audience)
        )
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

    def call(self, agent: str, model: str, prompt: int, completion: int, cost: float) -> LogBuilder:
        self.calls.append(
            {
                "agent": agent,
                "index": len(self.calls),
                "key": f"k{len(self.calls)}",
                "model": model,
                "messages": [{"role": "user", "content": "hi"}],
                "params": {"temperature": 0.7},
                "text": "ok",
                "error": None,
                "usage": {"prompt_tokens": prompt, "completion_tokens": completion},
                "cost": cost,
                "latency_s": 0.5,
                "attempts": 1,
                "started_at": 1.0,
            }
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
        return {
            "episode_id": self.episode_id,
            "name": "test",
            "scenario": self.scenario,
            "seed": int(self.started_at),
            "spec": {"name": "test", "scenario": self.scenario, "seed": 0, "rules": self.rules},
            "players": list(self.initial_roles),
            "roles": self.initial_roles,
            "final_roles": self.roles,
            "outcome": {
                "winner": self.winner,
                "reason": "test",
                "rounds": self.rounds,
                "truncated": self.truncated,
            },
            "n_events": len(self.events),
            "agents": agents,
            "usage": {
                "calls": len(self.calls),
                "prompt_tokens": 0,
                "completion_tokens": 0,
                "cost": 0.0,
            },
            "status": "complete",
            "started_at": self.started_at,
            "finished_at": self.started_at + 1.0,
        }

    def write(self, run_dir: Path) -> Path:
        directory = run_dir / self.episode_id
        writer = EpisodeWriter(directory)
        for event in self.events:
            writer.event(event)
        for record in self.calls:
            writer.call(record)
        writer.finish(self.manifest())
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


def test_builder_writes_logs_the_engine_can_read(tmp_path: Path) -> None:
    directory = example_game().write(tmp_path)
    events = list(iter_events(directory))
    assert [e.seq for e in events] == list(range(len(events)))
    assert events[-1].kind == "game_over"
    assert json.loads((directory / "manifest.json").read_text())["status"] == "complete"
