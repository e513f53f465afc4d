"""The LLM agent's prompts are laid out for prompt caching: a seat's successive prompts
extend each other, and the memory window moves in blocks, never showing less than before."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest

from agents.llm import _options, describe_schema
from agents.memory import Memory
from traitors.episode.policy import Observation
from traitors.episode.spec import load_spec
from traitors.game.actions import ActionRequest
from traitors.game.events import BeliefEvent, EliminationEvent, Event, PhaseEvent, SpeakEvent
from traitors.llm.fake import register_fake_model, schema_filler
from traitors.store.log import CALLS
from traitors.sweep.episodes import run_episodes

ROOT = Path(__file__).resolve().parent.parent
TAIL = re.compile(r"\n\nRound \d+\. You are ")
"""Where a prompt's per-turn part starts (the round, who is alive, the request)."""
PLAYERS = ("Alice", "Bob", "Carol", "Dave")


def flat(call: dict) -> str:
    return "".join(f"<{m['role']}>\n{m['content']}\n" for m in call["messages"])


def common(a: str, b: str) -> int:
    return next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )


@pytest.mark.slow
def test_successive_prompts_of_a_seat_extend_each_other(tmp_path: Path) -> None:
    model = register_fake_model("layout", schema_filler())
    spec = load_spec(
        ROOT / "scenarios" / "werewolf.yaml",
        ["agents.default.policy=llm", f"agents.default.model={model}", "rules.max_rounds=3"],
    )
    (summary,) = run_episodes(spec, [0], tmp_path)
    calls = [json.loads(line) for line in (summary.dir / CALLS).read_text().splitlines()]
    by_seat: dict[str, list[dict]] = {}
    for call in calls:
        by_seat.setdefault(call["agent"], []).append(call)
    extended, covered = [], []
    rounds = set()
    for seat_calls in by_seat.values():
        for before, after in itertools.pairwise(seat_calls):
            old, new = flat(before), flat(after)
            tail = TAIL.search(old)
            assert tail is not None
            rounds.update(re.findall(r"\n\nRound (\d+)\. You are ", new))
            extended.append(new.startswith(old[: tail.start()]))
            covered.append(common(old, new) / len(old))
    assert len(rounds) >= 2 and len(extended) > 100  # a multi-round game
    # Most turns only append: everything before the previous prompt's per-turn part is
    # kept, so the shared prefix covers most of the previous prompt (with the layout before
    # this one, a sliding window, about half of the prompts extended the previous one).
    assert sum(extended) / len(extended) >= 0.8
    assert sum(covered) / len(covered) >= 0.75


# --- the memory window, on hand-made events ----------------------------------------------


def observe(events: list[Event], round_no: int = 1) -> Observation:
    return Observation("Alice", round_no, "day", PLAYERS, PLAYERS, tuple(events))


def said(n: int, round_no: int = 1) -> SpeakEvent:
    return SpeakEvent(round=round_no, phase="day", actor="Bob", text=f"line {n}")


def shown(digest: str) -> list[int]:
    return [int(n) for n in re.findall(r'Bob said: "line (\d+)"', digest)]


def stable(digest: str) -> str:
    """A digest without its per-turn part."""
    return digest[: digest.rindex("\n\nRound ")]


def test_the_window_moves_in_blocks_and_keeps_the_last_events() -> None:
    memory = Memory(recent=5, block=4)
    starts = []
    for count in range(40):
        start = memory.window_start(count)
        assert start % 4 == 0
        assert min(count, 5) <= count - start <= 5 + 4 - 1
        starts.append(start)
    assert starts == sorted(starts) and len(set(starts)) == 9  # moved 8 times in 40 events


def test_a_digest_extends_the_last_one_until_the_window_moves() -> None:
    memory = Memory(recent=5, block=5)
    events: list[Event] = [PhaseEvent(round=1, phase="day", alive=PLAYERS)]
    digests = []
    for n in range(12):
        events.append(said(n))
        digests.append(memory.digest(observe(events)))
        assert shown(digests[-1])[-5:] == list(range(max(0, n - 4), n + 1))  # the last 5
    moved = [
        i for i, (a, b) in enumerate(itertools.pairwise(digests)) if not b.startswith(stable(a))
    ]
    assert moved == [7]  # at 10 lines (a phase and 9 said), by 5 at once
    assert "(5 earlier events are left out.)" in digests[8]
    assert shown(digests[-1]) == list(range(4, 12))


def test_notes_are_appended_then_replace_the_events_they_cover() -> None:
    memory = Memory(recent=4, block=4)
    events: list[Event] = [said(n) for n in range(3)]
    before = memory.digest(observe(events))
    memory.write_notes("Bob talks a lot.", 1, len(events))
    events += [PhaseEvent(round=2, phase="day", alive=PLAYERS), said(3, 2)]
    after = memory.digest(observe(events, 2))
    assert after.startswith(stable(before))  # the notes went in where they were written
    assert 'Your private notes after round 1: "Bob talks a lot."' in after
    events += [said(n, 2) for n in range(4, 8)]
    full = memory.digest(observe(events, 2))
    assert full.startswith("Your private notes (up to round 1):\nBob talks a lot.")
    assert shown(full) == list(range(3, 8))  # round 1's events, which the notes cover, left


def test_what_the_window_left_out_is_summed_up_in_front() -> None:
    memory = Memory(recent=2, block=2)
    events: list[Event] = [
        EliminationEvent(round=1, phase="night", target="Dave", cause="murder"),
        BeliefEvent(round=1, phase="probe", actor="Alice", probs={"Bob": 0.25, "Carol": 0.5}),
        said(0),
    ]
    first = memory.digest(observe(events))
    estimates = "Your private estimates of P(suspect): Bob 0.25, Carol 0.50"
    assert "GAME: Dave was" in first and estimates in first  # where they happened
    events += [said(1), said(2)]
    later = memory.digest(observe(events))
    assert "(2 earlier events are left out.)" in later
    assert later.startswith("Gone before the events below: Dave (")
    assert "Your latest private estimates of P(suspect): Bob 0.25, Carol 0.50" in later
    assert later.endswith("Round 1. You are Alice. Alive: Alice, Bob, Carol, Dave.")


# --- the per-turn request ------------------------------------------------------------------


def test_a_request_names_its_choices_once() -> None:
    others = ("Bob", "Carol", "Dave")
    vote = ActionRequest(
        actor="Alice", purpose="v", prompt="Vote.", kinds=("vote",), targets=others
    )
    shape = describe_schema(vote.reply_schema())
    assert all(f'"{p}"' in shape for p in others) and _options(vote, shape) == []
    speech = ActionRequest(
        actor="Alice", purpose="d", prompt="Speak.", kinds=("speak",), claim_targets=others
    )
    assert _options(speech, describe_schema(speech.reply_schema())) == [
        "Keep your speech under 600 characters."
    ]
    assert _options(vote, "{}") == ["Legal choices: Bob, Carol, Dave."]  # when not in the shape
    probe = ActionRequest(
        actor="Alice", purpose="b", prompt="P?", kinds=("belief",), targets=others
    )
    shape = describe_schema(probe.reply_schema())
    assert shape.count("<probability 0 to 1, steps of 0.05>") == 1
    assert shape.count("<probability>") == 2
