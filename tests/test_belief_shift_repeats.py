"""``belief_shift`` counts an accusation repeated within a round once per (accuser, target,
round), as analysis/METRICS.md states."""

from __future__ import annotations

import pytest
from test_analysis_support import BELIEFS_1, BELIEFS_2, ROLES, LogBuilder, accuse

import analysis
from analysis import deception


def test_a_repeated_accusation_counts_once(tmp_path) -> None:
    game = LogBuilder("repeats", ROLES).start_round()
    game.say("A", accuse("C")).beliefs(BELIEFS_1)
    game.start_round(murdered="D")
    game.say("A", accuse("E")).say("A", accuse("E")).say("A", accuse("F"))
    game.beliefs(BELIEFS_2).end("traitors", rounds=2).write(tmp_path)
    (result,) = deception.per_episode(analysis.load(tmp_path)).iter_rows(named=True)
    # Round 2: A accuses E (twice) and F. Listener F's P(E): 0.2 -> 0.3; listener E's P(F):
    # 0.3 -> 0.1. Once per (accuser, target, round): (0.1 - 0.2) / 2; counted per speech it
    # would be (0.1 + 0.1 - 0.2) / 3 = 0.
    assert result["belief_shift"] == pytest.approx(-0.05)
