"""The hostile-input episodes depend on no other test: the same run twice says the same."""

from __future__ import annotations

from pathlib import Path

from replay_episodes import run_hostile

from traitors.store.log import iter_events


def speeches(directory: Path) -> list[str]:
    return [e.text for e in iter_events(directory) if e.kind == "speak"]


def test_a_hostile_run_says_the_same_whatever_ran_before(tmp_path: Path) -> None:
    (first,) = run_hostile(tmp_path / "first")
    (second,) = run_hostile(tmp_path / "second")
    assert speeches(first.dir) == speeches(second.dir) != []


def test_a_hostile_episode_says_the_same_whatever_ran_before(tmp_path: Path) -> None:
    from conftest import TRAITORS_YAML
    from test_hostile import hostile_policy

    from traitors.episode.spec import load_spec
    from traitors.game.registry import register_policy
    from traitors.sweep.episodes import run_episodes

    register_policy("hostile", hostile_policy())
    spec = load_spec(TRAITORS_YAML, ["agents.default.policy=hostile", "rules.n_players=6",
                                     "rules.n_traitors=2", "rules.max_rounds=3"])  # fmt: skip
    said = []
    for run in ("first", "second"):
        register_policy("hostile", hostile_policy())
        (summary,) = run_episodes(spec, [1], tmp_path / run)
        said.append(speeches(summary.dir))
    assert said[0] == said[1] != []
