"""The services an episode's policies share: the model gateway and the episode's call log."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from traitors.episode.policy import Services
from traitors.llm.endpoints import hosted_options
from traitors.llm.gateway import Gateway
from traitors.store.calls import CallLog
from traitors.store.log import CALLS, EpisodeWriter
from traitors.store.manifest import Manifest
from traitors.sweep.spec import InferenceSpec

_gateway: Gateway | None = None


def shared_gateway() -> Gateway:
    """The process-wide gateway, so every episode shares its per-endpoint limits."""
    global _gateway
    if _gateway is None:
        _gateway = Gateway()
    return _gateway


def configure_gateway(**options: Any) -> Gateway:
    """Replace the process-wide gateway (e.g. with the routes of a sweep's inference servers)."""
    global _gateway
    _gateway = Gateway(**options)
    return _gateway


def inference_options(
    specs: Sequence[InferenceSpec], routes: dict[str, list[str]]
) -> dict[str, Any]:
    """Gateway options reaching a sweep's inference servers."""
    return hosted_options(specs, routes)


def live_services(
    writer: EpisodeWriter | None, lessons: dict[str, str] | None = None, persist: bool = False
) -> Services:
    """Services for a live episode: calls go to the models and into ``calls.jsonl``."""
    return Services(
        gateway=shared_gateway(),
        calls=CallLog(writer=writer),
        lessons=dict(lessons or {}),
        persist_memory=persist,
        directory=writer.dir if writer is not None else None,
    )


def replay_services(episode_dir: Path, manifest: Manifest) -> Services:
    """Services for a replay: every model answer comes from the episode's ``calls.jsonl``
    (which an episode that made no model call does not have)."""
    path = episode_dir / CALLS
    made = int(manifest.usage.get("calls", 0)) + (
        manifest.fork.prefix_calls if manifest.fork else 0
    )
    if not path.is_file() and made:
        raise FileNotFoundError(f"{path}: missing, but the episode made {made} model calls")
    return Services(
        gateway=shared_gateway(),
        calls=CallLog.replaying(path) if made else CallLog(recorded={}),
        lessons=dict(manifest.lessons_in),
        persist_memory=manifest.spec.get("memory") == "persist",
    )
