"""Scenario specs: pydantic models, YAML loading, overrides, and clear errors."""

from __future__ import annotations

import copy
import hashlib
import json
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from traitors.game import registry
from traitors.game.rules import GameRules
from traitors.store.manifest import HealthLimits
from traitors.util.specfile import SpecError, one_line, parse_yaml, read_mapping

__all__ = ["SpecError", "read_mapping"]

DEFAULT_NAMES = (
    "Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy",
    "Ken", "Liam", "Mona", "Nina", "Oscar", "Peggy", "Quinn", "Rupert", "Sybil", "Trent",
)  # fmt: skip


NAME_PATTERN = r"^\p{L}[\p{L}\p{M}\p{Nd}_-]{0,31}$"
"""Player names: a letter of any script (Unicode category L*), then letters, combining marks
(M*: accents written apart), decimal digits, ``_`` or ``-``; at most 32 characters. No
control, space or other separator, bidirectional mark, symbol or punctuation: they name
files, must never read as a path, and are shown as they are. (pydantic checks patterns with
Rust's regex, which knows Unicode categories.)"""
RUN_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
"""Spec and sweep names (they name run directories): no path separators, no leading dot."""
MAX_CELLS = 100_000
"""Most cells a sweep may expand to (counted before expanding)."""
MAX_EPISODES = 1_000_000
"""Most episodes a sweep may expand to."""


