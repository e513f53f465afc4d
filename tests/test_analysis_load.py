"""analysis.load on episode, run and sweep directories; the Parquet cache; roles over time."""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import polars as pl
import pytest
from test_analysis_support import (
    BELIEFS_1,
    BELIEFS_2,
    LogBuilder,
    example_game,
    werewolf_game,
    write_sweep,
)

import analysis
from analysis import tables
from analysis.cache import CACHE_DIR
from analysis.discover import list_episodes
from analysis.frames import FRAME_NAMES, frame_names, seat_label
from analysis.loader import RunData
from analysis.tables import shared
from scenarios import the_traitors_analysis as paper

FOUR = {"A": "traitor", "B": "faithful", "C": "faithful", "D": "faithful", "E": "faithful"}


def test_load_one_episode_directory(tmp_path: Path) -> None:
    game = example_game()
    directory = game.write(tmp_path)
    data = analysis.load(directory)
    episodes = data.episodes.collect()
    assert episodes.get_column("episode_id").to_list() == ["g1"]
    first = episodes.row(0, named=True)
    assert (first["winner"], first["rounds"], first["n_players"], first["n_hidden"]) == (
        "traitors",
        2,
        6,
        2,
    )
    assert (first["status"], first["status_reason"]) == ("complete", None)
    assert (first["factions"], first["hidden_factions"]) == (["faithful", "traitors"], ["traitors"])
    assert (first["suspect"], first["elimination_causes"]) == ("traitor", ["banish", "murder"])
    assert first["decisions"] == sum(e.kind == "act" for e in game.events)
    assert first["defaulted"] == first["failed_calls"] == 0
    assert first["rules.n_players"] == 6  # the spec, flattened
    assert (first["traitor_model"], first["faithful_model"]) == ("heuristic", "heuristic")
    assert first["traitors_model"] == "heuristic"  # the faction's ("faithful" is both)
    events = data.events.collect()
    # Every event but the god-only act records, which are no game facts.
    kept = [e.seq for e in game.events if e.kind != "act"]
    assert len(kept) < len(game.events)
    assert events.get_column("seq").to_list() == kept
    assert "act" not in set(events.get_column("kind"))
    assert set(events.get_column("visibility")) >= {"public", "private", "channel"}
    eliminations = events.filter(pl.col("kind") == "eliminate")
    assert eliminations.select("round", "cause", "target").rows() == [
        (1, "banish", "C"),
        (2, "murder", "D"),
        (2, "banish", "A"),
        (3, "murder", "E"),
    ]
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
    assert players.select("player", "role", "faction", "hidden").rows()[1:3] == [
        ("B", "traitor", "traitors", True),
        ("C", "faithful", "faithful", False),
    ]
    roles = data.roles.collect()
    assert roles.select("role", "faction", "hidden").rows() == [
        ("faithful", "faithful", False),
        ("traitor", "traitors", True),
    ]
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
    assert data.events.collect().height == sum(e.kind != "act" for e in example_game().events)


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
    # The engine's frames and those the games' plug-ins add.
    assert set(FRAME_NAMES) < set(frame_names())
    assert sorted(p.name for p in directory.glob("*.parquet")) == sorted(
        f"{name}.parquet" for name in frame_names()
    )
    cached = analysis.load(tmp_path)
    assert cached.cached and cached.incomplete == 0  # the cache is not an episode
    for name in frame_names():
        assert cached.frame(name).collect().equals(fresh.frame(name).collect()), name
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


def degraded_game(episode_id: str, started_at: float = 0.0) -> LogBuilder:
    game = LogBuilder(episode_id, FOUR, started_at=started_at, status="degraded").start_round()
    game.vote("banish", {"A": "B", "B": "A", "C": "A", "D": "A", "E": "A"}, "A").banish("A")
    return game.end("faithful", rounds=1)


