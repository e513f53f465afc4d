"""Deception, detection and overall ratings: Bradley-Terry and OpenSkill, with bootstraps."""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from openskill.models import PlackettLuce, PlackettLuceRating
from test_analysis_support import WOLF_ROLES, LogBuilder

import analysis
from analysis import ratings, skill_bt
from analysis.loader import RunData
from analysis.skill_games import TeamGame, TeamsOf, overall_teams, side_teams, team_games
from analysis.skill_leaderboard import group_rows, leaderboard
from analysis.skill_openskill import openskill_bootstrap, openskill_ratings
from traitors.episode.spec import load_spec
from traitors.sweep.episodes import run_episodes

ROOT = Path(__file__).resolve().parent.parent
DECEPTION = {"strong": 1.5, "middling": 0.0, "weak": -1.5}
DETECTION = {"strong": 1.5, "middling": 0.0, "weak": -1.5}
"""Planted skills (logits): the hidden team wins with sigmoid(mean deception - mean detection
+ ADVANTAGE)."""
ADVANTAGE = 0.3


def planted_games(n: int, seed: int = 1) -> list[TeamGame]:
    """Two hidden seats against four, each seat a model drawn at random."""
    rng = random.Random(seed)
    models = sorted(DECEPTION)
    games = []
    for _ in range(n):
        hidden = sorted(rng.choice(models) for _ in range(2))
        uncovering = sorted(rng.choice(models) for _ in range(4))
        logit = ADVANTAGE + np.mean([DECEPTION[m] for m in hidden])
        logit -= np.mean([DETECTION[m] for m in uncovering])
        score = float(rng.random() < 1 / (1 + math.exp(-logit)))
        games.append(TeamGame(tuple(hidden), tuple(uncovering), score))
    return games


def by_label(rows: list[dict[str, object]]) -> dict[object, dict[str, object]]:
    return {row["label"]: row for row in rows}


def descending(rows: dict[object, dict[str, object]], column: str) -> list[object]:
    return sorted(rows, key=lambda label: -float(str(rows[label][column])))


# --- (a) a planted skill gap ---------------------------------------------------------------


@pytest.mark.slow
def test_planted_gap_is_recovered_in_order_and_size() -> None:
    rows = by_label(group_rows(planted_games(800), resamples=20))
    order = ["strong", "middling", "weak"]
    for column in ("deception_bt", "detection_bt", "overall_bt", "deception_mu", "overall_mu"):
        assert descending(rows, column) == order, column
    # OpenSkill follows the recent games (order-dependent): only the wide gap is asserted.
    assert rows["strong"]["detection_mu"] > rows["weak"]["detection_mu"]  # type: ignore[operator]
    # Bradley-Terry is anchored at mean zero per side, as the planted skills are.
    for label in order:
        assert rows[label]["deception_bt"] == pytest.approx(DECEPTION[label], abs=0.45)
        assert rows[label]["detection_bt"] == pytest.approx(DETECTION[label], abs=0.45)
    strong, weak = rows["strong"], rows["weak"]
    assert float(str(strong["deception_bt_low"])) > float(str(weak["deception_bt_high"]))
    for row in rows.values():
        for kind in ("deception_bt", "detection_bt", "overall_bt", "deception_mu"):
            low, high = float(str(row[f"{kind}_low"])), float(str(row[f"{kind}_high"]))
            assert low <= float(str(row[kind])) <= high, kind
        assert row["deception_ordinal"] == pytest.approx(
            float(str(row["deception_mu"])) - 3 * float(str(row["deception_sigma"]))
        )


def test_side_advantage_and_draws_count_half_a_win() -> None:
    # 150 wins, 50 losses and 200 draws of one deceiver against one detective: the hidden
    # side's score is 0.625 on average, so the advantage is logit(0.625) (ridge aside).
    scores = [1.0] * 150 + [0.0] * 50 + [0.5] * 200
    games = [TeamGame(("a",), ("b", "b"), score) for score in scores]
    fit = skill_bt.fit(skill_bt.design(games, side_teams))
    assert fit.advantage == pytest.approx(math.log(0.625 / 0.375), abs=0.01)
    assert fit.ratings == {("a", "deception"): 0.0, ("b", "detection"): 0.0}


