"""The human seat: a person plays one seat, reading the game and typing answers.

Each turn the seat's terminal (``Services.terminal``, set up by ``traitors play``) shows
what the seat has seen, then the question is asked field by field from the request's reply
schema, so every action kind of every scenario can be answered: options by number, name or
prefix, yes/no, numbers, text, lists of players, beliefs. Invalid answers are explained
and asked again.
"""

from __future__ import annotations

from typing import Any, ClassVar

from traitors.episode.policy import Decision, Observation, SeatContext, SeatTerminal
from traitors.game.actions import NONE, ActionBase, ActionError, ActionRequest, Pass
from traitors.game.words import Words

YES = frozenset({"y", "yes", "accept", "1", "true"})
NO = frozenset({"n", "no", "refuse", "0", "false"})
LABELS = {"vote": "vote for", "item": "buy", "text": "say", "accept": "accept?"}
"""How a reply field is asked for, when not by its name."""


class Passed(Exception):
    """The person passed instead of answering."""


def match_option(answer: str, options: tuple[str, ...]) -> str:
    """The option named by ``answer``: its number (from 1), its name or a unique prefix."""
    if not answer:
        raise ActionError(f"choose one of: {', '.join(options)}")
    if answer.isdigit() and 1 <= int(answer) <= len(options):
        return options[int(answer) - 1]
    lowered = answer.lower()
    exact = [o for o in options if o.lower() == lowered]
    prefixed = [o for o in options if o.lower().startswith(lowered)]
    found = exact or prefixed
    if len(found) == 1:
        return found[0]
    problem = "matches several of" if found else "is not one of"
    raise ActionError(f"{answer!r} {problem}: {', '.join(options)}")


def parse_beliefs(answer: str, targets: tuple[str, ...]) -> dict[str, float]:
    """``NAME=P`` pairs, or one probability per target in order (fewer leaves the rest out)."""
    parts = answer.replace(",", " ").split()
    if all("=" in part for part in parts):
        pairs = [part.split("=", 1) for part in parts]
    elif any("=" in part for part in parts):
        raise ActionError("give either NAME=P pairs or plain numbers, not both")
    elif len(parts) > len(targets):
        raise ActionError(f"{len(parts)} numbers for {len(targets)} players")
    else:
        pairs = [[target, part] for target, part in zip(targets, parts, strict=False)]
    probs = {}
    for name, value in pairs:
        try:
            probs[match_option(name, targets)] = float(value)
        except ValueError:
            raise ActionError(f"{value!r} is not a number between 0 and 1") from None
    return probs


