"""An LLM agent's bounded memory: lessons, rolling notes, current beliefs, recent events.

The prompt stays bounded as the game grows: only the last ``recent`` events are shown
verbatim; everything older lives in the notes the agent rewrites at the end of each round.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from agents.render import render_event
from traitors.episode.policy import Observation
from traitors.game.events import BeliefEvent, EliminationEvent, RevealEvent
from traitors.game.words import NEUTRAL, Words

DEFAULT_RECENT_EVENTS = 20


@dataclass
class Memory:
    """What the agent carries from call to call."""

    words: Words = NEUTRAL
    """The scenario's words."""
    recent: int = DEFAULT_RECENT_EVENTS
    """How many of the latest visible events are shown verbatim."""
    lessons: str = ""
    """Lessons carried over from earlier episodes (``memory: persist``)."""
    notes: str = ""
    """The agent's own rolling reflection, rewritten each round."""
    noted_round: int = 0
    """The last round the notes cover."""
    beliefs: dict[str, float] = field(default_factory=dict)
    """The agent's latest private P(hidden side) estimates."""

    def digest(self, observation: Observation) -> str:
        """The memory section of a prompt.

        Ordered from the most to the least stable part, so consecutive prompts of an agent
        share a long prefix (a local model then reuses its KV cache): lessons, notes, the
        events since the notes (append-only within a round), then the standing and beliefs.
        """
        self._update_beliefs(observation)
        sections = []
        if self.lessons:
            sections.append(f"Lessons you wrote after earlier games:\n{self.lessons}")
        if self.notes:
            sections.append(f"Your private notes (up to round {self.noted_round}):\n{self.notes}")
        viewer = observation.agent
        fresh = [e for e in observation.events if e.round > self.noted_round]
        lines = [line for e in fresh if (line := render_event(e, viewer, self.words))]
        lines = lines[-self.recent :]
        header = "What happened since your notes" if self.notes else "What happened so far"
        sections.append(f"{header} (oldest first):\n" + "\n".join(lines))
        sections.append(self.standing(observation))
        if self.beliefs:
            estimates = ", ".join(f"{p} {v:.2f}" for p, v in self.beliefs.items())
            suspect = self.words.suspect
            sections.append(f"Your latest private estimates of P({suspect}): {estimates}")
        return "\n\n".join(sections)

    def standing(self, observation: Observation) -> str:
        """Who is alive and what happened to the others: a bounded public summary."""
        fates: dict[str, str] = {}
        for event in observation.events:
            if isinstance(event, EliminationEvent):
                fates[event.target] = self.words.elimination(event.cause)
            elif isinstance(event, RevealEvent) and event.player in fates:
                fates[event.player] += f", was a {event.role}"
        gone = "; ".join(f"{p} ({fate})" for p, fate in fates.items()) or "nobody yet"
        return (
            f"Round {observation.round}. You are {observation.agent}. "
            f"Alive: {', '.join(observation.alive)}. Gone: {gone}."
        )

    def _update_beliefs(self, observation: Observation) -> None:
        for event in reversed(observation.events):
            if isinstance(event, BeliefEvent) and event.actor == observation.agent:
                self.beliefs = dict(event.probs)
                return
