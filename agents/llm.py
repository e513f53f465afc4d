"""The LLM agent: prompts a model through the gateway and parses structured actions.

System prompt = the rules, then the seat's name, role, allies and persona (the rules come
first and are the same for every seat, so a local model reuses that KV prefix). Each
decision renders the agent's memory and the legal actions with their JSON schema, the
memory first and the request last, so that a seat's successive prompts extend each other
(a provider's prompt cache serves the shared prefix; see ``agents/memory.py``). A reply
that does not parse or is illegal returns an error; the engine then gives one repair turn.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

import yaml

from agents.memory import Memory
from traitors.episode.policy import Decision, ModelGateway, Observation, SeatContext
from traitors.episode.spec import AgentSpec, Persona
from traitors.game.actions import PROBABILITIES, ActionError, ActionRequest, Speak
from traitors.game.events import PhaseEvent, ProbeScoreEvent, RoleEvent, SpeakEvent
from traitors.game.words import Words
from traitors.llm.gateway import Gateway, ModelRequest, ModelResponse
from traitors.llm.models import model_problem, options_problem, unknown_model_problem
from traitors.store.activations import POSITIONS, add_rows
from traitors.store.calls import CallLog
from traitors.store.log import LogError
from traitors.store.probe_file import read_probe

REFLECTION_TOKENS = 120
LESSON_TOKENS = 96


@functools.cache
def _template(name: str) -> Template:
    return Template(resources.files("agents.prompts").joinpath(name).read_text())


@functools.cache
def builtin_personas() -> dict[str, Persona]:
    """Personas shipped in ``agents/personas.yaml``."""
    text = resources.files("agents").joinpath("personas.yaml").read_text()
    return {name: Persona(**body) for name, body in yaml.safe_load(text).items()}


def persona_text(name: str | None, personas: dict[str, Persona]) -> str:
    """A persona's prompt text: a spec persona, a built-in one, or the literal text given."""
    if not name:
        return ""
    persona = personas.get(name) or builtin_personas().get(name)
    return persona.text() if persona else name


def parse_reply(text: str) -> Any:
    """The JSON object in a reply; tolerates code fences and a reply cut off by max_tokens
    (the unfinished last field is dropped and the brackets are closed)."""
    body = text.strip()
    if body.startswith("```"):
        body = body.strip("`").removeprefix("json").strip()
    start = body.find("{")
    if start < 0:
        raise ActionError("reply holds no JSON object")
    body = body[start:]
    try:
        return json.JSONDecoder().raw_decode(body)[0]  # a whole object, maybe text after it
    except json.JSONDecodeError:
        pass
    cuts = [len(body), *(i for i in range(len(body) - 1, 0, -1) if body[i] == ",")]
    for cut in cuts:
        try:
            return json.loads(_closed(body[:cut]))
        except json.JSONDecodeError:
            continue
    raise ActionError("reply is not valid JSON")


def _closed(fragment: str) -> str:
    """``fragment`` with its open string, arrays and objects closed."""
    stack: list[str] = []
    in_string = escaped = False
    for char in fragment:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            stack.append("}" if char == "{" else "]")
        elif char in "}]" and stack:
            stack.pop()
    return fragment + ('"' if in_string else "") + "".join(reversed(stack))


