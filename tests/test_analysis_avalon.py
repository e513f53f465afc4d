"""Avalon's metric group on hand-built logs (values worked out by hand below), on scripted
runs (checked against a plain-Python reading of the JSON logs), and end to end.

Four five-player games, seats A merlin, B percival, C loyal servant (good), D assassin, E
morgana (evil):

    game  quest 1            quest 2              quest 3        quest 4   end
    v1    1 rejected, pass   fail (1 card)        pass           pass      assassin names B: good
    v2    pass               5 rejected in a row  -              -         evil (rejections)
    v3    fail (1)           fail (2)             fail (1)       -         evil (three fails)
    v4    pass               pass                 pass           -         assassin names A: evil

Quest 1: 4 played, 3 succeeded; quest 2: reached by 4, played by 3 (v2 deadlocked), 1 succeeded,
fails 1, 2, 0 (mean 1), rejections 0, 5, 0, 0 (mean 1.25); quest 3: 2 of 3; quest 4: 1 of 1.
Games: 2 assassinations, 1 hit (v4); good won v1 only (1/4); three quests succeeded in v1, v4
(2/4), so the assassination took 1/4 of the games from good.

P(Merlin) reports of the evil players D and E (good seats A, B, C are the candidates):

    game round  D: A  B   C      E: A  B   C      averaged A  B    C     Merlin's rank
    v1   1         .5 .3  .2        .2 .6  .2              .35 .45  .2   2
    v1   2         .6 .2  .2        .4 .4  .2              .5  .3   .2   1 (first: round 2)
    v1   3         .3 .4  .3        .3 .4  .3              .3  .4   .3   2.5 (tie with C)
    v1   4         .7 .2  .1        .5 .3  .2              .6  .25  .15  1 (the last probe)
    v2   1         .2 .5  .3        .2 .5  .3              .2  .5   .3   3 (never first)
    v4   3         .9 .05 .05       .8 .1  .1              .85 .075 .075 1 (first: round 3)

D's first report of v1 round 1 (A .9) is replaced by its second. Deduction means: first round
Merlin is top (2 + 3) / 2 = 2.5, reached 2 of 3 games with probes, last rank (1 + 3 + 1) / 3,
top at the last probe 2 of 3.

P(evil) reports of the good players in v1 (the other games have none):

    round  observer  A   B   C   D   E
    1      A (merlin)    0   0   1   1
    1      B         .2      .6  .5  .4     (after an earlier report of round 1, ignored)
    1      C         .3  .1      .7  .2
    2      A (merlin)    0   0   1   1
    2      B         .1      .2  .9  .8
    2      C         .2  .1      .8  .7

Round 1, every good observer: A .25, B .05, C .3, D 2.2/3, E 1.6/3: separated (AUC 1).
Without Merlin: A .25, B .1, C .6, D .6, E .3: ascending ranks B 1, A 2, E 3, C and D 4.5;
AUC = (3 + 4.5 - 3) / 6 = .75, not separated. Round 2 without Merlin: A .15, B .1, C .2,
D .85, E .75: separated. So v1 separates in round 1, in round 2 without Merlin.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from test_analysis_support import LogBuilder, example_game, write_sweep

import analysis
from analysis import suite
from analysis.loader import RunData
from scenarios.avalon import Avalon
from scenarios.avalon import analysis as avalon
from scenarios.avalon.kinds import (
    AssassinationEvent,
    MerlinBeliefEvent,
    QuestResultEvent,
    TeamVoteResultEvent,
)
from traitors.cli import main
from traitors.game.events import Private

Z = 1.959963984540054
ROLES = {"A": "merlin", "B": "percival", "C": "loyal_servant", "D": "assassin", "E": "morgana"}
TEAM = ("A", "B")
GENERIC = ["outcome", "deception", "honesty", "trust", "inference", "ratings"]


def wilson(k: int, n: int) -> tuple[float, float]:
    """The Wilson score interval, written out from its formula."""
    p = k / n
    centre = p + Z * Z / (2 * n)
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return (centre - half) / (1 + Z * Z / n), (centre + half) / (1 + Z * Z / n)


class AvalonLog(LogBuilder):
    """A LogBuilder that logs Avalon's own events the way the scenario does."""

    def __init__(self, episode_id: str, roles: dict[str, str] = ROLES, **kwargs: Any) -> None:
        super().__init__(episode_id, roles, scenario="avalon", words=Avalon.words, **kwargs)
        self.rejected = 0

    def quest(self, fails: int | None, rejections: int = 0, needed: int = 1) -> AvalonLog:
        """Next round: ``rejections`` rejected teams, then (``fails`` not None) an approved
        team that plays ``fails`` fail cards."""
        self.round += 1
        self.phase("proposal")
        for attempt in range(1, rejections + 2):
            approved = attempt > rejections and fails is not None
            if attempt > rejections and fails is None:
                break
            self.rejected = 0 if approved else self.rejected + 1
            self._add(
                TeamVoteResultEvent(
                    round=self.round,
                    phase="team_vote",
                    team=TEAM,
                    attempt=attempt,
                    approvals=3 if approved else 2,
                    rejections=2 if approved else 3,
                    approved=approved,
                    rejected_in_a_row=self.rejected,
                )
            )
        if fails is not None:
            self._add(
                QuestResultEvent(
                    round=self.round,
                    phase="quest",
                    team=TEAM,
                    fails=fails,
                    fails_needed=needed,
                    succeeded=fails < needed,
                )
            )
        return self

    def merlin(self, reports: dict[str, dict[str, float]]) -> AvalonLog:
        self.phase("merlin_probe")
        for actor, probs in sorted(reports.items()):
            self._add(
                MerlinBeliefEvent(
                    round=self.round,
                    phase="merlin_probe",
                    actor=actor,
                    visibility=Private(agent=actor),
                    probs=probs,
                )
            )
        return self

    def assassinate(self, target: str) -> AvalonLog:
        hit = self.roles[target] == "merlin"
        self._add(
            AssassinationEvent(
                round=self.round, phase="assassination", actor="D", target=target, hit=hit
            )
        )
        return self


