"""benchmarks/kaggle_parity.py: the stats and intervals of the parity table, on real episodes
of our engine (no Kaggle engine, no network)."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from traitors.episode.engine import EpisodeResult, run_episode
from traitors.episode.spec import load_spec
from traitors.game.events import EliminationEvent, GameOverEvent, VoteResultEvent

ROOT = Path(__file__).resolve().parent.parent
KAGGLE_LIKE = {
    "name": "kaggle_like",
    "scenario": "werewolf",
    "seed": 0,
    "rules": {
        "exile_rule": "plurality",
        "exile_reveals": "role",
        "debate_turns": 1,
        "werewolf_talk": False,
        "doctor_learns_save": True,
    },
    "agents": {"default": {"policy": "random"}},
}
"""A small spec near Kaggle's rules that our engine plays today (the presets may not)."""


def bench() -> ModuleType:
    """The benchmark, imported by path (benchmarks is not a package)."""
    spec = importlib.util.spec_from_file_location(
        "kaggle_parity", ROOT / "benchmarks" / "kaggle_parity.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["kaggle_parity"] = module
    spec.loader.exec_module(module)
    return module


kp = bench()


@pytest.fixture(scope="module")
def preset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("presets") / "kaggle_like.yaml"
    path.write_text(yaml.safe_dump(KAGGLE_LIKE))
    return path


def play(preset: Path, seeds: range, overrides: tuple[str, ...] = ()) -> list[EpisodeResult]:
    """Real Werewolf episodes of our engine, nothing written."""
    spec = load_spec(preset, overrides)

    async def run() -> list[EpisodeResult]:
        return [await run_episode(spec, seed) for seed in seeds]

    return asyncio.run(run())


@pytest.fixture(scope="module")
def episodes(preset: Path) -> list[EpisodeResult]:
    return play(preset, range(30))


def test_our_stats_follow_the_log(episodes: list[EpisodeResult]) -> None:
    for result in episodes:
        stats = kp.our_game_stats(result.events)
        end = [e for e in result.events if isinstance(e, GameOverEvent)][-1]
        assert stats.winner == result.outcome.winner == end.winner
        assert stats.days == end.round
        # every round opens with a night; a game ending at night has one day fewer
        assert len(stats.saves) == stats.days
        assert len(stats.exiles) in (stats.days - 1, stats.days)
        deaths = [e for e in result.events if isinstance(e, EliminationEvent)]
        targeted = sum(
            e.decided is not None
            for e in result.events
            if isinstance(e, VoteResultEvent) and e.purpose == "kill"
        )
        assert len(deaths) == sum(stats.exiles) + targeted - sum(stats.saves)
        told = {e.round for e in result.events if e.kind == "save"}
        assert told == {r + 1 for r, saved in enumerate(stats.saves) if saved}


def test_our_episodes_cover_saves_and_days_without_exile(
    episodes: list[EpisodeResult],
) -> None:
    games = [kp.our_game_stats(r.events) for r in episodes]
    summary = kp.summarize(games)
    assert summary.games == 30 and summary.undecided == 0
    assert 0 < summary.save_nights.hits < summary.save_nights.n
    assert 0 < summary.no_exile_days.hits < summary.no_exile_days.n
    wins = sum(r.outcome.winner == "villagers" for r in episodes)
    assert summary.villager_wins == kp.Share(wins, 30)
    assert summary.mean_days == sum(g.days for g in games) / 30


def test_a_truncated_game_is_undecided_and_out_of_the_win_rate(preset: Path) -> None:
    results = play(preset, range(6), ("rules.max_rounds=1",))
    games = [kp.our_game_stats(r.events) for r in results]
    truncated = [g for g in games if g.winner is None]
    assert truncated and all(g.days == 1 for g in truncated)
    summary = kp.summarize(games)
    assert summary.undecided == len(truncated)
    assert summary.villager_wins.n == len(games) - len(truncated)


def kaggle_line(**changes: Any) -> dict[str, Any]:
    """A line of kaggle_side.py (a real balanced game, trimmed to what the table reads)."""
    line = {
        "config": "balanced",
        "game": 0,
        "winner": "werewolves",
        "last_day": 6,
        "agent_error": False,
        "nights": [{"night": n, "saved": n == 1} for n in range(6)],
        "days": [{"day": d, "exiled": d in (3, 5, 6)} for d in range(1, 7)],
    }
    return {**line, **changes}


def test_kaggle_stats_from_a_line() -> None:
    stats = kp.kaggle_game_stats(kaggle_line())
    assert stats == kp.GameStats(
        "werewolves", 6, (False, False, True, False, True, True), tuple(n == 1 for n in range(6))
    )
    assert kp.kaggle_game_stats(kaggle_line(agent_error=True)).winner is None


def test_newcombe_matches_the_published_example() -> None:
    # Newcombe (1998), Statistics in Medicine 17:873, example (a): 56/70 - 48/80
    low, high = kp.newcombe(kp.Share(56, 70), kp.Share(48, 80))
    assert low == pytest.approx(0.0524, abs=1e-4)
    assert high == pytest.approx(0.3339, abs=1e-4)
    swapped = kp.newcombe(kp.Share(48, 80), kp.Share(56, 70))
    assert swapped == pytest.approx((-high, -low))


def test_rows_meet_the_goal_only_when_they_agree() -> None:
    assert kp.share_row("m", kp.Share(112, 500), kp.Share(120, 500)).ok
    assert not kp.share_row("m", kp.Share(112, 500), kp.Share(35, 500)).ok
    assert kp.length_row(5.0, 5.45).ok
    assert not kp.length_row(5.0, 5.6).ok
    assert not kp.length_row(5.0, 4.4).ok


def test_every_kaggle_config_maps_to_valid_options() -> None:
    assert kp.chosen_configs(["all"]) == list(kp.CONFIGS)
    for name in kp.CONFIGS:
        path, overrides = kp.our_spec_args(name)
        rules = load_spec(path, overrides).rules  # the preset exists, every option is real
        assert rules["n_players"] == 8 and rules["n_werewolves"] == 2, name
    path, overrides = kp.our_spec_args("balanced", "random")
    assert path.name == "werewolf_kaggle_balanced.yaml"
    assert overrides == ["agents.default.policy=random"]
    _, overrides = kp.our_spec_args("standard_parallel_voting_no_tie_exile")
    assert load_spec(path.with_name("werewolf_kaggle_standard.yaml"), overrides).rules == {
        **load_spec(path.with_name("werewolf_kaggle_standard.yaml")).rules,
        "voting": "simultaneous",
        "exile_tie": "nobody",
    }


def test_bad_input_gets_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert kp.main(["--configs", "standard", "nonsense"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown config 'nonsense'" in err
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert kp.main(["--games", "1", "--venv", str(blocker / "venv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot create a virtual environment" in err
    assert kp.main(["--kaggle-from", str(tmp_path / "missing.jsonl")]) == 2
    assert "--kaggle-from" in capsys.readouterr().err
    saved = tmp_path / "kaggle.jsonl"
    saved.write_text(json.dumps(kaggle_line()) + "\n")
    argv = ["--configs", "balanced", "--kaggle-from", str(saved), "--policy", "no_such"]
    assert kp.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--policy no_such: no such policy" in err


def test_table_from_saved_kaggle_lines(
    preset: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    presets = tmp_path / "presets"
    presets.mkdir()
    for name in kp.PRESETS.values():
        (presets / name).write_text(preset.read_text())
    lines = [kaggle_line(game=i) for i in range(3)]
    lines.append({"config": "standard", "error": "TypeError: cannot run"})
    saved = tmp_path / "kaggle.jsonl"
    saved.write_text("".join(json.dumps(line) + "\n" for line in lines))
    argv = ["--games", "3", "--presets", str(presets), "--kaggle-from", str(saved)]
    assert kp.main([*argv, "--policy", "random"]) == 0
    out = capsys.readouterr().out
    assert "balanced" in out and "villager win rate" in out
    assert "TypeError: cannot run" in out  # standard: reported as not runnable