class LLMPolicy:
    """A seat played by a language model."""

    calls_models = True
    """Its seats' models are checked before a run (keys, prices: ``traitors models``)."""

    @classmethod
    def check_agent(cls, agent: AgentSpec) -> str | tuple[str, str] | None:
        """Why this seat's settings cannot be played: no model, none a provider serves (a
        problem with ``model``), or an option the model does not take (the field and why)."""
        if not agent.model:
            return "policy llm needs a model (e.g. local/smollm2-135m)"
        if problem := model_problem(agent.model):
            return problem
        options = {
            "reasoning_effort": agent.reasoning_effort,
            "thinking_budget": agent.thinking_budget,
            "api_base": agent.api_base,
        }
        return (
            options_problem(agent.model, options)
            or unknown_model_problem(agent.model, agent.api_base)
            or white_box_problem(agent)
        )

    def __init__(self, context: SeatContext) -> None:
        agent = context.agent
        if not agent.model:
            raise ValueError(f"seat {context.seat}: policy 'llm' needs a model (agents.*.model)")
        services = context.services
        self.seat = context.seat
        self.model = agent.model
        self.temperature = agent.temperature
        self.max_tokens = agent.max_tokens
        self.reasoning_effort = agent.reasoning_effort
        self.thinking_budget = agent.thinking_budget
        self.api_base = agent.api_base
        self.reasoning = bool(agent.reasoning)
        self.seed = context.seed % 2**31
        self.gateway: ModelGateway = services.gateway or Gateway()
        self.calls: CallLog = services.calls
        self.keep_lessons = services.persist_memory
        self.words: Words = context.rules.words
        self.memory = Memory(
            words=self.words,
            recent=agent.memory_events or 20,
            lessons=services.lessons.get(context.seat, ""),
        )
        self.rules_text = context.rules.describe()
        self.persona = persona_text(agent.persona, context.personas)
        self._last_reply = ""
        self.activations = bool(agent.activations)
        self.probe = read_probe(agent.probe) if agent.probe else None
        self.probe_path = agent.probe
        self.directory = services.directory
        self.captured: list[tuple[str, dict[int, list[float]]]] = []
        """(statement text, layer -> hidden state) of each statement made, in order."""

    @classmethod
    def create(cls, context: SeatContext) -> LLMPolicy:
        return cls(context)

    def reseed(self, seed: int) -> None:
        """Sample with a new seed from here on (a fork's continuation)."""
        self.seed = seed % 2**31

    def system_prompt(self, observation: Observation) -> str:
        """Rules first (shared by every seat), then who this seat is and what it learned
        when the game was set up (a vision, a brief...): stable for the whole game."""
        role = observation.role_event()
        role_text = f"Your role: {role.role}." if role else ""
        if role and role.allies:
            allies = self.words.allies_phrase(role.role).capitalize()
            role_text += f" {allies}: {', '.join(role.allies)}."
        setup = [
            line
            for e in observation.events
            if e.round == 0 and not isinstance(e, PhaseEvent | RoleEvent)
            if (line := e.prompt_text(self.seat, self.words))
        ]
        if setup:
            role_text += "\nWhat you learned when the game began:\n" + "\n".join(setup)
        return _template("system.txt").substitute(
            rules=self.rules_text, name=self.seat, role_text=role_text, persona=self.persona
        )

    async def decide(self, observation: Observation, request: ActionRequest) -> Decision:
        if observation.round > self.memory.noted_round + 1:
            await self._reflect(observation)
        system = self.system_prompt(observation)
        schema = request.reply_schema(reasoning=self.reasoning)
        shape = describe_schema(schema)
        prompt = _template("decide.txt").substitute(
            memory=self.memory.digest(observation),
            question=request.prompt,
            options="".join(f"\n{line}" for line in _options(request, shape)),
            schema=shape,
        )
        messages = [{"role": "system", "content": system}, {"role": "user", "content": prompt}]
        if request.error:
            repair = _template("repair.txt").substitute(error=request.error)
            messages += [
                {"role": "assistant", "content": self._last_reply},
                {"role": "user", "content": repair},
            ]
        capture = (self.activations or self.probe is not None) and "speak" in request.kinds
        response = await self._call(messages, self.max_tokens, schema, capture)
        if response.error is not None:
            self._last_reply = ""
            return Decision(
                None, error=f"model call failed: {response.error}", call_ids=(response.call_id,)
            )
        text = response.text or ""
        self._last_reply = text
        thought = response.reasoning  # the model's own thinking, private to this seat
        try:
            data = parse_reply(text)
            action = request.action_from_reply(data)
        except ActionError as exc:
            return Decision(
                None, error=str(exc), raw=text, reasoning=thought, call_ids=(response.call_id,)
            )
        written = data.get("reasoning") if isinstance(data.get("reasoning"), str) else None
        reasoning = "\n\n".join(part for part in (thought, written) if part) or None
        notes = self._white_box(observation, action, response) if capture else ()
        return Decision(
            action, raw=text, reasoning=reasoning, call_ids=(response.call_id,), notes=notes
        )

    def _white_box(
        self, observation: Observation, action: Any, response: ModelResponse
    ) -> tuple[ProbeScoreEvent, ...]:
        """Keep a statement's hidden state (to store at the end) and note its probe score."""
        if not isinstance(action, Speak):
            return ()
        if self.activations and response.activations:
            self.captured.append((action.text, response.activations))
        if self.probe is None or self.probe_path is None or response.probe_score is None:
            return ()
        score = ProbeScoreEvent(
            round=observation.round,
            phase=observation.phase,
            probe=Path(self.probe_path).stem,
            layer=self.probe.layer,
            score=response.probe_score,
        )
        return (score,)

    def _store_activations(self, observation: Observation) -> None:
        """Write the captured states of the statements the log holds (matched in order by
        their text) into the episode's ``activations.npz``."""
        if self.directory is None or not self.captured:
            return
        said = [e for e in observation.events if isinstance(e, SpeakEvent) and e.actor == self.seat]
        rows, start = [], 0
        for text, layers in self.captured:
            found = next((i for i in range(start, len(said)) if said[i].text == text), None)
            if found is not None:
                rows.append((said[found].seq, self.seat, layers))
                start = found + 1
        if rows:
            add_rows(self.directory, rows, {"model": self.model, "positions": POSITIONS})

    async def _reflect(self, observation: Observation) -> None:
        """Write new notes once a round has ended."""
        prompt = _template("reflect.txt").substitute(
            memory=self.memory.digest(observation, move=False), round=observation.round - 1
        )
        notes = await self._free_text(observation, prompt, REFLECTION_TOKENS)
        self.memory.write_notes(notes, observation.round - 1, len(observation.events))

    async def finish(self, observation: Observation) -> str | None:
        """Store the captured activations; write lessons for the next episode when the spec
        asks to persist memory."""
        self._store_activations(observation)
        if not self.keep_lessons:
            return None
        over = next((e for e in reversed(observation.events) if e.kind == "game_over"), None)
        winner = getattr(over, "winner", None)
        result = f"The winner: {winner}." if winner else "It ended without a winner."
        prompt = _template("lessons.txt").substitute(
            memory=self.memory.digest(observation, move=False), result=result
        )
        return await self._free_text(observation, prompt, LESSON_TOKENS)

    async def _free_text(self, observation: Observation, prompt: str, max_tokens: int) -> str:
        messages = [
            {"role": "system", "content": self.system_prompt(observation)},
            {"role": "user", "content": prompt},
        ]
        response = await self._call(messages, max_tokens, None)
        return (response.text or "").strip()

    async def _call(
        self,
        messages: list[dict[str, str]],
        max_tokens: int | None,
        schema: dict[str, Any] | None,
        capture: bool = False,
    ) -> ModelResponse:
        response_format = None
        if schema is not None:
            response_format = {
                "type": "json_schema",
                "json_schema": {"name": "decision", "schema": schema, "strict": True},
            }
        request = ModelRequest(
            model=self.model,
            messages=tuple(messages),
            temperature=self.temperature,
            max_tokens=max_tokens,
            seed=self.seed,
            response_format=response_format,
            reasoning_effort=self.reasoning_effort,
            thinking_budget=self.thinking_budget,
            api_base=self.api_base,
            activations=capture,
            probe=self.probe_path if capture else None,
        )
        response: ModelResponse = await self.gateway.complete(
            request, agent=self.seat, log=self.calls
        )
        return response