def test_anchoring_keeps_the_likelihood() -> None:
    games = planted_games(300)
    regression = skill_bt.design(games, side_teams)
    fit = skill_bt.fit(regression)
    for kind in ("deception", "detection"):
        assert sum(v for (_, k), v in fit.ratings.items() if k == kind) == pytest.approx(0)
    theta = np.array([fit.ratings[e] for e in regression.entities])
    anchored = 1 / (1 + np.exp(-(fit.advantage + regression.shares @ theta)))
    x = np.hstack([np.ones((len(games), 1)), regression.shares])
    distinct = skill_bt.distinct_games(regression)
    (beta,) = skill_bt._newton(distinct, distinct.counts(np.arange(len(games))[None]))
    unanchored = 1 / (1 + np.exp(-(x @ beta)))
    assert np.allclose(anchored, unanchored)
    # The fitted win probabilities average to the hidden side's mean score (ridge aside).
    assert float(np.mean(anchored)) == pytest.approx(float(np.mean(regression.scores)), abs=0.01)


def test_bootstrap_refits_match_cold_fits_of_each_resample() -> None:
    # The bootstrap sums over distinct games and starts each refit from the full fit: each
    # row must be the fit, from scratch, of the games its resample drew.
    games = [*planted_games(60), TeamGame(("extra",), ("weak",) * 4, 1.0)]
    regression = skill_bt.design(games, side_teams)
    drawn = np.random.default_rng(5).integers(0, len(games), size=(25, len(games)))
    samples = skill_bt.bootstrap(regression, drawn)
    for row, resample in enumerate(drawn):
        cold = skill_bt.fit(skill_bt.design([games[i] for i in resample], side_teams)).ratings
        expected = [cold.get(entity, np.nan) for entity in regression.entities]
        assert np.allclose(samples[row], expected, rtol=0, atol=1e-6, equal_nan=True)
    assert np.isnan(samples).any()  # some resample drew no game of "extra"


def test_fits_side_by_side_match_each_fit_alone_even_when_steps_are_halved() -> None:
    regression = skill_bt.design(planted_games(60), side_teams)
    distinct = skill_bt.distinct_games(regression)
    counts = distinct.counts(np.random.default_rng(5).integers(0, 60, size=(8, 60)))
    far = np.full(distinct.x.shape[1], 20.0)  # Newton overshoots from here: steps are halved
    together = skill_bt._newton(distinct, counts, far)
    alone = [skill_bt._newton(distinct, counts[i : i + 1], far)[0] for i in range(len(counts))]
    assert np.allclose(together, alone, rtol=0, atol=1e-12)
    assert np.allclose(together, skill_bt._newton(distinct, counts), rtol=0, atol=1e-6)


# --- (c) the OpenSkill fit is openskill's --------------------------------------------------


def test_openskill_fit_matches_the_library_called_directly() -> None:
    games = [
        TeamGame(("a", "b"), ("c", "d", "e"), 1.0),
        TeamGame(("c",), ("a", "b", "d"), 0.0),
        TeamGame(("d", "e"), ("a", "c"), 0.5),
        TeamGame(("b",), ("c", "e"), 1.0),
        TeamGame(("a", "a"), ("b", "c"), 0.0),  # one model on two seats of a team
    ]
    model = PlackettLuce()
    direct: dict[tuple[str, str], PlackettLuceRating] = {}
    for game in games:
        teams = [
            [(m, "deception") for m in game.hidden],
            [(m, "detection") for m in game.uncovering],
        ]
        ranks = {1.0: [1.0, 2.0], 0.0: [2.0, 1.0], 0.5: [1.0, 1.0]}[game.hidden_score]
        current = [[direct.setdefault(e, model.rating()) for e in team] for team in teams]
        rated = model.rate(current, ranks=ranks)
        for team, new in zip(teams, rated, strict=True):
            for entity, rating in zip(team, new, strict=True):
                direct[entity] = rating
    fitted = openskill_ratings(games, side_teams)
    assert set(fitted) == set(direct)
    for entity, fit in fitted.items():
        assert fit.mu == pytest.approx(direct[entity].mu, rel=1e-12)
        assert fit.sigma == pytest.approx(direct[entity].sigma, rel=1e-12)
    assert fitted[("a", "deception")].mu < 25 < fitted[("b", "deception")].mu


