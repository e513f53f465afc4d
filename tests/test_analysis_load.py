"""analysis.load on episode, run and sweep directories; the Parquet cache; roles over time."""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl
import pytest
from test_analysis_support import BELIEFS_1, BELIEFS_2, LogBuilder, example_game, write_sweep

import analysis
from analysis import paper
from analysis.cache import CACHE_DIR
from analysis.discover import list_episodes
from analysis.frames import seat_label
from analysis.loader import RunData
from analysis.tables import shared

FOUR = {"A": "traitor", "B": "faithful", "C": "faithful", "D": "faithful", "E": "faithful"}


def test_load_one_episode_directory(tmp_path: Path) -> None:
    game = example_game()
    directory = game.write(tmp_path)
    data = analysis.load(directory)
    episodes = data.episodes.collect()
    assert episodes.get_column("episode_id").to_list() == ["g1"]
    first = episodes.row(0, named=True)
    assert (first["winner"], first["rounds"], first["n_players"], first["n_traitors"]) == (
        "traitors",
        2,
        6,
        2,
    )
    assert first["rules.n_players"] == 6  # the spec, flattened
    assert (first["traitor_model"], first["faithful_model"]) == ("heuristic", "heuristic")
    events = data.events.collect()
    assert events.height == len(game.events)
    assert events.get_column("seq").to_list() == list(range(len(game.events)))
    assert set(events.get_column("visibility")) >= {"public", "private", "channel"}
    beliefs = data.beliefs.collect()
    assert beliefs.height == sum(len(p) for t in (BELIEFS_1, BELIEFS_2) for p in t.values())
    assert beliefs.filter((pl.col("observer") == "C") & (pl.col("target") == "A"))["p"][0] == 0.8
    claims = data.claims.collect()
    # Round 1: A 2, C 2, D 1, E 1, B 2; round 2: one each for A, E, F, B.
    assert claims.height == 12
    assert claims.group_by("claim").len().sort("claim").rows() == [
        ("accuse", 7),
        ("claim_role", 3),
        ("defend", 2),
    ]
    players = data.players.collect()
    assert players.select("player", "role").rows()[:2] == [("A", "traitor"), ("B", "traitor")]
    assert data.calls.collect().height == 0
    assert (data.incomplete, data.duplicates, data.cached) == (0, 0, False)


def test_load_a_run_skips_incomplete_episodes(tmp_path: Path) -> None:
    models = {"A": "m-traitor", "B": "m-faithful", "C": "m-faithful"}
    llm = LogBuilder("llm", FOUR, models=models, started_at=1.0)
    llm.call("A", "m-traitor", 100, 10, 0.002).call("B", "m-faithful", 200, 20, 0.001)
    llm.end("faithful", rounds=1).write(tmp_path)
    example_game().write(tmp_path)
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    (crashed / "events.jsonl").write_text("")
    (crashed / "error.txt").write_text("Traceback ...")
    running = tmp_path / "running"
    running.mkdir()
    (running / "manifest.json").write_text(json.dumps({"episode_id": "x", "status": "running"}))
    (tmp_path / "notes").mkdir()  # not an episode at all
    data = analysis.load(tmp_path)
    assert sorted(data.episodes.collect().get_column("episode_id")) == ["g1", "llm"]
    assert data.incomplete == 2
    llm_row = data.episodes.filter(pl.col("episode_id") == "llm").collect().row(0, named=True)
    assert llm_row["traitor_model"] == "m-traitor"
    assert llm_row["faithful_model"] == "heuristic+m-faithful"  # D and E have no model
    assert llm_row["run"] == tmp_path.name
    calls = data.calls.collect().sort("index")
    assert calls.select("agent", "model", "prompt_tokens", "completion_tokens", "cost").rows() == [
        ("A", "m-traitor", 100, 10, 0.002),
        ("B", "m-faithful", 200, 20, 0.001),
    ]


def test_load_a_sweep_joins_its_factors(tmp_path: Path) -> None:
    small = LogBuilder("s1", FOUR, rules={"n_players": 5}).end("traitors", rounds=1)
    large = example_game("s2")
    large.rules = {"n_players": 6}
    for game in (small, large):
        game.write(tmp_path)
    write_sweep(
        tmp_path,
        {
            "s1": {"rules.n_players": 5, "agents.traitor.model": "x"},
            "s2": {"rules.n_players": 6, "agents.traitor.model": "y"},
        },
    )
    episodes = analysis.load(tmp_path).episodes.collect().sort("episode_id")
    assert episodes.select("cell", "rules.n_players", "agents.traitor.model").rows() == [
        (0, 5, "x"),
        (1, 6, "y"),
    ]


def test_duplicate_episode_ids_are_read_once(tmp_path: Path) -> None:
    for run in ("run1", "run2"):
        example_game().write(tmp_path / run)
    data = analysis.load(tmp_path)
    assert data.episodes.collect().height == 1
    assert data.duplicates == 1
    assert data.events.collect().height == len(example_game().events)