def merlin_probe(d: tuple[float, ...], e: tuple[float, ...]) -> dict[str, dict[str, float]]:
    return {"D": dict(zip("ABC", d, strict=True)), "E": dict(zip("ABC", e, strict=True))}


MERLIN_SEES = {"B": 0.0, "C": 0.0, "D": 1.0, "E": 1.0}


def game_v1() -> LogBuilder:
    game = AvalonLog("v1", started_at=1.0)
    game.quest(0, rejections=1)
    game.beliefs({"B": {"A": 0.9, "C": 0.9, "D": 0.1, "E": 0.1}})  # replaced below
    game.beliefs(
        {
            "A": MERLIN_SEES,
            "B": {"A": 0.2, "C": 0.6, "D": 0.5, "E": 0.4},
            "C": {"A": 0.3, "B": 0.1, "D": 0.7, "E": 0.2},
        }
    )
    game.merlin({"D": {"A": 0.9, "B": 0.05, "C": 0.05}})  # replaced by D's next report
    game.merlin(merlin_probe((0.5, 0.3, 0.2), (0.2, 0.6, 0.2)))
    game.quest(1)
    game.beliefs(
        {
            "A": MERLIN_SEES,
            "B": {"A": 0.1, "C": 0.2, "D": 0.9, "E": 0.8},
            "C": {"A": 0.2, "B": 0.1, "D": 0.8, "E": 0.7},
        }
    )
    game.merlin(merlin_probe((0.6, 0.2, 0.2), (0.4, 0.4, 0.2)))
    game.quest(0).merlin(merlin_probe((0.3, 0.4, 0.3), (0.3, 0.4, 0.3)))
    game.quest(0).merlin(merlin_probe((0.7, 0.2, 0.1), (0.5, 0.3, 0.2)))
    return game.assassinate("B").end("good", rounds=4)


def game_v2() -> LogBuilder:
    game = AvalonLog("v2", started_at=2.0)
    game.quest(0).merlin(merlin_probe((0.2, 0.5, 0.3), (0.2, 0.5, 0.3)))
    return game.quest(None, rejections=5).end("evil", rounds=2)


def game_v3() -> LogBuilder:
    return AvalonLog("v3", started_at=3.0).quest(1).quest(2).quest(1).end("evil", rounds=3)


def game_v4() -> LogBuilder:
    game = AvalonLog("v4", started_at=4.0).quest(0).quest(0).quest(0)
    game.merlin(merlin_probe((0.9, 0.05, 0.05), (0.8, 0.1, 0.1)))
    return game.assassinate("A").end("evil", rounds=3)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("avalon") / "run"
    for game in (game_v1(), game_v2(), game_v3(), game_v4()):
        game.write(directory)
    write_sweep(directory, {"v1": {"x": 1}, "v2": {"x": 1}, "v3": {"x": 2}, "v4": {"x": 2}})
    return directory