def test_overall_openskill_skips_a_model_playing_itself() -> None:
    games = [TeamGame(("a",), ("a", "b"), 1.0), TeamGame(("a",), ("b", "b"), 1.0)]
    model = PlackettLuce()
    a, b = model.rating(), model.rating()
    _, (_, b) = model.rate([[a], [a, b]], ranks=[1, 2])  # a's update is dropped
    (a,), (b, _) = model.rate([[a], [b, b]], ranks=[1, 2])
    fitted = openskill_ratings(games, overall_teams)
    assert fitted[("a", "overall")].mu == pytest.approx(a.mu, rel=1e-12)
    assert fitted[("b", "overall")].mu == pytest.approx(b.mu, rel=1e-12)
    assert fitted[("a", "overall")].mu > 25 > fitted[("b", "overall")].mu


@pytest.mark.parametrize("teams_of", [side_teams, overall_teams])
def test_openskill_bootstrap_replays_each_resample_as_the_library_does(teams_of: TeamsOf) -> None:
    games = [
        *planted_games(40),
        TeamGame(("a",), ("a", "b"), 1.0),  # overall: a model playing itself
        TeamGame(("c", "c"), ("b", "b", "b"), 0.5),  # a draw, models on several seats
    ]
    entities = list(openskill_ratings(games, teams_of))
    drawn = np.random.default_rng(3).integers(0, len(games), size=(15, len(games)))
    mus = openskill_bootstrap(games, teams_of, entities, drawn)
    for row, resample in enumerate(drawn):
        direct = openskill_ratings([games[i] for i in np.sort(resample)], teams_of)
        expected = [direct[e].mu if e in direct else np.nan for e in entities]
        assert np.allclose(mus[row], expected, rtol=0, atol=1e-9, equal_nan=True)


# --- RunData: order, status, scenarios -----------------------------------------------------

FOUR = {"A": "traitor", "B": "faithful", "C": "faithful", "D": "faithful", "E": "faithful"}


def traitors_game(
    episode_id: str, traitor: str, winner: str | None, started_at: float, status: str = "complete"
) -> LogBuilder:
    models = {p: traitor if r == "traitor" else "faithful-model" for p, r in FOUR.items()}
    game = LogBuilder(episode_id, FOUR, models=models, started_at=started_at, status=status)
    return game.end(winner, rounds=1)


def wolf_game(episode_id: str, wolf: str, winner: str, started_at: float) -> LogBuilder:
    models = {p: wolf if r == "werewolf" else "village-model" for p, r in WOLF_ROLES.items()}
    game = LogBuilder(
        episode_id, WOLF_ROLES, models=models, started_at=started_at, scenario="werewolf"
    )
    return game.end(winner, rounds=1)


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> RunData:
    run = tmp_path_factory.mktemp("mixed")
    games = [
        traitors_game("t1", "liar", "traitors", 1.0),
        traitors_game("t2", "liar", "traitors", 2.0),
        traitors_game("t3", "honest", "faithful", 3.0),
        traitors_game("t4", "honest", None, 4.0),
        traitors_game("t5", "honest", "traitors", 5.0, status="degraded"),
        wolf_game("w1", "liar", "villagers", 6.0),
        wolf_game("w2", "honest", "werewolves", 7.0),
    ]
    for game in games:
        game.write(run)
    return analysis.load(run, include_degraded=True)


