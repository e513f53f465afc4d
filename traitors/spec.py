"""Scenario specs: pydantic models, YAML loading, overrides, and clear errors."""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import reprlib
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from traitors import registry
from traitors.design import DesignSpec, assign, check_design, seat_agent
from traitors.llm.models import model_problem
from traitors.manifest import HealthLimits
from traitors.rules import GameRules
from traitors.specfile import SpecError, one_line, parse_yaml, read_mapping
from traitors.stopping import StopSpec

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


def build_rules(scenario: str, options: Mapping[str, Any]) -> GameRules[Any]:
    """The one way to build rules: a registered scenario with its validated options
    (UnknownName for an unknown scenario, pydantic's ValidationError for bad options)."""
    rules_class = registry.lookup("scenario", scenario)
    rules: GameRules[Any] = rules_class(rules_class.config_model.model_validate(dict(options)))
    return rules


def with_policy(spec: ScenarioSpec, policy: str) -> ScenarioSpec:
    """The spec with every seat on ``policy`` (other agent settings kept)."""
    agents = {
        name: layer.model_copy(update={"policy": None}) for name, layer in spec.agents.items()
    }
    default = spec.agents.get("default", AgentSpec()).model_copy(update={"policy": policy})
    agents["default"] = default
    return validate_spec(spec.model_copy(update={"agents": agents}).model_dump())


def with_model(spec: ScenarioSpec, model: str) -> ScenarioSpec:
    """The spec with every layer's model (and the default) set to ``model``."""
    agents = {
        name: layer.model_copy(update={"model": model}) for name, layer in spec.agents.items()
    }
    agents.setdefault("default", AgentSpec(model=model))
    return validate_spec(spec.model_copy(update={"agents": agents}).model_dump())


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


def episode_id(spec: ScenarioSpec, seed: int) -> str:
    """Stable id of an episode: a hash of the spec (minus its name and seed) and the seed."""
    body = spec.model_dump(mode="json", exclude={"name", "seed"})
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
        raise SpecError(_format_errors(source, exc)) from None
    try:
        rules = build_rules(spec.scenario, spec.rules)
    except registry.UnknownName as exc:
        raise SpecError(f"{source}: scenario: {exc}") from None
    except ValidationError as exc:
        raise SpecError(_format_errors(source, exc, prefix="rules")) from None
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
    """Every seat an LLM plays has a model some provider serves (checked per layer)."""
    for layer, agent in spec.agents.items():
        if agent.model is not None and (problem := model_problem(agent.model)):
            raise SpecError(f"{source}: agents.{layer}.model: {problem}")
    for seat in seats:
        for role in roles:
            agent = spec.agent_for(seat, role)
            if agent.policy == "llm" and not agent.model:
                layer = next(
                    (name for name in (seat, role, "default") if name in spec.agents), "default"
                )
                raise SpecError(
                    f"{source}: agents.{layer}.model: policy llm needs a model "
                    f"(e.g. local/smollm2-135m); seat {seat} as {role} has none"
                )


def _format_errors(source: str, exc: ValidationError, prefix: str = "") -> str:
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


# --- sweeps ---------------------------------------------------------------------------------


class InferenceSpec(BaseModel):
    """Inference servers a sweep starts before its episodes (see ``traitors.runner.workers``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["llama_cpp", "vllm"] = "llama_cpp"
    """Server program: llama.cpp's server on CPU nodes, vLLM on GPU nodes."""
    model: str
    """What the server serves: a local preset or .gguf path (llama_cpp), a HF id (vllm)."""
    replicas: int = Field(1, ge=1)
    """Servers to start; episodes reach them through a litellm Router."""
    num_gpus: int = Field(0, ge=0)
    """GPUs reserved per server (vLLM: the tensor-parallel size)."""
    num_cpus: int = Field(1, ge=1)
    """CPUs reserved per server (llama.cpp: its thread count)."""
    serve_as: str = "served"
    """Model name agents use: ``hosted/<serve_as>`` in the spec is routed to these servers."""
    args: tuple[str, ...] = ()
    """Extra command-line arguments for the server."""


class SweepSpec(BaseModel):
    """A base scenario spec swept over factors: grid (every combination) and zip (in step)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=RUN_NAME_PATTERN)
    """Sweep name; runs go to ``runs/<name>/``."""
    base: str | dict[str, Any]
    """The scenario spec: a path (relative to the sweep file) or an inline mapping."""
    set: dict[str, Any] = Field(default_factory=dict)
    """Fixed overrides of the base, by field path."""
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    """Field path -> values; every combination is a cell."""
    zip: list[dict[str, list[Any]]] = Field(default_factory=list)
    """Groups of field paths whose value lists vary together (equal lengths)."""
    episodes: int = Field(1, ge=1)
    """Seeds per cell (each seed is one episode, or one block of a ``design``)."""
    seed: int = 0
    """Root seed: episode i of every cell uses seed + i (common random numbers)."""
    inference: list[InferenceSpec] = Field(default_factory=list)
    """Inference servers to start for this sweep."""
    design: DesignSpec | None = None
    """Which model plays which seat (see ``traitors.design``)."""
    stop: StopSpec | None = None
    """Stop each cell once its interval is narrow enough (see ``traitors.stopping``)."""

    def seeds_per_cell(self, block: int = 1) -> int:
        """Seeds a cell plays: ``episodes``, or enough blocks of ``block`` episodes for
        ``stop.max_episodes``."""
        if self.stop is None:
            return self.episodes
        return -(-self.stop.max_episodes // block)


class SweepEpisode(BaseModel):
    """One episode of an expanded sweep."""

    model_config = ConfigDict(frozen=True)

    cell: int
    """Index of the cell (combination of factors)."""
    factors: dict[str, Any]
    """Field path -> value for this cell."""
    spec: ScenarioSpec
    """The full episode spec."""
    seed: int
    """The episode's root seed."""

    @property
    def episode_id(self) -> str:
        """Hash of (spec, seed)."""
        return episode_id(self.spec, self.seed)