def test_degraded_episodes_are_left_out_and_counted_unless_asked(tmp_path: Path) -> None:
    example_game("g1").write(tmp_path)
    degraded_game("bad").write(tmp_path)
    failed = LogBuilder("boom", FOUR).end(None, rounds=1)
    failed.status = "failed"
    failed.write(tmp_path)
    data = analysis.load(tmp_path)
    assert data.episodes.collect()["episode_id"].to_list() == ["g1"]
    assert data.players.collect()["episode_id"].unique().to_list() == ["g1"]
    assert (data.degraded, data.failed, data.incomplete, data.duplicates) == (1, 1, 0, 0)
    assert data.left_out == 2
    kept = analysis.load(tmp_path, include_degraded=True)
    episodes = kept.episodes.collect().sort("episode_id")
    assert episodes.select("episode_id", "status").rows() == [
        ("bad", "degraded"),
        ("g1", "complete"),
    ]
    assert episodes["status_reason"].to_list() == ["every action defaulted", None]
    assert episodes["defaulted"].to_list()[0] > 0
    assert (kept.degraded, kept.failed, kept.include_degraded) == (0, 1, True)
    assert set(kept.events.collect()["episode_id"]) == {"g1", "bad"}


def test_only_degraded_episodes_is_an_error_that_says_how_to_read_them(tmp_path: Path) -> None:
    degraded_game("bad").write(tmp_path)
    message = r"no complete episodes \(1 degraded left out, --include-degraded keeps them\)"
    with pytest.raises(analysis.AnalysisError, match=message):
        analysis.load(tmp_path)
    assert analysis.load(tmp_path, include_degraded=True).episodes.collect().height == 1
    analysis.compact(tmp_path)
    with pytest.raises(analysis.AnalysisError, match=message):
        analysis.load(tmp_path)  # the same from the cache


def test_a_complete_copy_of_an_episode_is_preferred_to_a_degraded_one(tmp_path: Path) -> None:
    degraded_game("same").write(tmp_path / "a-first")
    LogBuilder("same", FOUR).end("traitors", rounds=1).write(tmp_path / "b-rerun")
    for include_degraded in (False, True):
        data = analysis.load(tmp_path, include_degraded=include_degraded)
        (row,) = data.episodes.collect().select("run", "status", "winner").rows()
        assert row == ("b-rerun", "complete", "traitors")
        assert (data.duplicates, data.degraded) == (1, 0)


def test_the_cache_holds_degraded_episodes_and_each_load_picks(tmp_path: Path) -> None:
    example_game("g1").write(tmp_path)
    degraded_game("bad").write(tmp_path)
    fresh = {flag: analysis.load(tmp_path, flag) for flag in (False, True)}
    analysis.compact(tmp_path)
    for include_degraded, expected in ((False, ["g1"]), (True, ["bad", "g1"])):
        cached = analysis.load(tmp_path, include_degraded=include_degraded)
        assert cached.cached
        assert sorted(cached.episodes.collect()["episode_id"]) == expected
        assert cached.degraded == (0 if include_degraded else 1)
        for name in frame_names():
            ours = cached.frame(name).collect().sort(pl.all())
            theirs = fresh[include_degraded].frame(name).collect().sort(pl.all())
            assert ours.cast(theirs.schema).equals(theirs), name


def test_werewolf_frames_carry_its_own_factions(tmp_path: Path) -> None:
    data = analysis.load(werewolf_game().write(tmp_path))
    episode = data.episodes.collect().row(0, named=True)
    assert (episode["factions"], episode["hidden_factions"]) == (
        ["villagers", "werewolves"],
        ["werewolves"],
    )
    assert (episode["n_hidden"], episode["suspect"]) == (2, "werewolf")
    assert episode["elimination_causes"] == ["exile", "kill"]
    assert (episode["werewolves_model"], episode["villagers_model"]) == ("heuristic", "heuristic")
    assert "n_traitors" not in episode
    players = data.players.collect()
    assert players.select("role", "faction", "hidden").unique().sort("role").rows() == [
        ("doctor", "villagers", False),
        ("seer", "villagers", False),
        ("villager", "villagers", False),
        ("werewolf", "werewolves", True),
    ]
    # A kill is dated to its own night (Werewolf kills at dawn of the same round); the
    # doctor's save leaves the second night without a death.
    removed = tables.eliminations(data).select("round", "cause", "target", "public").rows()
    assert removed == [
        (1, "kill", "E", False),
        (1, "exile", "C", True),
        (2, "exile", "A", True),
        (3, "kill", "F", False),
    ]
    ballots = tables.votes(data)
    public = ballots.filter(pl.col("public") & pl.col("elimination"))
    assert set(public["purpose"]) == {"exile"}
    assert set(ballots.filter(~pl.col("public"))["purpose"]) == {"kill", "protect"}
    assert not ballots.filter(pl.col("purpose") == "protect")["elimination"].any()