@pytest.fixture(scope="module")
def data(run: Path) -> RunData:
    return analysis.load(run)


def rows(frame: pl.DataFrame, key: str) -> dict[Any, dict[str, Any]]:
    return {row[key]: row for row in frame.to_dicts()}


def test_quests_by_number(data: RunData) -> None:
    quests = rows(avalon.quest_table(data, []), "quest")
    assert sorted(quests) == [1, 2, 3, 4]
    expected = {1: (4, 4, 3), 2: (4, 3, 1), 3: (3, 3, 2), 4: (1, 1, 1)}
    for quest, (episodes, played, succeeded) in expected.items():
        row = quests[quest]
        assert (row["episodes"], row["played"], row["succeeded"]) == (episodes, played, succeeded)
        assert row["success_rate"] == pytest.approx(succeeded / played)
        low, high = wilson(succeeded, played)
        assert (row["success_low"], row["success_high"]) == pytest.approx((low, high))
    assert quests[2]["mean_fails"] == pytest.approx(1.0)
    assert quests[3]["mean_fails"] == pytest.approx(1 / 3)
    assert quests[1]["mean_rejections"] == pytest.approx(0.25)
    assert quests[2]["mean_rejections"] == pytest.approx(1.25)
    assert [quests[q]["five_rejections"] for q in (1, 2, 3, 4)] == [0, 1, 0, 0]
    assert quests[2]["five_rejection_rate"] == pytest.approx(0.25)


def test_games_and_the_assassination(data: RunData) -> None:
    (row,) = avalon.game_table(data, []).to_dicts()
    counts = ("episodes", "draws", "three_failed", "five_rejections", "assassinations")
    assert [row[c] for c in counts] == [4, 0, 1, 1, 2]
    assert (row["assassin_hits"], row["good_wins"]) == (1, 1)
    assert row["assassination_rate"] == pytest.approx(0.5)
    assert row["assassin_hit_rate"] == pytest.approx(0.5)
    assert (row["assassin_hit_low"], row["assassin_hit_high"]) == pytest.approx(wilson(1, 2))
    assert row["five_rejection_rate"] == pytest.approx(0.25)
    assert row["good_win_rate"] == pytest.approx(0.25)
    assert (row["good_win_low"], row["good_win_high"]) == pytest.approx(wilson(1, 4))
    assert row["good_win_rate_without_assassination"] == pytest.approx(0.5)
    assert row["assassination_toll"] == pytest.approx(0.25)


def test_per_episode(data: RunData) -> None:
    frame = rows(avalon.per_episode(data), "episode_id")
    assert list(frame) == ["v1", "v2", "v3", "v4"]
    assert [frame[e]["quests_played"] for e in frame] == [4, 1, 3, 3]
    assert [frame[e]["rejections"] for e in frame] == [1, 5, 0, 0]
    assert [frame[e]["assassin_hit"] for e in frame] == [False, None, None, True]
    assert [frame[e]["good_won"] for e in frame] == [True, False, False, False]
    assert [frame[e]["merlin_top_round"] for e in frame] == [2, None, None, 3]
    assert [frame[e]["merlin_rank_last"] for e in frame] == [1.0, 3.0, None, 1.0]
    assert [frame[e]["separated_round"] for e in frame] == [1, None, None, None]
    assert frame["v1"]["separated_round_without_merlin"] == 2


def test_merlin_ranking_by_round(data: RunData) -> None:
    ranks = avalon.merlin_ranks(data)
    by_game = {(r["episode_id"], r["round"]): r for r in ranks.to_dicts()}
    assert by_game[("v1", 1)]["merlin_p"] == pytest.approx(0.35)  # D's second report counts
    assert [by_game[("v1", r)]["merlin_rank"] for r in (1, 2, 3, 4)] == [2.0, 1.0, 2.5, 1.0]
    assert [by_game[("v1", r)]["merlin_top"] for r in (1, 2, 3, 4)] == [False, True, False, True]
    assert by_game[("v2", 1)]["merlin_rank"] == 3.0
    assert set(ranks["candidates"]) == {3}

    table = rows(avalon.merlin_table(data, []), "round")
    assert [table[r]["episodes"] for r in (1, 2, 3, 4)] == [2, 1, 2, 1]
    assert table[1]["merlin_rank"] == pytest.approx(2.5)
    assert table[1]["merlin_p"] == pytest.approx((0.35 + 0.2) / 2)
    assert table[1]["merlin_top_rate"] == 0.0
    assert table[3]["merlin_rank"] == pytest.approx(1.75)
    assert table[3]["merlin_top_rate"] == pytest.approx(0.5)
    assert (table[3]["merlin_top_low"], table[3]["merlin_top_high"]) == pytest.approx(wilson(1, 2))
    assert table[3]["mean_candidates"] == 3.0


