"""Each game in its own words; scenario kinds through the public extension point; the
package boundaries the engine keeps."""

from __future__ import annotations

import ast
import asyncio
import io
import json
import re
from pathlib import Path
from typing import Any, Literal

import pytest
from conftest import ROOT
from rich.console import Console

from traitors.episode.engine import run_episode
from traitors.episode.spec import validate_spec
from traitors.game.actions import ActionBase, ActionRequest, register_action_kinds
from traitors.game.events import (
    EliminationEvent,
    EventBase,
    VoteEvent,
    _load_installed_scenarios,
    event_kinds,
    register_event_kinds,
)
from traitors.game.words import Words
from traitors.llm.fake import register_fake_model, schema_filler
from traitors.store.log import CALLS
from traitors.sweep.episodes import run_episodes
from traitors.view.spectate.watch import watch_episode

WEREWOLF = {
    "n_players": 6,
    "n_werewolves": 2,
    "debate_turns": 2,
    "max_rounds": 3,
    "belief_probe": True,
}


def werewolf_spec(policy: str = "heuristic", **agent: Any):
    raw = {
        "name": "ww",
        "scenario": "werewolf",
        "rules": WEREWOLF,
        "agents": {"default": {"policy": policy, **agent}},
    }
    return validate_spec(raw)


def test_werewolf_prompts_speak_of_werewolves_never_of_traitors(tmp_path: Path) -> None:
    model = register_fake_model("words-ww", schema_filler("ww"))
    spec = werewolf_spec("llm", model=model)
    summaries = run_episodes(spec, [1, 2], tmp_path)
    prompts: dict[str, str] = {}
    for summary in summaries:
        for line in (summary.dir / CALLS).read_text().splitlines():
            call = json.loads(line)
            text = "\n".join(m["content"] for m in call["messages"])
            prompts[call["agent"]] = prompts.get(call["agent"], "") + text
    everything = "\n".join(prompts.values())
    assert not re.search(r"traitor|faithful|banish|murder|conclave", everything, re.IGNORECASE)
    wolves = [
        s for m in (x.manifest for x in summaries) for s, r in m.roles.items() if r == "werewolf"
    ]
    assert any("fellow werewolves" in prompts[w] for w in wolves)
    assert any("the werewolves' channel" in prompts[w] for w in wolves)
    assert "P(werewolf)" in everything


def test_werewolf_events_use_its_own_words() -> None:
    result = asyncio.run(run_episode(werewolf_spec(), 4))
    causes = {e.cause for e in result.events if isinstance(e, EliminationEvent)}
    purposes = {e.purpose for e in result.events if isinstance(e, VoteEvent)}
    assert causes <= {"exile", "kill"} and causes
    assert purposes <= {"exile", "kill", "protect", "investigate"} and "exile" in purposes
    assert result.manifest.words["suspect"] == "werewolf"
    assert {f["name"] for f in result.manifest.words["factions"]} == {"villagers", "werewolves"}
    phases = {e.phase for e in result.events}
    assert not phases & {"banish_vote", "murder_vote", "conclave"}


def test_the_spectator_names_the_scenario_s_factions(tmp_path: Path) -> None:
    (summary,) = run_episodes(werewolf_spec(), [3], tmp_path)
    console = Console(file=io.StringIO(), width=200, force_terminal=False)
    watch_episode(summary.dir, console, speed=0)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "P(werewolf)" in text and "traitor" not in text.lower()
    assert re.search(r"was (exiled|killed)", text)


def test_every_registered_kind_renders_itself() -> None:
    _load_installed_scenarios()
    kinds = event_kinds()
    assert {"eliminate", "act", "bid", "purchase", "case", "recruit_offer"} <= set(kinds)
    for cls in kinds.values():
        assert not getattr(cls, "__abstractmethods__", None), cls


def test_a_kind_that_does_not_render_is_refused() -> None:
    class Silent(EventBase):
        kind: Literal["silent"] = "silent"

        def prompt_text(self, viewer: str, words: Words) -> str | None:
            return None

    with pytest.raises(TypeError, match="does not render itself: line_text"):
        register_event_kinds(Silent)
    with pytest.raises(TypeError):
        Silent(round=0, phase="x")  # type: ignore[abstract]

    class Shapeless(ActionBase):
        kind: Literal["shapeless"] = "shapeless"

    with pytest.raises(TypeError, match="incomplete"):
        register_action_kinds(Shapeless)


def test_a_human_answers_a_scenario_s_own_kind() -> None:
    from agents.human import HumanPolicy
    from scenarios.werewolf import WORDS, Bid

    class Terminal:
        def __init__(self, answers: list[str]) -> None:
            self.answers, self.said = answers, []

        def show(self, observation: Any) -> None:
            pass

        def say(self, text: str, style: str = "") -> None:
            self.said.append(text)

        def ask(self, prompt: str) -> str:
            self.said.append(prompt)
            return self.answers.pop(0)

    request = ActionRequest(
        actor="Ann",
        purpose="bid",
        prompt="Bid.",
        kinds=("bid",),
        max_amount=4,
        default=Bid(amount=0),
    )
    terminal = Terminal(["9", "3"])
    human = HumanPolicy("Ann", terminal, WORDS)
    assert human._ask(request) == Bid(amount=3)
    assert any("a whole number from 0 to 4" in line for line in terminal.said)


def _imports(package: str) -> set[tuple[str, str]]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add((str(path.relative_to(ROOT)), node.module))
            elif isinstance(node, ast.Import):
                found |= {(str(path.relative_to(ROOT)), alias.name) for alias in node.names}
    return found


def test_the_engine_imports_no_scenario_agent_or_analysis() -> None:
    """Only the command layer composes analysis; no engine module imports a game or agent."""
    bad = {
        (f, m)
        for f, m in _imports("traitors")
        if m.split(".")[0] in ("agents", "analysis", "scenarios")
        and not (f.startswith("traitors/commands/") and m.startswith("analysis"))
    }
    assert not bad
    spectator = {(f, m) for f, m in _imports("agents") if m.startswith("traitors.view.spectate")}
    assert not spectator


def test_what_a_seat_learns_at_setup_is_in_its_system_prompt(tmp_path: Path) -> None:
    from scenarios.principal_agent import PRESETS

    model = register_fake_model("words-shopper", schema_filler("shop"))
    raw = {
        "name": "pa",
        "scenario": "principal_agent",
        "rules": {"case": "laptop"},
        "agents": {
            "default": {"policy": "heuristic"},
            "assistant": {"policy": "llm", "model": model},
        },
    }
    (summary,) = run_episodes(validate_spec(raw), [0], tmp_path)
    calls = [json.loads(line) for line in (summary.dir / CALLS).read_text().splitlines()]
    system = calls[0]["messages"][0]["content"]
    case = PRESETS["laptop"]
    assert "What you learned when the game began" in system
    assert case.customer_brief in system and case.company_persona in system