class AgentSpec(BaseModel):
    """How one seat is played. Unset (None) fields are taken from the layer below."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    policy: str | None = None
    """Policy name from the registry: ``heuristic``, ``random``, ``llm``, ..."""
    model: str | None = Field(None, min_length=1)
    """Model for LLM policies, e.g. ``openai/gpt-4o-mini`` or ``local/smollm2-135m``."""
    temperature: float | None = Field(None, ge=0.0, le=2.0)
    """Sampling temperature for LLM policies."""
    max_tokens: int | None = Field(None, ge=1)
    """Output token limit for LLM policies."""
    persona: str | None = None
    """Persona name (from ``personas`` or the built-ins) or literal persona text."""
    reasoning: bool | None = None
    """Whether LLM policies write private reasoning with each decision."""
    memory_events: int | None = Field(None, ge=1)
    """How many recent events an LLM agent sees verbatim."""
    reasoning_effort: Literal["low", "medium", "high"] | None = None
    """How hard a reasoning model thinks before it answers (litellm's ``reasoning_effort``);
    refused when the spec is read for a model that does not take it."""
    thinking_budget: int | None = Field(None, ge=1)
    """Tokens a model may think before it answers (Anthropic's ``thinking`` budget, Gemini's
    ``thinkingBudget``); refused for a model that does not take one."""
    api_base: str | None = Field(None, pattern=r"^https?://[^\s]+$")
    """Where a litellm model is served (e.g. an OpenAI-compatible server, or a test's
    simulator): litellm's ``api_base``. Not part of the request key."""
    activations: bool | None = None
    """Capture the hidden states behind the seat's statements into the episode's
    ``activations.npz`` (local models only)."""
    probe: str | None = None
    """A probe file (``traitors probe train``) scoring each of the seat's statements as it is
    made, in a god-only ``probe_score`` event (local models only)."""


DEFAULT_AGENT = AgentSpec(
    policy="heuristic", temperature=0.7, max_tokens=256, reasoning=True, memory_events=20
)


class Persona(BaseModel):
    """A named bundle of traits an LLM agent plays by."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    traits: tuple[str, ...] = ()
    """Adjectives or short phrases, e.g. ``suspicious``, ``talks little``."""
    style: str = ""
    """How the agent speaks."""

    def text(self) -> str:
        """The persona as a prompt sentence."""
        parts = []
        if self.traits:
            parts.append("Your personality: " + ", ".join(self.traits) + ".")
        if self.style:
            parts.append(f"Your way of speaking: {self.style}")
        return " ".join(parts)


class ScenarioSpec(BaseModel):
    """One scenario configuration: which game, its rules, and who plays which seat."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=RUN_NAME_PATTERN)
    """Short name used for run directories."""
    scenario: str
    """Registered scenario name, e.g. ``the_traitors``."""
    seed: int = 0
    """Root seed of the first episode; episode i uses seed + i."""
    players: tuple[Annotated[str, Field(pattern=NAME_PATTERN)], ...] | None = None
    """Seat names; defaults to the first n names of a fixed list."""
    rules: dict[str, Any] = Field(default_factory=dict)
    """Scenario rule options, validated by the scenario's config model."""
    agents: dict[str, AgentSpec] = Field(default_factory=dict)
    """Agent settings by layer: ``default``, then a role name, then a seat name."""
    personas: dict[str, Persona] = Field(default_factory=dict)
    """Named personas that agent layers can refer to."""
    memory: Literal["none", "persist"] = "none"
    """``persist``: each seat's lessons carry over to its next episode in the same run."""
    health: HealthLimits = HealthLimits()
    """When an episode counts as degraded rather than played (failed calls, defaults)."""

    def build_rules(self) -> GameRules[Any]:
        """The scenario's rules with the spec's validated options."""
        return build_rules(self.scenario, self.rules)

    def seats(self, count: int) -> tuple[str, ...]:
        """Seat names for a game with ``count`` seats."""
        return self.players if self.players is not None else DEFAULT_NAMES[:count]

    def agent_for(self, seat: str, role: str) -> AgentSpec:
        """Merge default, role and seat layers for one seat."""
        merged = DEFAULT_AGENT.model_dump()
        for layer in ("default", role, seat):
            if layer in self.agents:
                merged.update(self.agents[layer].model_dump(exclude_none=True))
        return AgentSpec(**merged)


def played_models(spec: ScenarioSpec) -> set[str]:
    """The models the spec's seats call: each seat's, in any role, whose policy class says
    ``calls_models = True``."""
    rules = build_rules(spec.scenario, spec.rules)
    models = set()
    for seat in spec.seats(rules.seat_count()):
        for role in rules.roles:
            agent = spec.agent_for(seat, role)
            policy = registry.lookup("policy", agent.policy or "heuristic")
            if getattr(policy, "calls_models", False) and agent.model:
                models.add(agent.model)
    return models


def build_rules(scenario: str, options: Mapping[str, Any]) -> GameRules[Any]:
    """The one way to build rules: a registered scenario with its validated options
    (UnknownName for an unknown scenario, pydantic's ValidationError for bad options)."""
    rules_class = registry.lookup("scenario", scenario)
    rules: GameRules[Any] = rules_class(rules_class.config_model.model_validate(dict(options)))
    return rules


def with_policy(spec: ScenarioSpec, policy: str, source: str | None = None) -> ScenarioSpec:
    """The spec with every seat on ``policy`` (other agent settings kept); SpecError names
    ``source`` (default: the spec's name)."""
    agents = {
        name: layer.model_copy(update={"policy": None}) for name, layer in spec.agents.items()
    }
    default = spec.agents.get("default", AgentSpec()).model_copy(update={"policy": policy})
    agents["default"] = default
    raw = spec.model_copy(update={"agents": agents}).model_dump()
    return validate_spec(raw, source=source or spec.name)


def with_model(spec: ScenarioSpec, model: str, source: str | None = None) -> ScenarioSpec:
    """The spec with every layer's model (and the default) set to ``model``; SpecError names
    ``source`` (default: the spec's name)."""
    agents = {
        name: layer.model_copy(update={"model": model}) for name, layer in spec.agents.items()
    }
    agents.setdefault("default", AgentSpec(model=model))
    raw = spec.model_copy(update={"agents": agents}).model_dump()
    return validate_spec(raw, source=source or spec.name)


def uses_policy(spec: ScenarioSpec, policy: str) -> bool:
    """Whether any layer of the spec plays ``policy``."""
    layers = [spec.agents.get("default", AgentSpec()).policy or DEFAULT_AGENT.policy]
    layers += [layer.policy for layer in spec.agents.values()]
    return policy in layers


def seat_policies(spec: ScenarioSpec) -> set[str]:
    """The policies the spec's seats play under any role they may hold (each seat's layer,
    else its role's, else the default's): a layer every seat overrides plays nothing."""
    rules = spec.build_rules()
    layers = spec.agents
    default = layers["default"].policy if "default" in layers else None
    fallback = default or DEFAULT_AGENT.policy or ""
    found: set[str] = set()
    for seat in spec.seats(rules.seat_count()):
        own = layers[seat].policy if seat in layers else None
        if own:
            found.add(own)
            continue
        for role in rules.roles:
            found.add((layers[role].policy if role in layers else None) or fallback)
    return found


ID_LATER_FIELDS: dict[str, dict[str, Any]] = {
    "health": {"play_on": False},
    "agents.*": {
        "reasoning_effort": None,
        "thinking_budget": None,
        "api_base": None,
        "activations": None,
        "probe": None,
    },
}
"""Fields added after episode ids were fixed: left out of the id while at these defaults, so
an episode keeps its id (and a sweep resumes) across versions. ``section.*`` names each
entry of a mapping section (every layer of ``agents``); a game's rule options say their own
(``RulesConfig.later_options``)."""


def episode_id(spec: ScenarioSpec, seed: int) -> str:
    """Stable id of an episode: a hash of the spec (minus its name and seed) and the seed."""
    body = spec.model_dump(mode="json", exclude={"name", "seed"})
    body["rules"] = build_rules(spec.scenario, spec.rules).config.id_options()
    for section, defaults in ID_LATER_FIELDS.items():
        name, _, each = section.partition(".")
        entries = list(body[name].values()) if each == "*" else [body[name]]
        for entry in entries:
            for field, default in defaults.items():
                if field in entry and entry[field] == default:
                    del entry[field]
    text = json.dumps({"spec": body, "seed": seed}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def load_spec(path: str | Path, overrides: Iterable[str] = ()) -> ScenarioSpec:
    """Read a YAML spec, apply ``PATH=VALUE`` overrides, and validate everything."""
    path = Path(path)
    raw = read_mapping(path)
    for item in overrides:
        raw = apply_override(raw, item, source=path)
    return validate_spec(raw, source=str(path))


def apply_override(raw: Mapping[str, Any], item: str, *, source: Path | str) -> dict[str, Any]:
    """Return a copy of ``raw`` with ``a.b.c=value`` set (value parsed as YAML)."""
    if "=" not in item:
        raise SpecError(f"{source}: --set {item!r}: expected PATH=VALUE")
    dotted, _, text = item.partition("=")
    context = f"--set {dotted.strip()}"
    value = parse_yaml(text, f"{source}: {context}") if text.strip() else None
    return set_field(raw, dotted.strip(), value, source=source, context=context)


def set_field(
    raw: Mapping[str, Any], dotted: str, value: Any, *, source: Path | str, context: str
) -> dict[str, Any]:
    """Return a copy of ``raw`` with the field at ``dotted`` (``a.b.c``) set to ``value``."""
    keys = dotted.split(".")
    if not all(keys):
        raise SpecError(f"{source}: {context}: empty field name in {dotted!r}")
    result = copy.deepcopy(dict(raw))
    node: dict[str, Any] = result
    for depth, key in enumerate(keys[:-1]):
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            where = ".".join(keys[: depth + 1])
            raise SpecError(f"{source}: {context}: {where} is not a mapping")
        node = child
    node[keys[-1]] = value
    return result


def validate_spec(raw: Mapping[str, Any], *, source: str = "<spec>") -> ScenarioSpec:
    """Validate a raw spec mapping, including the scenario's rules and agent layers."""
    try:
        spec = ScenarioSpec.model_validate(raw)
    except ValidationError as exc:
        raise SpecError(format_errors(source, exc)) from None
    try:
        rules = build_rules(spec.scenario, spec.rules)
    except registry.UnknownName as exc:
        raise SpecError(f"{source}: scenario: {exc}") from None
    except ValidationError as exc:
        raise SpecError(format_errors(source, exc, prefix="rules")) from None
    _check_seats(spec, rules.seat_count(), rules.roles, source)
    for layer, agent in spec.agents.items():
        if agent.policy is not None:
            try:
                registry.lookup("policy", agent.policy)
            except registry.UnknownName as exc:
                raise SpecError(f"{source}: agents.{layer}.policy: {exc}") from None
    _check_models(spec, rules.roles, spec.seats(rules.seat_count()), source)
    return spec.model_copy(update={"rules": rules.config.model_dump(mode="json")})


def _check_seats(spec: ScenarioSpec, count: int, roles: Iterable[str], source: str) -> None:
    if spec.players is not None:
        if len(spec.players) != count:
            raise SpecError(f"{source}: players: {len(spec.players)} names for {count} seats")
        if len({unicodedata.normalize("NFC", name) for name in spec.players}) != count:
            raise SpecError(f"{source}: players: names must be unique")  # however written
    elif count > len(DEFAULT_NAMES):
        raise SpecError(
            f"{source}: players: give {count} names (only {len(DEFAULT_NAMES)} defaults)"
        )
    layers = {"default", *roles, *spec.seats(count)}
    for layer in spec.agents:
        if layer not in layers:
            raise SpecError(
                f"{source}: agents.{layer}: not 'default', a role or a seat; "
                f"known: {', '.join(sorted(layers))}"
            )


def _check_models(
    spec: ScenarioSpec, roles: Iterable[str], seats: Iterable[str], source: str
) -> None:
    """Each seat's policy checks its agent settings (the ``llm`` policy: that a provider
    serves its model and takes its options), if the policy class offers ``check_agent(agent)
    -> problem | None``: a problem with the model, or ``(field, problem)`` for another field."""
    for seat in seats:
        for role in roles:
            agent = spec.agent_for(seat, role)
            policy = registry.lookup("policy", agent.policy or "heuristic")
            check = getattr(policy, "check_agent", None)
            if check is None or not (problem := check(agent)):
                continue
            field, text = problem if isinstance(problem, tuple) else ("model", problem)
            layers = [name for name in (seat, role, "default") if name in spec.agents]
            layer = next(
                (name for name in layers if getattr(spec.agents[name], field, None) is not None),
                layers[0] if layers else "default",
            )
            raise SpecError(f"{source}: agents.{layer}.{field}: {text}")


def format_errors(source: str, exc: ValidationError, prefix: str = "") -> str:
    """Every validation error, on one line."""
    problems = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in ((prefix,) if prefix else ()) + tuple(err["loc"]))
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif err["type"] == "string_pattern_mismatch" and loc.startswith("players"):
            msg = "a name is a letter, then letters, marks, digits, _ or - (at most 32)"
        elif err["type"] == "string_pattern_mismatch":
            msg = "a name is letters, digits, _, . or - (no path separators, no leading dot)"
        problems.append(f"{loc or '(top level)'}: {one_line(msg)}")
    return f"{source}: " + "; ".join(problems)