def test_listing_walks_runs_in_path_order_and_skips_hidden_directories(tmp_path: Path) -> None:
    for run, episode_id in (("run-1", "g2"), ("run", "g1"), (".hidden", "g3")):
        short = LogBuilder(episode_id, FOUR).end("faithful", rounds=1)
        short.write(tmp_path / run)
    (tmp_path / "run" / "crashed").mkdir()
    (tmp_path / "run" / "crashed" / "error.txt").write_text("boom")
    listing = list_episodes(tmp_path)
    # "run" sorts before "run-1" as a path (a string sort would put "run-1/..." first).
    relative = [str(d.relative_to(tmp_path)) for d in listing.episode_dirs]
    assert relative == ["run/crashed", "run/g1", "run-1/g2"]
    assert [s[0] for s in listing.fingerprint] == [
        "run/crashed",
        "run/g1/manifest.json",
        "run-1/g2/manifest.json",
    ]
    data = analysis.load(tmp_path)
    assert data.episodes.collect()["episode_id"].to_list() == ["g1", "g2"]
    assert data.incomplete == 1


def test_a_shared_table_is_computed_once_when_threads_ask_at_once(tmp_path: Path) -> None:
    data = analysis.load(example_game().write(tmp_path))
    calls = []

    @shared
    def slow_table(data: RunData, claim: str) -> pl.DataFrame:
        calls.append(claim)
        time.sleep(0.05)  # the others arrive while it is being computed
        return data.claims.filter(pl.col("claim") == claim).collect()

    with ThreadPoolExecutor(4) as pool:
        frames = list(pool.map(lambda _: slow_table(data, "accuse"), range(4)))
    assert calls == ["accuse"]
    assert all(frame is frames[0] for frame in frames)
    assert frames[0].height == 7


def test_bad_paths_raise_analysis_errors(tmp_path: Path) -> None:
    with pytest.raises(analysis.AnalysisError, match="no such directory"):
        analysis.load(tmp_path / "missing")
    (tmp_path / "crashed").mkdir()
    (tmp_path / "crashed" / "error.txt").write_text("boom")
    with pytest.raises(analysis.AnalysisError, match=r"no complete episodes \(1 incomplete"):
        analysis.load(tmp_path)


def test_compact_cache_is_reused_until_the_logs_change(tmp_path: Path) -> None:
    example_game("g1").write(tmp_path)
    fresh = analysis.load(tmp_path)
    directory = analysis.compact(tmp_path)
    assert directory == tmp_path / CACHE_DIR
    assert sorted(p.name for p in directory.glob("*.parquet")) == [
        "beliefs.parquet",
        "calls.parquet",
        "catalogue.parquet",
        "claims.parquet",
        "episodes.parquet",
        "events.parquet",
        "players.parquet",
    ]
    cached = analysis.load(tmp_path)
    assert cached.cached and cached.incomplete == 0  # the cache is not an episode
    for name in ("episodes", "events", "claims", "beliefs", "catalogue", "players", "calls"):
        assert getattr(cached, name).collect().equals(getattr(fresh, name).collect()), name
    example_game("g2", started_at=5.0).write(tmp_path)
    stale = analysis.load(tmp_path)
    assert not stale.cached
    assert stale.episodes.collect().height == 2
    manifest = tmp_path / "g1" / "manifest.json"
    analysis.compact(tmp_path)
    os.utime(manifest, ns=(0, 0))
    assert not analysis.load(tmp_path).cached


def test_roles_follow_recruitment(tmp_path: Path) -> None:
    roles = {
        "A": "traitor",
        "B": "traitor",
        "C": "faithful",
        "D": "faithful",
        "E": "faithful",
        "F": "faithful",
        "G": "faithful",
    }
    game = LogBuilder("recruit", roles).start_round()
    game.vote(
        "banish", {"A": "C", "B": "A", "C": "A", "D": "A", "E": "A", "F": "A", "G": "A"}, "A"
    ).banish("A")
    game.vote("recruit", {"B": "C"}, "C").recruit("C", accepted=True)
    game.vote("murder", {"B": "D", "C": "D"}, "D")
    game.start_round(murdered="D")
    game.vote("banish", {"B": "E", "C": "E", "E": "B", "F": "E", "G": "E"}, "E").banish("E")
    game.end("traitors", rounds=2).write(tmp_path)
    table = paper.vote_table(analysis.load(tmp_path))
    roles_of_c = table.filter(pl.col("player") == "C").select("round", "vote_type", "role").rows()
    assert roles_of_c == [
        (1, "General", "faithful"),
        (1, "Traitor", "traitor"),
        (2, "General", "traitor"),
    ]


def test_seat_label_names_a_model_only_when_the_policy_calls_one() -> None:
    assert seat_label({"policy": "llm", "model": "openai/gpt-4o-mini"}) == "openai/gpt-4o-mini"
    # Scripted seats inherit the spec's default model but never call it.
    assert seat_label({"policy": "heuristic", "model": "local/smollm2-135m"}) == "heuristic"
    assert seat_label({"policy": "random"}) == "random"
    assert seat_label({}) == "unknown"


def test_cache_keeps_the_skipped_counts_and_notices_a_new_crash(tmp_path: Path) -> None:
    for run in ("run1", "run2"):
        example_game().write(tmp_path / run)
    (tmp_path / "run1" / "crashed").mkdir()
    (tmp_path / "run1" / "crashed" / "error.txt").write_text("boom")
    analysis.compact(tmp_path)
    cached = analysis.load(tmp_path)
    assert (cached.cached, cached.incomplete, cached.duplicates) == (True, 1, 1)
    (tmp_path / "run2" / "crashed").mkdir()
    (tmp_path / "run2" / "crashed" / "error.txt").write_text("boom")
    fresh = analysis.load(tmp_path)
    assert (fresh.cached, fresh.incomplete, fresh.duplicates) == (False, 2, 1)
