"""Sweep files: a base scenario spec swept over factors, designs and stopping rules."""

from __future__ import annotations

import itertools
import reprlib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from traitors.episode.spec import (
    MAX_CELLS,
    MAX_EPISODES,
    RUN_NAME_PATTERN,
    AgentSpec,
    ScenarioSpec,
    SpecError,
    episode_id,
    format_errors,
    read_mapping,
    set_field,
    validate_spec,
)
from traitors.sweep.design import DesignSpec, assign, check_design, seat_agent
from traitors.sweep.stopping import StopSpec


class InferenceSpec(BaseModel):
    """Inference servers a sweep starts before its episodes (see ``traitors.sweep.workers``)."""

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
    """Which model plays which seat (see ``traitors.sweep.design``)."""
    stop: StopSpec | None = None
    """Stop each cell once its interval is narrow enough (see ``traitors.sweep.stopping``)."""

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
        raise SpecError(format_errors(str(path), exc)) from None
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
