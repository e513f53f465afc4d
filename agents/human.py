"""The human seat: a person plays one seat, reading the game and typing answers.

Each turn shows what the seat has seen (its player view: a rich layout in a terminal,
plain lines otherwise) and the legal choices of the request, then reads answers line by
line, so it works from a keyboard or a pipe. Invalid answers are explained and asked again.
"""

from __future__ import annotations

import json

from rich.text import Text

from traitors.actions import (
    ACTION_ADAPTER,
    Accuse,
    Action,
    ActionError,
    ActionRequest,
    Belief,
    Bid,
    Claim,
    ClaimRole,
    Defend,
    Pass,
    Purchase,
    Respond,
    Speak,
    Vote,
)
from traitors.policy import Decision, Observation, SeatContext
from traitors.spectate.display import Fit, LineDisplay
from traitors.spectate.play import SEAT_IO, SeatIO, seat_io
from traitors.spectate.view import Spectator

PROMPT_ROWS = 8
"""Terminal rows kept below the view for the question and its choices."""
YES = frozenset({"y", "yes", "accept", "1"})
NO = frozenset({"n", "no", "refuse", "0"})


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
    """A seat played by a person through ``SeatIO`` (stdin and the console by default)."""

    def __init__(self, seat: str, io: SeatIO) -> None:
        self.seat = seat
        self.io = io
        self.spectator = Spectator(seat, io.title)
        self._lines = LineDisplay(io.console)
        self._seen = 0

    @classmethod
    def create(cls, context: SeatContext) -> HumanPolicy:
        """The seat's policy, on the runner's ``SeatIO`` if it provides one."""
        io = context.services.get(SEAT_IO) or seat_io()
        return cls(context.seat, io)

    async def decide(self, observation: Observation, request: ActionRequest) -> Decision:
        """Show the seat's view and the choices; read answers until they make a legal action."""
        self._show(observation)
        console = self.io.console
        console.print(
            Text(f"Your turn, {self.seat} (round {observation.round}): ", style="bold")
            + Text(request.prompt)
        )
        while True:
            try:
                action = self._ask(request)
                request.check(action)
            except ActionError as exc:
                self._explain(str(exc))
                continue
            console.print("waiting for the others...", style="dim")
            return Decision(action=action)

    async def finish(self, observation: Observation) -> str | None:
        """Show the end of the game; a person keeps no lessons file."""
        self._show(observation)
        return None

    def _show(self, observation: Observation) -> None:
        new = observation.events[self._seen :]
        self._seen = len(observation.events)
        console = self.io.console
        for event in new:
            self.spectator.board.update(event)
            if not console.is_terminal:
                self._lines.show(event)
        if console.is_terminal:
            console.print(Fit(self.spectator.render(), max(console.height - PROMPT_ROWS, 10)))

    def _ask(self, request: ActionRequest) -> Action:
        kind = request.reply_kind()
        if kind == "vote":
            target = self._choose("vote for", request.targets, self._pass_word(request))
            return Pass() if target is None else Vote(target=target)
        if kind == "speak":
            return self._speech(request)
        if kind == "belief":
            self._list("players", request.targets)
            answer = self._read("P(traitor): NAME=P pairs or one number (0-1) each; Enter skips")
            return Belief(probs=parse_beliefs(answer, request.targets))
        if kind == "respond":
            answer = self._read("accept? (y/n)").lower()
            if answer not in YES | NO:
                raise ActionError("answer y or n")
            return Respond(accept=answer in YES)
        if kind == "bid":
            answer = self._read(f"bid (0-{request.max_bid})")
            if not answer.isdigit():
                raise ActionError(f"bid a whole number from 0 to {request.max_bid}")
            return Bid(amount=int(answer))
        if kind == "purchase":
            item = self._choose("buy", request.items, None)
            assert item is not None  # no skip word: an item was chosen
            explanation = self._read(f"explain (up to {request.max_text_chars} chars)")
            return Purchase(item=item, explanation=explanation)
        answer = self._read(f"action as JSON, one of kinds {list(request.kinds)}")
        try:
            return ACTION_ADAPTER.validate_python(json.loads(answer))
        except ValueError as exc:
            raise ActionError(f"not a valid action: {exc}") from None

    def _speech(self, request: ActionRequest) -> Action:
        passing = self._pass_word(request)
        hint = f"say (up to {request.max_text_chars} chars" + (", or 'pass')" if passing else ")")
        text = self._read(hint)
        if passing and text.lower() == passing:
            return Pass()
        if not text:
            raise ActionError("say something" + (" or 'pass'" if passing else ""))
        if len(text) > request.max_text_chars:
            raise ActionError(f"that is {len(text)} chars; the limit is {request.max_text_chars}")
        claims: list[Claim] = []
        if request.claim_targets:
            accused = self._choose("accuse (Enter: nobody)", request.claim_targets, "")
            defended = self._choose("defend (Enter: nobody)", request.claim_targets, "")
            claims += [Accuse(target=accused)] if accused else []
            claims += [Defend(target=defended)] if defended else []
        if request.roles:
            role = self._choose("claim a role (Enter: none)", request.roles, "")
            claims += [ClaimRole(role=role)] if role else []
        return Speak(text=text, claims=tuple(claims))

    @staticmethod
    def _pass_word(request: ActionRequest) -> str | None:
        return "pass" if "pass" in request.kinds else None

    def _choose(self, label: str, options: tuple[str, ...], skip: str | None) -> str | None:
        """One of ``options``; None when the answer is ``skip`` (an empty line if ``""``)."""
        self._list(label, options, skip)
        while True:
            answer = self._read(label)
            if skip is not None and answer.lower() == skip:
                return None
            try:
                return match_option(answer, options)
            except ActionError as exc:
                self._explain(str(exc))

    def _list(self, label: str, options: tuple[str, ...], skip: str | None = None) -> None:
        choices = "  ".join(f"{i} {option}" for i, option in enumerate(options, 1))
        extra = f"  or '{skip}'" if skip else ""
        self.io.console.print(f"  {label}: {choices}{extra}", markup=False, highlight=False)

    def _read(self, prompt: str) -> str:
        console = self.io.console
        console.print(Text(f"{prompt}> ", style="bold"), end="")
        console.file.flush()
        line = self.io.stdin.readline()
        if not line:
            raise EOFError("input ended before the game did")
        if not self.io.stdin.isatty():
            console.print(line.rstrip("\n"), markup=False, highlight=False)
        return line.strip()

    def _explain(self, message: str) -> None:
        self.io.console.print(Text("not valid: ", style="bold red") + Text(f"{message}; try again"))