def white_box_problem(agent: AgentSpec) -> tuple[str, str] | None:
    """Why the seat's ``activations`` or ``probe`` cannot be had: not a local model, or a
    probe file that cannot be read or reads another model."""
    asked = [name for name in ("probe", "activations") if getattr(agent, name)]
    if not asked or not agent.model:
        return None
    if not agent.model.startswith("local/"):
        return asked[0], f"needs a local model (local/<preset or file.gguf>), not {agent.model}"
    if agent.probe:
        try:
            refused = read_probe(agent.probe).refuses(agent.model)
        except LogError as exc:
            return "probe", str(exc)
        if refused:
            return "probe", f"{agent.probe}: {refused}"
    return None


PROBABILITY = "<probability 0 to 1, steps of 0.05>"


def describe_schema(schema: dict[str, Any]) -> str:
    """A compact, readable shape of a reply schema (the decoder enforces the real one).
    A probability is spelled out once, then shortened to ``<probability>``."""
    head, first, rest = _shape(schema).partition(PROBABILITY)
    return head + first + rest.replace(PROBABILITY, "<probability>")


def _shape(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        values = schema["enum"]
        if values == list(PROBABILITIES):
            return PROBABILITY
        return "<one of: " + " | ".join(json.dumps(v) for v in values) + ">"
    kind = schema.get("type")
    if kind == "object":
        fields = ", ".join(
            f"{json.dumps(k)}: {_shape(v)}" for k, v in schema.get("properties", {}).items()
        )
        return "{" + fields + "}"
    if kind == "integer":
        return f"<integer {schema.get('minimum', 0)} to {schema.get('maximum', '...')}>"
    if kind == "array":
        count = schema.get("minItems", 1)
        return f"[{count} different {_shape(schema.get('items', {}))}]"
    if kind == "boolean":
        return "<true | false>"
    return "<text>"


def _options(request: ActionRequest, shape: str) -> list[str]:
    """The legal choices in words, where the reply's shape does not already list them."""
    lines = []
    if request.targets and not _listed(request.targets, shape):
        lines.append(f"Legal choices: {', '.join(request.targets)}.")
    if request.claim_targets and not _listed(request.claim_targets, shape):
        lines.append(
            "You may also accuse or defend one of: "
            f"{', '.join(request.claim_targets)} (or 'none'), and claim a role."
        )
    if "speak" in request.kinds:
        lines.append(f"Keep your speech under {request.max_text_chars} characters.")
    return lines


def _listed(names: tuple[str, ...], shape: str) -> bool:
    """Whether the reply's shape names every one of ``names``."""
    return all(json.dumps(name) in shape for name in names)