def test_evil_seat_ranking_by_round(data: RunData) -> None:
    table = rows(avalon.evil_seat_table(data, []), "round")
    assert sorted(table) == [1, 2]
    first = table[1]
    assert first["episodes"] == 1
    assert first["evil_p"] == pytest.approx((2.2 / 3 + 1.6 / 3) / 2)
    assert first["good_p"] == pytest.approx((0.25 + 0.05 + 0.3) / 3)
    assert (first["auc"], first["separated_rate"]) == (1.0, 1.0)
    assert first["auc_without_merlin"] == pytest.approx(0.75)
    assert first["separated_without_merlin_rate"] == 0.0
    assert table[2]["separated_without_merlin_rate"] == 1.0


def test_deduction_means(data: RunData) -> None:
    (row,) = avalon.summaries(data, [])[-1].frame.to_dicts()
    assert row["episodes"] == 4
    assert row["merlin_top_round"] == pytest.approx(2.5)
    assert row["merlin_top_reached"] == pytest.approx(2 / 3)
    assert row["merlin_rank_last"] == pytest.approx(5 / 3)
    assert row["merlin_top_last"] == pytest.approx(2 / 3)
    assert (row["separated_round"], row["separated_reached"]) == (1.0, 1.0)
    assert row["separated_round_without_merlin"] == 2.0


def test_tables_split_by_a_factor(data: RunData) -> None:
    tables = {t.name: t for t in avalon.summaries(data, ["x"])}
    assert tables["avalon_quests"].keys == ("x", "quest")
    assert tables["avalon_merlin"].keys == ("x", "round")
    games = rows(tables["avalon_games"].frame, "x")
    assert (games[1]["episodes"], games[1]["good_wins"], games[1]["five_rejections"]) == (2, 1, 1)
    assert (games[2]["assassinations"], games[2]["assassin_hit_rate"]) == (1, 1.0)
    assert games[1]["assassin_hit_rate"] == 0.0
    quest_2 = tables["avalon_quests"].frame.filter(pl.col("quest") == 2)
    assert quest_2.select("x", "played", "succeeded").rows() == [(1, 1, 0), (2, 2, 1)]
    deduction = rows(tables["avalon_deduction"].frame, "x")
    assert deduction[1]["merlin_top_round"] == 2.0
    assert deduction[2]["merlin_top_round"] == 3.0
    assert deduction[2]["separated_reached"] is None  # no P(evil) report in v3 or v4
    # one row per episode
    per_game = {t.name: t for t in avalon.summaries(data, ["episode_id"])}
    assert per_game["avalon_games"].frame.height == 4


def test_oberon_and_mordred(tmp_path: Path) -> None:
    """Seven seats: evil D assassin, E mordred, F oberon. Only good seats are candidates for
    Merlin (Oberon's P(Merlin) of his allies and the others' of Oberon are left out); Mordred
    and Oberon count as evil seats in the good side's ranking."""
    roles = {**ROLES, "E": "mordred", "F": "oberon", "G": "loyal_servant"}
    game = AvalonLog("o1", roles).quest(0)
    game.beliefs(
        {
            "A": {"B": 0.0, "C": 0.0, "D": 1.0, "E": 0.2, "F": 1.0, "G": 0.0},  # no Mordred
            "B": {"A": 0.1, "C": 0.3, "D": 0.6, "E": 0.5, "F": 0.4, "G": 0.2},
        }
    )
    game.merlin(
        {
            "D": {"A": 0.4, "B": 0.2, "C": 0.1, "F": 0.2, "G": 0.1},
            "E": {"A": 0.4, "B": 0.2, "C": 0.1, "F": 0.2, "G": 0.1},
            "F": {"A": 0.1, "B": 0.1, "C": 0.1, "D": 0.6, "E": 0.0, "G": 0.1},
        }
    )
    game.end(None, rounds=1, truncated=True).write(tmp_path)
    data = analysis.load(tmp_path)
    (merlin,) = avalon.merlin_ranks(data).to_dicts()
    assert merlin["candidates"] == 4  # A, B, C, G
    assert merlin["merlin_p"] == pytest.approx(0.3)
    assert (merlin["merlin_rank"], merlin["merlin_top"]) == (1.0, True)  # D 0.6 is no candidate
    (seats,) = avalon.evil_seat_ranks(data).to_dicts()
    # averaged: A .1, B 0, C .15, G .1; D .8, E .35, F .7 -> separated
    assert seats["separated"] is True
    assert seats["evil_p"] == pytest.approx((0.8 + 0.35 + 0.7) / 3)
    # B alone: E .5 and F .4 below D .6 but above C .3: every evil seat above every good one
    assert seats["separated_without_merlin"] is True