def load_sweep(path: str | Path) -> tuple[SweepSpec, list[SweepEpisode]]:
    """Read a sweep YAML and expand it into episodes; SpecError names file and field."""
    path = Path(path)
    raw = read_mapping(path)
    try:
        sweep = SweepSpec.model_validate(raw)
    except ValidationError as exc:
        raise SpecError(_format_errors(str(path), exc)) from None
    return sweep, expand_sweep(sweep, path)


def expand_sweep(sweep: SweepSpec, source: Path) -> list[SweepEpisode]:
    """Every cell x episode, in a deterministic order."""
    if isinstance(sweep.base, str):
        base = read_mapping((source.parent / sweep.base).resolve())
    else:
        base = dict(sweep.base)
    for dotted, value in sweep.set.items():
        base = set_field(base, dotted, value, source=source, context=f"set.{dotted}")
    if sweep.stop is not None and "episodes" in sweep.model_fields_set:
        raise SpecError(f"{source}: give episodes or stop.max_episodes, not both")
    if sweep.design is not None and (problem := check_design(sweep.design)):
        raise SpecError(f"{source}: {problem}")
    cells = count_cells(sweep, source)
    block = sweep.design.largest_block() if sweep.design is not None else 1
    if cells * sweep.seeds_per_cell() * block > MAX_EPISODES:
        raise SpecError(
            f"{source}: {cells:,} cells x {sweep.seeds_per_cell()} seeds x {block} episodes "
            f"per seed is over the limit of {MAX_EPISODES:,} episodes per sweep"
        )
    episodes = []
    for cell, factors in enumerate(_cells(sweep, source)):
        raw = base
        for dotted, value in factors.items():
            raw = set_field(raw, dotted, value, source=source, context=f"factor {dotted}")
        spec = _validate_cell(raw, source, factors)
        if sweep.design is None:
            seeds = range(sweep.seed, sweep.seed + sweep.seeds_per_cell())
            episodes += [SweepEpisode(cell=cell, factors=factors, spec=spec, seed=i) for i in seeds]
        else:
            episodes += _design_episodes(sweep, spec, source, cell, factors)
    return episodes


def _design_episodes(
    sweep: SweepSpec, spec: ScenarioSpec, source: Path, cell: int, factors: dict[str, Any]
) -> list[SweepEpisode]:
    """A cell's blocks: for each seed, one episode per row of the design."""
    design = sweep.design
    assert design is not None
    count = spec.build_rules().seat_count()
    seats = spec.seats(count)
    taken = sorted(set(spec.agents) & set(seats))
    if taken:
        raise SpecError(
            f"{source}: agents.{taken[0]}: the design assigns every seat; set seat options "
            "by role or default instead"
        )
    raw = spec.model_dump(mode="json", exclude_none=True)
    rows = design.rows(count)
    specs = [_validate_cell(assign(raw, seats, row), source, factors) for row in rows]
    episodes = []
    for seed in range(sweep.seed, sweep.seed + sweep.seeds_per_cell(len(rows))):
        names = design.names(count, seed)
        for row, row_spec in zip(rows, specs, strict=True):
            if names is not None:
                agents = {k: v for k, v in row_spec.agents.items() if k not in seats}
                agents |= {n: AgentSpec(**seat_agent(m)) for n, m in zip(names, row, strict=True)}
                row_spec = row_spec.model_copy(update={"players": names, "agents": agents})
            episodes.append(SweepEpisode(cell=cell, factors=factors, spec=row_spec, seed=seed))
    return episodes


def count_cells(sweep: SweepSpec, source: Path) -> int:
    """How many cells the grid and zips make, counted without expanding them (SpecError over
    MAX_CELLS)."""
    count = 1
    for values in sweep.grid.values():
        count *= len(values)
    for group in sweep.zip:
        count *= min((len(values) for values in group.values()), default=1)
    if count > MAX_CELLS:
        raise SpecError(f"{source}: the grid has {count:,} cells; the limit is {MAX_CELLS:,}")
    return count


def _cells(sweep: SweepSpec, source: Path) -> list[dict[str, Any]]:
    axes: list[list[dict[str, Any]]] = [
        [{dotted: value} for value in values] for dotted, values in sweep.grid.items()
    ]
    for index, group in enumerate(sweep.zip):
        lengths = {len(values) for values in group.values()}
        if len(lengths) > 1:
            raise SpecError(
                f"{source}: zip[{index}]: value lists differ in length {sorted(lengths)}"
            )
        size = lengths.pop() if lengths else 0
        axes.append([{k: v[i] for k, v in group.items()} for i in range(size)])
    for dotted, values in sweep.grid.items():
        if not values:
            raise SpecError(f"{source}: grid.{dotted}: no values")
    cells = []
    for combination in itertools.product(*axes):
        factors: dict[str, Any] = {}
        for part in combination:
            factors.update(part)
        cells.append(factors)
    return cells


def _validate_cell(raw: dict[str, Any], source: Path, factors: dict[str, Any]) -> ScenarioSpec:
    try:
        return validate_spec(raw, source=str(source))
    except SpecError as exc:
        where = ", ".join(f"{k}={_short(v)}" for k, v in factors.items()) or "the base"
        raise SpecError(f"{exc} (cell {where})") from None


def _short(value: Any) -> str:
    """A bounded repr of a factor value for messages (a value may be huge or nested)."""
    short = reprlib.Repr()
    short.maxlevel, short.maxstring, short.maxother = 2, 40, 40
    return short.repr(value)
