"""Episodes for the HTML replay tests: hostile speech, private reasoning, a secret channel.

Every speech and every reasoning carries a unique tag (``said-<seat>-<n>``,
``thought-<seat>-<n>``), so a test can tell exactly which event a piece of text came from.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path

from conftest import TRAITORS_YAML

from agents.scripted import HeuristicPolicy
from traitors.episode.policy import Decision, Observation, SeatContext
from traitors.episode.spec import load_spec
from traitors.game.actions import ActionRequest, Speak
from traitors.game.events import Event, RevealEvent, RoleEvent
from traitors.game.registry import register_policy
from traitors.sweep.episodes import EpisodeSummary, run_episodes
from traitors.view.htmlreplay.page import DATA_ID

LONG = "W" * 20_000
"""A 20,000-character speech without a space: it must wrap, not widen the page."""
HOSTILE = (
    "<b>bold</b> and <i>x</i>",
    "<script>window.pwned=1</script>",
    '<img src=x onerror="window.pwned=2">',
    "\x1b[31mred\x1b[0m \u202eevil\u202c",
    "</script><script>window.pwned=3</script><!--",
    LONG,
)
"""Speech that tries to become markup, script or terminal control."""
TAG = re.compile(r"(?:said|thought)-[A-Za-z]+-\d+")
"""The unique tag of a speech or a reasoning."""
POLICY = "replay-hostile"


class HostileTagged:
    """The heuristic policy, saying the hostile strings in turn and reasoning privately."""

    said: Iterator[int]
    """Counts the hostile strings said: a new count for each run (``run_hostile``)."""

    def __init__(self, context: SeatContext) -> None:
        self.inner = HeuristicPolicy.create(context)
        self.seat = context.seat
        self.decisions = itertools.count()

    @classmethod
    def create(cls, context: SeatContext) -> HostileTagged:
        return cls(context)

    async def decide(self, observation: Observation, request: ActionRequest) -> Decision:
        decision = await self.inner.decide(observation, request)
        n = next(self.decisions)
        action = decision.action
        if isinstance(action, Speak):
            hostile = HOSTILE[next(self.said) % len(HOSTILE)]
            action = Speak(text=f"{hostile} said-{self.seat}-{n}", claims=action.claims)
        return Decision(action, reasoning=f"<i>my plan</i> thought-{self.seat}-{n}")


def run_hostile(out: Path, seeds: tuple[int, ...] = (1,)) -> list[EpisodeSummary]:
    """Episodes of The Traitors (7 seats, 2 hidden, 3 rounds) played by ``HostileTagged``."""
    register_policy(POLICY, type("HostileTagged", (HostileTagged,), {"said": itertools.count()}))
    spec = load_spec(TRAITORS_YAML, [f"agents.default.policy={POLICY}", "rules.n_players=7",
                                     "rules.n_traitors=2", "rules.max_rounds=3",
                                     "rules.max_speech_chars=20100"])  # fmt: skip
    return run_episodes(spec, seeds, out)


def embedded(page: str) -> dict:
    """The JSON document embedded in a replay page."""
    start = page.index(f'<script type="application/json" id="{DATA_ID}">')
    start = page.index(">", start) + 1
    return json.loads(page[start : page.index("</script>", start)])


def learned(view: list[Event], seat: str) -> set[str]:
    """The players whose role ``seat`` learned: itself, its allies, the revealed."""
    known = {seat}
    for event in view:
        if isinstance(event, RoleEvent) and event.player == seat:
            known |= set(event.allies)
        elif isinstance(event, RevealEvent):
            known.add(event.player)
    return known
