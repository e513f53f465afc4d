"""The Traitors paper's ten metrics, as its reference code computes them, quirks included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_analysis_support import LogBuilder, example_game

import analysis
from scenarios import the_traitors_analysis as paper


def metrics(tmp_path: Path, game: LogBuilder) -> dict[str, Any]:
    game.write(tmp_path)
    result = paper.per_episode(analysis.load(tmp_path)).row(0, named=True)
    return {k: v for k, v in result.items() if k != "episode_id"}


def test_vote_table_keeps_deciding_ballots_of_eliminations(tmp_path: Path) -> None:
    example_game().write(tmp_path)
    table = paper.vote_table(analysis.load(tmp_path))
    rows = [
        (r["round"], r["vote_type"], r["player"], r["target"], r["eliminated"])
        for r in table.iter_rows(named=True)
    ]
    assert rows == [
        # round 1, the banishment of C
        (1, "General", "A", "C", "C"),
        (1, "General", "B", "C", "C"),
        (1, "General", "C", "A", "C"),
        (1, "General", "D", "C", "C"),
        (1, "General", "E", "A", "C"),
        (1, "General", "F", "C", "C"),
        # round 1's night: only the re-vote that decided D (logged at round 2's breakfast)
        (1, "Traitor", "A", "D", "D"),
        (1, "Traitor", "B", "D", "D"),
        # round 2: the re-vote that banished A, then B's murder of E
        (2, "General", "A", "E", "A"),
        (2, "General", "B", "E", "A"),
        (2, "General", "E", "A", "A"),
        (2, "General", "F", "A", "A"),
        (2, "Traitor", "B", "E", "E"),
    ]
    assert set(table.filter(table["player"] == "A")["role"]) == {"traitor"}


def test_ten_metrics_on_the_example(tmp_path: Path) -> None:
    result = metrics(tmp_path, example_game())
    # T = {A, B}, F = {C, D, E, F}.
    # TAS: round 1 D, D -> 2/2; round 2 E -> 1/1.
    assert result["TAS"] == 1.0
    # FAS: round 1 faithful votes A, C, A, C -> 2/4; round 2 A, A -> 2/2.
    assert result["FAS"] == 0.75
    # FCR: round 1 two of four name a traitor; round 2 two of two.
    assert result["FCR"] == 0.75
    # TSR: A eliminated of {A, B}; FSR: C, D, E eliminated of four faithful.
    assert (result["TSR"], result["FSR"]) == (0.5, 0.25)
    # DES: both nights unanimous on a faithful victim.
    assert result["DES"] == 1.0
    # BRR: round 1 A and C tie with 2 faithful votes each; A was voted first, so A is the
    # modal target and both votes for a traitor (A, A) are modal: 0. Round 2 likewise 0.
    assert result["BRR"] == 0.0
    # VSF: round 1 has 8 rows, all switches (6 first votes; A and B's night votes D differ
    # from their day votes C). Round 2 has 5 rows: A E (was D), B E (was D), E A (was A),
    # F A (was C), B's night E (was E): 3 of 5. Mean (1 + 0.6) / 2.
    assert result["VSF"] == pytest.approx(0.8)
    assert result["FCR_valid"] == 0.75


def test_known_defects_hold(tmp_path: Path) -> None:
    result = metrics(tmp_path, example_game())
    assert result["IDR"] == result["FCR"]
    assert result["TNS"] == pytest.approx(1 - result["VSF"])


SEVEN = {
    "A": "traitor",
    "B": "traitor",
    "C": "faithful",
    "D": "faithful",
    "E": "faithful",
    "F": "faithful",
    "G": "faithful",
}


def test_abstentions_count_as_wrong_and_as_switches(tmp_path: Path) -> None:
    game = LogBuilder("abstain", SEVEN).start_round()
    ballots = {"A": "C", "B": "C", "C": None, "D": "A", "E": "C", "F": None, "G": "C"}
    game.vote("banish", ballots, "C").banish("C")
    game.vote("murder", {"A": None, "B": "D"}, "D")
    game.start_round(murdered="D")
    game.vote("banish", {"A": "E", "B": "E", "E": None, "F": None, "G": "E"}, "E").banish("E")
    result = metrics(tmp_path, game.end("traitors", rounds=2))
    # Round 1 faithful ballots: None, A, C, None, C -> FAS 2/5, FCR 1/5.
    # Round 2 faithful ballots: None, None, E -> FAS 1/3, FCR 0.
    assert result["FAS"] == pytest.approx((2 / 5 + 1 / 3) / 2)
    assert result["FCR"] == pytest.approx((1 / 5 + 0) / 2)
    # FCR_valid leaves the abstentions out: round 1 1/3 (A of A, C, C), round 2 0/1.
    assert result["FCR_valid"] == pytest.approx((1 / 3 + 0) / 2)
    # TAS: the night's ballots None, D -> modal D counts 1 of 2.
    assert result["TAS"] == 0.5
    # DES: A's abstention is not a vote for D.
    assert result["DES"] == 0.0
    # VSF round 2: E (None after None: a switch), F (None after None: a switch), G (E after
    # C), A (E after None), B (E after D): all five switch.
    assert result["VSF"] == 1.0
    assert result["TNS"] == 0.0


def test_brr_counts_traitor_votes_off_the_modal_target(tmp_path: Path) -> None:
    game = LogBuilder("brr", SEVEN).start_round()
    ballots = {"A": "C", "B": "C", "C": "B", "D": "C", "E": "A", "F": "C", "G": "B"}
    game.vote("banish", ballots, "C").banish("C")
    result = metrics(tmp_path, game.end(None, rounds=1))
    # Faithful ballots in log order B (C's), C, A, C, B: B and C tie with 2; B was voted first,
    # so B is modal. Votes for a traitor: B, A, B; only A is off the modal target: 1/3.
    assert result["BRR"] == pytest.approx(1 / 3)
    assert result["FCR"] == pytest.approx(3 / 5)
    # No night with an elimination: TAS and DES have no rounds.
    assert result["TAS"] is None and result["DES"] is None


def test_brr_is_zero_when_the_faithful_agree_on_a_traitor(tmp_path: Path) -> None:
    game = LogBuilder("agree", SEVEN).start_round()
    ballots = {"A": "C", "B": "C", "C": "A", "D": "A", "E": "A", "F": "A", "G": "A"}
    game.vote("banish", ballots, "A").banish("A")
    result = metrics(tmp_path, game.end(None, rounds=1))
    assert (result["FCR"], result["BRR"]) == (1.0, 0.0)


def test_phases_without_elimination_leave_no_rows(tmp_path: Path) -> None:
    game = LogBuilder("tie", SEVEN).start_round()
    game.vote(
        "banish",
        {"A": "C", "B": "C", "C": "A", "D": "A", "E": "D", "F": "D", "G": "E"},
        None,
        tied=("A", "C", "D"),
    )
    game.end(None, rounds=1).write(tmp_path)
    data = analysis.load(tmp_path)
    assert paper.vote_table(data).height == 0
    result = paper.per_episode(data).row(0, named=True)
    # An episode without rows has no value at all (not the reference's 0 for an empty T).
    assert all(result[m] is None for m in paper.METRICS)