def test_games_are_complete_episodes_in_start_order(mixed: RunData) -> None:
    assert mixed.episodes.filter(pl.col("status") == "degraded").collect().height == 1
    (pooled,) = team_games(mixed).values()
    assert [g.hidden_score for g in pooled] == [1.0, 1.0, 0.0, 0.5, 0.0, 1.0]  # no t5
    assert pooled[0] == TeamGame(("liar",), ("faithful-model",) * 4, 1.0)
    assert pooled[-1].hidden == ("honest", "honest")


def test_leaderboard_splits_by_scenario(mixed: RunData) -> None:
    table = leaderboard(mixed, ["scenario"], resamples=20)
    keys = table.select("scenario", "label").rows()
    assert keys == [
        ("the_traitors", "faithful-model"),
        ("the_traitors", "honest"),
        ("the_traitors", "liar"),
        ("werewolf", "honest"),
        ("werewolf", "liar"),
        ("werewolf", "village-model"),
    ]
    liar = table.filter(scenario="the_traitors", label="liar").row(0, named=True)
    honest = table.filter(scenario="the_traitors", label="honest").row(0, named=True)
    assert (liar["deceiver_games"], liar["detective_games"]) == (2, 0)
    assert liar["detection_bt"] is None and liar["detection_mu"] is None
    assert liar["deception_bt"] > honest["deception_bt"]
    assert liar["deception_mu"] > honest["deception_mu"]
    wolves = table.filter(scenario="werewolf", label="honest").row(0, named=True)
    assert (
        wolves["deception_bt"]
        > table.filter(scenario="werewolf", label="liar")["deception_bt"].item()
    )
    pooled = leaderboard(mixed, [], resamples=20)
    assert pooled.columns[0] == "label" and pooled.height == 4
    assert pooled.filter(label="liar")["deceiver_games"].item() == 3


def test_leaderboard_is_seeded_and_in_the_ratings_group(mixed: RunData) -> None:
    tables = {t.name: t for t in ratings.summaries(mixed, ["scenario"])}
    assert list(tables) == ["ratings", "leaderboard"]
    assert tables["leaderboard"].keys == ("scenario", "label")
    again = leaderboard(mixed, ["scenario"])
    assert tables["leaderboard"].frame.equals(again)


# --- (b) scripted policies: heuristic against random ---------------------------------------

ARMS = [
    ("heuristic", "random"),
    ("random", "heuristic"),
    ("heuristic", "heuristic"),
    ("random", "random"),
]
"""(traitors' policy, faithful's policy): every pairing, so each side's ratings connect."""


@pytest.fixture(scope="module")
def scripted(tmp_path_factory: pytest.TempPathFactory) -> RunData:
    # Eight players and two traitors: with six the traitors win nearly every game either way.
    run = tmp_path_factory.mktemp("scripted")
    for index, (traitor, faithful) in enumerate(ARMS):
        spec = load_spec(
            ROOT / "scenarios" / "the_traitors.yaml",
            [
                "rules.n_players=8",
                "rules.n_traitors=2",
                f"agents.traitor.policy={traitor}",
                f"agents.faithful.policy={faithful}",
            ],
        )
        run_episodes(spec, range(1000 * index, 1000 * index + 60), run / f"{traitor}-{faithful}")
    return analysis.load(run)


@pytest.mark.slow
def test_heuristic_outrates_random_on_both_sides(scripted: RunData) -> None:
    table = leaderboard(scripted, [], resamples=50)
    assert table["label"].to_list() == ["heuristic", "random"]
    heuristic, random_ = table.row(0, named=True), table.row(1, named=True)
    assert heuristic["deceiver_games"] == random_["deceiver_games"] == 120
    for column in ("deception_bt", "detection_bt", "overall_bt", "deception_mu", "detection_mu"):
        assert heuristic[column] > random_[column], column
    # With two models and mean-zero anchoring the ratings are opposite.
    assert heuristic["deception_bt"] == pytest.approx(-random_["deception_bt"])
    assert heuristic["deception_bt_low"] > 0 > random_["deception_bt_high"]