class HumanPolicy:
    """A seat played by a person through the runner's seat terminal."""

    replayable: ClassVar[bool] = False
    """A person cannot be asked again: replays and forks play the seat from its log."""

    def __init__(self, seat: str, terminal: SeatTerminal, words: Words) -> None:
        self.seat = seat
        self.terminal = terminal
        self.words = words

    @classmethod
    def create(cls, context: SeatContext) -> HumanPolicy:
        """The seat's policy, on the runner's terminal."""
        terminal = context.services.terminal
        if terminal is None:
            raise ValueError(
                f"seat {context.seat}: policy 'human' needs a terminal; play the seat with "
                f"`traitors play SPEC.yaml --as {context.seat}`"
            )
        return cls(context.seat, terminal, context.rules.words)

    async def decide(self, observation: Observation, request: ActionRequest) -> Decision:
        """Show the seat's view and the question; read answers until they make a legal action."""
        terminal = self.terminal
        terminal.show(observation)
        terminal.say(
            f"Your turn, {self.seat} (round {observation.round}): {request.prompt}", "bold"
        )
        while True:
            try:
                action = self._ask(request)
                request.check(action)
            except ActionError as exc:
                self._explain(str(exc))
                continue
            terminal.say("waiting for the others...", "dim")
            return Decision(action=action)

    async def finish(self, observation: Observation) -> str | None:
        """Show the end of the game; a person keeps no lessons file."""
        self.terminal.show(observation)
        return None

    def _ask(self, request: ActionRequest) -> ActionBase:
        """Each field of the reply schema in turn (the first may be answered with 'pass')."""
        fields = request.reply_schema(reasoning=False)["properties"]
        passing = "pass" in request.kinds and request.reply_kind() != "pass"
        data: dict[str, Any] = {}
        try:
            for index, (name, schema) in enumerate(fields.items()):
                data[name] = self._field(name, schema, request, passing and index == 0)
        except Passed:
            return Pass()
        return request.action_from_reply(data)

    def _field(
        self, name: str, schema: dict[str, Any], request: ActionRequest, may_pass: bool
    ) -> Any:
        """One field's answer, asked again until it fits its schema."""
        label = LABELS.get(name, name.replace("_", " "))
        hint = " or 'pass'" if may_pass else ""
        kind = schema.get("type")
        if "enum" in schema and kind == "string":
            options = tuple(o for o in schema["enum"] if o != NONE)
            skip = "" if NONE in schema["enum"] else ("pass" if may_pass else None)
            self._list(label, options, skip)
            prompt = f"{label} (Enter: none)" if skip == "" else label
            return self._until(prompt, lambda a: self._option(a, options, skip), may_pass)
        if kind == "object":
            targets = tuple(schema["properties"])
            self._list("players", targets)
            prompt = f"P({self.words.suspect}): NAME=P pairs or one number (0-1) each; Enter skips"
            return self._until(prompt, lambda a: parse_beliefs(a, targets), may_pass)
        if kind == "boolean":
            return self._until(f"{label} (y/n)", _yes_no, may_pass)
        if kind == "integer":
            low, high = schema.get("minimum", 0), schema.get("maximum", 0)
            return self._until(f"{label} ({low}-{high})", lambda a: _number(a, low, high), may_pass)
        if kind == "array":
            options = tuple(schema["items"]["enum"])
            size = schema.get("minItems", 1)
            self._list(label, options)
            prompt = f"{label}: {size} names or numbers, separated by spaces{hint}"
            return self._until(prompt, lambda a: _names(a, options, size), may_pass)
        prompt = f"{label} (up to {request.max_text_chars} chars{hint})"
        return self._until(prompt, _text, may_pass)

    def _until(self, prompt: str, parse: Any, may_pass: bool) -> Any:
        while True:
            answer = self.terminal.ask(prompt)
            if may_pass and answer.lower() == "pass":
                raise Passed
            try:
                return parse(answer)
            except ActionError as exc:
                self._explain(str(exc))

    @staticmethod
    def _option(answer: str, options: tuple[str, ...], skip: str | None) -> str:
        if skip == "" and not answer:
            return NONE
        return match_option(answer, options)

    def _list(self, label: str, options: tuple[str, ...], skip: str | None = None) -> None:
        choices = "  ".join(f"{i} {option}" for i, option in enumerate(options, 1))
        extra = f"  or '{skip}'" if skip else ""
        self.terminal.say(f"  {label}: {choices}{extra}")

    def _explain(self, message: str) -> None:
        self.terminal.say(f"not valid: {message}; try again", "bold red")


def _yes_no(answer: str) -> bool:
    if answer.lower() not in YES | NO:
        raise ActionError("answer y or n")
    return answer.lower() in YES


def _number(answer: str, low: int, high: int) -> int:
    if not answer.isdigit() or not low <= int(answer) <= high:
        raise ActionError(f"a whole number from {low} to {high}")
    return int(answer)


def _names(answer: str, options: tuple[str, ...], size: int) -> list[str]:
    names = [match_option(part, options) for part in answer.replace(",", " ").split()]
    if len(names) != size or len(set(names)) != size:
        raise ActionError(f"name {size} different players")
    return names


def _text(answer: str) -> str:
    if not answer:
        raise ActionError("say something")
    return answer