def test_no_probes_and_other_games_give_empty_tables(tmp_path: Path) -> None:
    AvalonLog("quiet").quest(0).quest(0).quest(0).assassinate("B").end("good", 3).write(
        tmp_path / "quiet"
    )
    quiet = {t.name: t.frame for t in suite.compute(analysis.load(tmp_path / "quiet"), [], [])}
    assert quiet["avalon_merlin"].height == 0
    assert quiet["avalon_evil_seats"].height == 0
    (row,) = quiet["avalon_deduction"].to_dicts()
    assert row["episodes"] == 1 and row["merlin_top_round"] is None
    assert row["separated_reached"] is None
    assert quiet["avalon_games"]["good_win_rate"].to_list() == [1.0]
    assert "inference" not in quiet  # no belief report: the group is left out

    example_game("g1").write(tmp_path / "traitors")
    traitors = analysis.load(tmp_path / "traitors")
    for by in ([], ["rules.n_players"]):
        assert [t.frame.height for t in avalon.summaries(traitors, by)] == [0] * 5
    out = tmp_path / "out"
    argv = ["analyze", str(tmp_path / "traitors"), "--metrics", "avalon", "--out", str(out)]
    assert main(argv) == 0
    assert (out / "avalon_quests.csv").is_file() and not (out / "avalon_quests.png").exists()


def test_default_groups(data: RunData, tmp_path: Path) -> None:
    assert suite.default_groups(data) == [*GENERIC[:5], "avalon", "ratings"]
    example_game("g1").write(tmp_path)
    assert "avalon" not in suite.default_groups(analysis.load(tmp_path))


# --- scripted runs, checked against the JSON -------------------------------------------------


def read_logs(run: Path) -> dict[str, tuple[dict[str, Any], list[dict[str, Any]]]]:
    """episode_id -> (manifest, events) of every episode under ``run``."""
    logs = {}
    for manifest_path in sorted(run.glob("**/manifest.json")):
        manifest = json.loads(manifest_path.read_text())
        lines = (manifest_path.parent / "events.jsonl").read_text().splitlines()
        logs[manifest["episode_id"]] = (manifest, [json.loads(line) for line in lines])
    return logs


def average_ranks(values: dict[str, float], descending: bool) -> dict[str, float]:
    """Average ranks (1-based, ties share the mean of their places)."""
    sign = -1 if descending else 1
    ordered = sorted(values.values(), key=lambda v: sign * v)
    return {
        k: sum(i + 1 for i, o in enumerate(ordered) if o == v) / ordered.count(v)
        for k, v in values.items()
    }


def direct(run: Path) -> dict[str, Any]:
    """The avalon tables' numbers computed with plain Python from the logs."""
    quest: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    merlin: dict[int, list[tuple[float, bool]]] = defaultdict(list)
    separated: dict[int, list[bool]] = defaultdict(list)
    games: dict[str, int] = defaultdict(int)
    for manifest, events in read_logs(run).values():
        roles = manifest["roles"]
        evil = {p for p, r in roles.items() if manifest["words"]["roles"][r] == "evil"}
        games["episodes"] += 1
        games["good_wins"] += manifest["outcome"]["winner"] == "good"
        reached = {e["round"] for e in events if e["kind"] in ("team_result", "quest_result")}
        for q in reached:
            quest[q]["episodes"] += 1
        for e in events:
            if e["kind"] == "quest_result":
                quest[e["round"]]["played"] += 1
                quest[e["round"]]["succeeded"] += e["succeeded"]
                quest[e["round"]]["fails"] += e["fails"]
            elif e["kind"] == "team_result" and not e["approved"]:
                quest[e["round"]]["rejections"] += 1
            elif e["kind"] == "assassination":
                games["assassinations"] += 1
                games["hits"] += e["hit"]
        last: dict[tuple[str, int, str], dict[str, float]] = {}
        for e in events:
            if e["kind"] in ("merlin_belief", "belief"):
                last[(e["kind"], e["round"], e["actor"])] = e["probs"]
        for r in sorted({r for kind, r, _ in last if kind == "merlin_belief"}):
            pooled = defaultdict(list)
            for (kind, rr, actor), probs in last.items():
                if kind == "merlin_belief" and rr == r and actor in evil:
                    for target, p in probs.items():
                        if target not in evil:
                            pooled[target].append(p)
            q = {t: sum(ps) / len(ps) for t, ps in pooled.items()}
            ranks = average_ranks(q, descending=True)
            (merlin_seat,) = [p for p, role in roles.items() if role == "merlin"]
            merlin[r].append((ranks[merlin_seat], ranks[merlin_seat] == 1))
        for r in sorted({r for kind, r, _ in last if kind == "belief"}):
            pooled = defaultdict(list)
            for (kind, rr, actor), probs in last.items():
                if kind == "belief" and rr == r and actor not in evil:
                    for target, p in probs.items():
                        pooled[target].append(p)
            q = {t: sum(ps) / len(ps) for t, ps in pooled.items()}
            top_good = max(v for t, v in q.items() if t not in evil)
            separated[r].append(min(v for t, v in q.items() if t in evil) > top_good)
    return {"quest": quest, "merlin": merlin, "separated": separated, "games": games}


