"""The ``causal`` group: effects of interventions from synthetic fork directories whose true
effect is known, the interval formulas against published values, and the CLI."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from test_analysis_cli import analyze
from test_analysis_support import LogBuilder, accuse, example_game

import analysis
from analysis.causal import effects, influence_table, per_episode
from analysis.causal_stats import bootstrap_difference, newcombe, wilson
from analysis.suite import default_groups

SEATS = {
    "Alice": "traitor",
    "Bob": "faithful",
    "Carol": "faithful",
    "Dave": "faithful",
    "Erin": "faithful",
    "Finn": "faithful",
}
PREFIX_BELIEFS = {p: {q: 0.5 for q in SEATS if q != p} for p in SEATS}


def fork_game(
    directory: Path,
    episode_id: str,
    *,
    arm: str,
    sample: int,
    decided: str | None,
    question: str = "q1",
    speaker: str = "Bob",
    accused: str = "Alice",
    winner: str | None = "faithful",
    beliefs: dict[str, dict[str, float]] | None = None,
    status: str = "complete",
    abstain: bool = False,
) -> Path:
    """A fork episode: round 1 (talk, a probe and a banishment of Dave) is the parent's
    prefix; round 2 starts with ``speaker``'s message, the one intervened on: kept in the
    control arm, dropped in the treated arm. The continuation is a belief probe, then a
    banishment vote in which every other seat names ``decided`` (Finn abstains with
    ``abstain``), and the end."""
    game = LogBuilder(episode_id, SEATS, started_at=float(sample), status=status)
    game.start_round()
    game.say("Carol", accuse("Dave"))
    game.beliefs(PREFIX_BELIEFS)
    game.vote("banish", {p: "Dave" for p in SEATS if p != "Dave"}, "Dave")
    game.banish("Dave")
    game.start_round()
    at = len(game.events)
    target = at + 1  # the message's act record comes first, then the speech
    if arm == "control":
        game.say(speaker, accuse(accused))
    if beliefs is not None:
        game.beliefs(beliefs)
    alive = [p for p in SEATS if p != "Dave"]
    if decided is not None:
        ballots: dict[str, str | None] = {
            p: decided if p != decided else next(q for q in alive if q != p) for p in alive
        }
        if abstain:
            ballots["Finn"] = None
        game.vote("banish", ballots, decided)
        game.banish(decided)
    game.end(winner, rounds=2)
    path = game.write(directory)
    label = f"drop {target}: {speaker}: I accuse {accused}"
    fork = {
        "parent": "parent0",
        "parent_dir": "runs/parent0",
        "at": at,
        "arm": arm,
        "sample": sample,
        "seed": 1000 + sample,
        "question": question,
        "prefix_calls": 0,
        "intervention": {
            "kind": "drop",
            "target": target,
            "actor": speaker,
            "round": 2,
            "phase": "discussion",
            "original": {"kind": "speak", "text": "...", "claims": []},
            "applied": {"kind": "pass"},
            "set": [],
            "label": label,
        },
    }
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["fork"] = fork
    (path / "manifest.json").write_text(json.dumps(manifest))
    return path


def write_arms(
    directory: Path,
    treated: Sequence[str | None],
    control: Sequence[str | None],
    question: str = "q1",
    **options: Any,
) -> Path:
    """One question: a treated fork per entry of ``treated`` deciding that player, a
    control fork per entry of ``control``."""
    for arm, decided in (("treated", treated), ("control", control)):
        for sample, player in enumerate(decided):
            fork_game(
                directory,
                f"{question}-{arm}-{sample}",
                arm=arm,
                sample=sample,
                decided=player,
                question=question,
                **options,
            )
    return directory


# --- the formulas ------------------------------------------------------------------------


def test_wilson_matches_published_values() -> None:
    # Newcombe (1998a), Table I: 81/263 -> 0.2553 to 0.3662; 15/148 -> 0.0624 to 0.1605.
    assert wilson(81, 263) == pytest.approx((0.2553, 0.3662), abs=5e-5)
    assert wilson(15, 148) == pytest.approx((0.0624, 0.1605), abs=5e-5)
    low, high = wilson(0, 20)
    assert low == 0.0 and high == pytest.approx(0.1611, abs=5e-5)
    with pytest.raises(ValueError):
        wilson(0, 0)


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        # Newcombe (1998b), Table II, method 10.
        ((56, 70, 48, 80), (0.2, 0.0524, 0.3339)),
        ((9, 10, 3, 10), (0.6, 0.1705, 0.8090)),
        ((6, 7, 2, 7), (0.5714, 0.0582, 0.8062)),
        ((5, 56, 0, 29), (0.0893, -0.0381, 0.1926)),
        ((10, 10, 0, 20), (1.0, 0.6791, 1.0)),
    ],
)
def test_newcombe_matches_the_published_examples(
    counts: tuple[int, int, int, int], expected: tuple[float, float, float]
) -> None:
    assert newcombe(*counts) == pytest.approx(expected, abs=5e-5)


def test_the_bootstrap_is_seeded_and_brackets_the_difference() -> None:
    treated = [0.2, 0.4, 0.9, 0.7, 0.5, 0.6, 0.3, 0.8] * 4
    control = [0.1, 0.3, 0.2, 0.4, 0.5, 0.2, 0.3, 0.1] * 4
    first = bootstrap_difference(treated, control)
    assert first == bootstrap_difference(treated, control)  # deterministic
    difference, low, high = first
    assert difference == pytest.approx(sum(treated) / 32 - sum(control) / 32)
    assert low < difference < high
    # About the normal interval: 1.96 standard errors either side.
    se = (0.0494 / 32 + 0.0206 / 32) ** 0.5  # population variances of the two arms
    assert high - low == pytest.approx(2 * 1.96 * se, rel=0.2)
    assert bootstrap_difference([1.0] * 5, [0.0] * 7) == (1.0, 1.0, 1.0)
    assert bootstrap_difference(treated, control, seed=1) != first


# --- effects of known size ---------------------------------------------------------------


@pytest.mark.slow
def test_a_message_that_moves_the_vote_has_an_effect_of_one(tmp_path: Path) -> None:
    directory = write_arms(tmp_path / "fork", ["Alice"] * 30, ["Bob"] * 30)
    table = influence_table(directory)
    assert table.height == 1
    row = table.row(0, named=True)
    assert (row["question"], row["target"], row["actor"]) == ("q1", 41, "Bob")
    assert row["label"] == "drop 41: Bob: I accuse Alice"
    assert (row["outcome"], row["player"]) == ("next_decided", "Alice")
    assert row["effect"] == pytest.approx(1.0)
    assert row["low"] == pytest.approx(newcombe(30, 30, 0, 30)[1]) and row["low"] > 0.8
    assert row["high"] == pytest.approx(1.0)
    assert (row["n_treated"], row["n_control"]) == (30, 30)
    assert (row["left_out_treated"], row["left_out_control"]) == (0, 0)
    assert table.columns[:11] == [
        "question",
        "target",
        "actor",
        "label",
        "outcome",
        "player",
        "effect",
        "low",
        "high",
        "n_treated",
        "n_control",
    ]

    found = effects(analysis.load(directory))
    decided = found.filter(pl.col("outcome") == "next_decided")
    assert dict(decided.select("subject", "effect").iter_rows()) == pytest.approx(
        {"Alice": 1.0, "Bob": -1.0}
    )
    assert set(decided["interval"]) == {"newcombe"}
    shares = found.filter(pl.col("outcome") == "next_vote_share")
    alice = shares.filter(pl.col("subject") == "Alice").row(0, named=True)
    # Four of the five live seats name Alice in every treated fork; in the controls only
    # Bob, whom the others name, does.
    assert (alice["treated"], alice["control"]) == pytest.approx((0.8, 0.2))
    assert (alice["effect"], alice["low"], alice["high"]) == pytest.approx((0.6, 0.6, 0.6))
    assert alice["interval"] == "bootstrap"
    # Dave, banished in the prefix, is no outcome: every value of his is 0.
    assert "Dave" not in set(found["subject"])


@pytest.mark.slow
def test_a_message_without_effect_has_an_interval_around_zero(tmp_path: Path) -> None:
    half = ["Alice"] * 15 + ["Bob"] * 15
    directory = write_arms(tmp_path / "fork", half, list(reversed(half)))
    row = influence_table(directory).row(0, named=True)
    assert row["effect"] == pytest.approx(0.0)
    assert row["low"] < -0.2 and row["high"] > 0.2
    assert (row["control"], row["treated"]) == pytest.approx((0.5, 0.5))


@pytest.mark.slow
def test_the_most_influential_message_is_ranked_first(tmp_path: Path) -> None:
    directory = tmp_path / "influence"
    write_arms(directory, ["Bob"] * 6 + ["Alice"] * 4, ["Bob"] * 5 + ["Alice"] * 5, "weak")
    write_arms(directory, ["Erin"] * 10, ["Alice"] * 10, "strong", speaker="Carol")
    write_arms(directory, [None] * 3, [None] * 3, "novote", speaker="Erin")
    table = influence_table(directory)
    assert table["question"].to_list() == ["strong", "weak", "novote"]
    # "weak": Bob +0.1, Alice -0.1: on a tie the player made more likely is named.
    assert table["player"].to_list() == ["Erin", "Bob", None]
    assert table["effect"].to_list()[:2] == pytest.approx([1.0, 0.1])
    assert table.row(2, named=True)["effect"] is None
    assert table.row(2, named=True)["n_treated"] == 0  # no fork reached a vote
    ranked = effects(analysis.load(directory))
    assert ranked["question"].unique(maintain_order=True).to_list()[:2] == ["strong", "weak"]


def test_outcomes_are_measured_after_the_fork_point(tmp_path: Path) -> None:
    probe = {p: {q: 0.1 for q in SEATS if q != p} for p in SEATS if p != "Dave"}
    probe["Bob"] = {q: 0.9 for q in SEATS if q != "Bob"}  # the speaker: not a listener
    probe["Carol"]["Alice"] = 0.7
    directory = tmp_path / "fork"
    fork_game(directory, "t", arm="treated", sample=0, decided="Erin", beliefs=probe, abstain=True)
    fork_game(directory, "c", arm="control", sample=0, decided="Erin", winner="traitors")
    long = per_episode(analysis.load(directory))
    treated = long.filter(pl.col("episode_id") == "t")

    def values(outcome: str) -> dict[str, float]:
        rows = treated.filter(pl.col("outcome") == outcome).select("subject", "value")
        return dict(rows.iter_rows())

    # The prefix's banishment of Dave is before the fork point: the next vote decides Erin.
    decided = values("next_decided")
    assert decided == {"Alice": 0, "Bob": 0, "Carol": 0, "Dave": 0, "Erin": 1, "Finn": 0}
    # Alice, Bob and Carol name Erin, Finn abstains; Erin names Alice: 5 ballots cast.
    shares = values("next_vote_share")
    assert shares["Erin"] == pytest.approx(0.6) and shares["Alice"] == pytest.approx(0.2)
    # Listeners Alice, Carol, Erin, Finn (Bob spoke): the prefix probe's 0.5 is not read.
    beliefs = values("belief")
    assert beliefs["Alice"] == pytest.approx((0.7 + 0.1 + 0.1) / 3)
    assert beliefs["Bob"] == pytest.approx(0.1)
    assert values("winner") == {"faithful": 1, "traitors": 0}
    control = long.filter(pl.col("episode_id") == "c")
    assert control.filter(pl.col("outcome") == "belief").is_empty()  # no probe after the fork
    won = control.filter(pl.col("outcome") == "winner").select("subject", "value")
    assert dict(won.iter_rows()) == {"faithful": 0, "traitors": 1}


def test_the_winner_effect_uses_the_games_own_factions(tmp_path: Path) -> None:
    directory = tmp_path / "fork"
    for sample in range(12):
        fork_game(directory, f"t{sample}", arm="treated", sample=sample, decided="Alice")
        fork_game(
            directory, f"c{sample}", arm="control", sample=sample, decided="Bob", winner="traitors"
        )
    found = effects(analysis.load(directory)).filter(pl.col("outcome") == "winner")
    assert dict(found.select("subject", "effect").iter_rows()) == pytest.approx(
        {"faithful": 1.0, "traitors": -1.0}
    )


# --- only played forks count -------------------------------------------------------------


def test_forks_that_are_not_complete_are_left_out_and_counted(tmp_path: Path) -> None:
    directory = write_arms(tmp_path / "fork", ["Alice"] * 10, ["Bob"] * 10)
    for sample in (10, 11):
        fork_game(
            directory,
            f"bad{sample}",
            arm="treated",
            sample=sample,
            decided="Bob",
            status="degraded",
        )
    running = directory / "still-running"
    running.mkdir()
    manifest = json.loads((directory / "q1-control-0" / "manifest.json").read_text())
    manifest.update(episode_id="still-running", status="running", outcome=None)
    manifest["fork"]["sample"] = 10
    (running / "manifest.json").write_text(json.dumps(manifest))

    row = influence_table(directory).row(0, named=True)
    assert (row["n_treated"], row["n_control"]) == (10, 10)
    assert (row["left_out_treated"], row["left_out_control"]) == (2, 1)
    assert row["effect"] == pytest.approx(1.0)

    kept = influence_table(directory, include_degraded=True).row(0, named=True)
    assert (kept["n_treated"], kept["left_out_treated"], kept["left_out_control"]) == (12, 0, 1)
    assert kept["effect"] == pytest.approx(10 / 12)


# --- the group in `traitors analyze` -------------------------------------------------------


@pytest.mark.slow
def test_analyze_group_causal_prints_the_ranking_and_a_table_per_question(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "250")  # rich wraps titles and headers to the terminal
    directory = tmp_path / "influence"
    write_arms(directory, ["Alice"] * 8, ["Bob"] * 8, "qa")
    write_arms(directory, ["Bob"] * 8, ["Bob"] * 8, "qb", speaker="Carol")
    assert analyze(directory, "--group", "causal") == 0
    out = capsys.readouterr().out
    assert "32 complete episode(s)" in out
    assert "Causal influence" in out and "banish" in out
    assert "Causal effects of drop 41: Bob: I accuse Alice" in out
    assert "Causal effects of drop 41: Carol: I accuse Alice" in out
    assert out.index("Bob: I accuse") < out.index("Carol: I accuse")  # ranked
    for word in ("next_decided", "next_vote_share", "winner", "newcombe", "bootstrap"):
        assert word in out

    assert analyze(directory, "--group", "causal", "--format", "json") == 0
    tables = json.loads(capsys.readouterr().out)
    assert list(tables) == ["causal_influence", "causal_qa", "causal_qb"]
    assert [r["rank"] for r in tables["causal_influence"]] == [1, 2]
    assert tables["causal_influence"][0]["effect"] == pytest.approx(1.0)
    assert tables["causal_influence"][1]["effect"] == pytest.approx(0.0)


@pytest.mark.slow
def test_a_fork_directory_gets_the_causal_group_by_default_and_a_figure(tmp_path: Path) -> None:
    directory = write_arms(tmp_path / "fork", ["Alice"] * 5, ["Bob"] * 5)
    assert "causal" in default_groups(analysis.load(directory))
    out = tmp_path / "out"
    assert analyze(directory, "--out", out) == 0
    assert (out / "causal_influence.png").read_bytes().startswith(b"\x89PNG")
    assert (out / "causal_q1.csv").is_file()
    example_game("g1").write(tmp_path / "run")
    assert "causal" not in default_groups(analysis.load(tmp_path / "run"))


def test_a_directory_without_forks_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = tmp_path / "run"
    example_game("g1").write(run)
    assert analyze(run, "--group", "causal") == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if "no fork episodes" in line]
    assert lines == [
        f"causal: no fork episodes in {run} (traitors fork and traitors influence write them)"
    ]
    assert "Traceback" not in out
    assert analyze(run, "--group", "causal", "--format", "json") == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {}
    assert "no fork episodes" in captured.err
