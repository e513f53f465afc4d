"""``traitors import kaggle-werewolf``: one Kaggle Game Arena Werewolf replay (the JSON
episode ``kaggle-environments`` writes) read into an episode of Werewolf."""

from __future__ import annotations

from typing import IO, Any

from pydantic import ValidationError

from scenarios.werewolf_kaggle.events import translate
from scenarios.werewolf_kaggle.manifest import build_manifest, record_times
from scenarios.werewolf_kaggle.records import records
from scenarios.werewolf_kaggle.rules import preset_name, rules_from
from scenarios.werewolf_kaggle.stream import StreamError, read_object
from scenarios.werewolf_kaggle.table import read_table
from traitors.store.imported import BadReplay, ImportedEpisode, numbered
from traitors.store.log import problem

SKIPPED = frozenset({"steps"})
"""Top-level keys passed over unparsed: ``steps`` repeats the records once per agent and
step (about 90% of a replay's bytes)."""


class KaggleWerewolf:
    """Reads Kaggle Game Arena Werewolf replays."""

    description = "Kaggle Game Arena Werewolf replays (kaggle-environments JSON episodes)"

    def read(self, stream: IO[bytes], source: str) -> ImportedEpisode:
        """The game in ``stream``; BadReplay (one line) if it is not a Werewolf replay."""
        try:
            replay, _ = read_object(stream, skip=SKIPPED)
        except StreamError as exc:
            raise BadReplay(str(exc)) from None
        try:
            return self._episode(replay, source)
        except BadReplay:
            raise
        except ValidationError as exc:
            raise BadReplay(f"a record does not fit Werewolf's events: {problem(exc)}") from None
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BadReplay(
                f"not a Werewolf replay as expected ({type(exc).__name__}: {exc})"
            ) from None

    def _episode(self, replay: dict[str, Any], source: str) -> ImportedEpisode:
        if replay.get("name") != "werewolf":
            raise BadReplay(f"not a Werewolf replay (its name is {replay.get('name')!r})")
        info = replay.get("info")
        if not isinstance(info, dict) or not isinstance(replay.get("configuration"), dict):
            raise BadReplay("not a Werewolf replay: it has no info or configuration")
        found = list(records(info))
        table = read_table(replay, found)
        agent_error = bool((info.get("GAME_END") or {}).get("terminated_with_agent_error"))
        game = translate(table, found, agent_error)
        rules = rules_from(replay["configuration"], table, game.round)
        stamps = [r.created_at for r in found if r.created_at]
        manifest = build_manifest(
            replay,
            source,
            table,
            rules,
            preset_name(rules),
            game,
            agent_error,
            record_times(stamps),
        )
        return ImportedEpisode(manifest, numbered(game.events))