@pytest.fixture(scope="module")
def scripted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scripted")
    spec = Path(__file__).resolve().parent.parent / "scenarios" / "avalon.yaml"
    for n_players, episodes in (("7", "6"), ("10", "4")):
        argv = ["run", str(spec), "--agents", "scripted", "--episodes", episodes]
        argv += ["--out", str(out / f"n{n_players}"), "--set", f"rules.n_players={n_players}"]
        if n_players == "10":
            argv += ["--set", "rules.mordred=true", "--set", "rules.oberon=true"]
        assert main(argv) == 0
    return out


@pytest.mark.slow
def test_scripted_runs_match_the_logs(scripted: Path) -> None:
    data = analysis.load(scripted)
    expected = direct(scripted)
    quests = rows(avalon.quest_table(data, []), "quest")
    assert sorted(quests) == sorted(expected["quest"])
    for q, counts in expected["quest"].items():
        row = quests[q]
        assert (row["episodes"], row["played"], row["succeeded"]) == (
            counts["episodes"],
            counts["played"],
            counts["succeeded"],
        )
        assert row["mean_fails"] == pytest.approx(counts["fails"] / counts["played"])
        assert row["mean_rejections"] == pytest.approx(counts["rejections"] / counts["episodes"])
    (games,) = avalon.game_table(data, []).to_dicts()
    totals = expected["games"]
    assert games["episodes"] == totals["episodes"] == 10
    assert (games["assassinations"], games["assassin_hits"]) == (
        totals["assassinations"],
        totals["hits"],
    )
    assert games["good_wins"] == totals["good_wins"]
    merlin = rows(avalon.merlin_table(data, []), "round")
    assert sorted(merlin) == sorted(expected["merlin"])
    for r, found in expected["merlin"].items():
        assert merlin[r]["episodes"] == len(found)
        assert merlin[r]["merlin_rank"] == pytest.approx(sum(k for k, _ in found) / len(found))
        assert merlin[r]["merlin_top_games"] == sum(top for _, top in found)
    seats = rows(avalon.evil_seat_table(data, []), "round")
    for r, found in expected["separated"].items():
        assert (seats[r]["episodes"], seats[r]["separated_games"]) == (len(found), sum(found))


@pytest.mark.slow
def test_analyze_end_to_end(
    scripted: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # rich wraps titles and cells to the console's width
    out = scripted / "report"
    assert main(["analyze", str(scripted / "n7"), "--out", str(out)]) == 0
    printed = " ".join(capsys.readouterr().out.split())  # rich wraps a title to its table
    assert "6 complete episode(s)" in printed
    for text in (
        "good_win_rate",
        "evil_win_rate",
        "Collective inference of the good about the evil",
        "Honesty by role",
        "Avalon quests by number",
        "Avalon endings",
        "assassin_hit_rate",
        "How the evil side's averaged P(Merlin) ranks the true Merlin",
        "How the good side's averaged P(evil) ranks the evil seats",
        "Avalon deduction",
    ):
        assert text in printed
    assert (out / "avalon_quests.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert (out / "avalon_games.csv").is_file()

    assert main(["analyze", str(scripted), "--metrics", "avalon", "--by", "rules.n_players"]) == 0
    printed = capsys.readouterr().out
    assert "rules.n_players" in printed and "Outcome" not in printed
