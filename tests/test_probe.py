"""White-box probes: the activations file, the probe file, training and scoring on synthetic
activations, and one short game of the embedded model capturing and probing a seat."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from analysis.errors import AnalysisError
from analysis.probe import auroc, choose_l2, episode_folds, fit_logistic, score, train
from traitors.cli import main
from traitors.episode.spec import SpecError, episode_id, load_spec
from traitors.game.events import GodOnly, ProbeScoreEvent, SpeakEvent, player_view
from traitors.store.activations import add_rows, read_activations
from traitors.store.detector import read_manifest, read_scores
from traitors.store.log import ACTIVATIONS, LogError, read_episode
from traitors.store.probe_file import ProbeFile, read_probe, write_probe
from traitors.sweep.episodes import run_episodes
from traitors.sweep.replay import replay_episode

MODEL = "local/smollm2-135m"
WIDTH = 8


def synthetic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Lies shifted along one direction of a noisy WIDTH-dimensional space."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n).astype(float)
    x = rng.normal(size=(n, WIDTH))
    x[:, 0] += 2.0 * y
    return x, y


def test_logistic_regression_separates_held_out_statements() -> None:
    x, y = synthetic(200, 0)
    weights, bias = fit_logistic(x, y, l2=1.0)
    test_x, test_y = synthetic(200, 1)
    area = auroc(test_x @ weights + bias, test_y)
    assert area is not None and area > 0.85
    assert auroc(np.array([0.1, 0.9]), np.array([0, 1])) == 1.0
    assert auroc(np.array([0.5, 0.5]), np.array([0, 1])) == 0.5
    assert auroc(np.array([0.5]), np.array([1])) is None


def test_cross_validation_holds_episodes_together_and_sees_through_overfitting() -> None:
    episodes = [f"ep{e % 7}" for e in range(70)]
    folds = episode_folds(episodes)
    for ep in set(episodes):
        assert len({fold for fold, e in zip(folds, episodes, strict=True) if e == ep}) == 1
    assert sorted(set(folds)) == [0, 1, 2, 3, 4] and (folds == episode_folds(episodes)).all()
    rng = np.random.default_rng(3)
    noise, y = rng.normal(size=(70, 200)), rng.integers(0, 2, 70).astype(float)
    weights, bias = fit_logistic(noise, y, 0.1)
    assert auroc(noise @ weights + bias, y) == 1.0  # memorised
    l2, held = choose_l2(noise, y, folds, (0.1, 10.0, 1000.0))
    assert held is not None and abs(held - 0.5) < 0.2
    x, y = synthetic(70, 4)
    l2, held = choose_l2(x, y, folds, (0.1, 10.0, 1e6))
    assert held is not None and held > 0.8 and l2 < 1e6  # an overwhelming penalty loses
    assert choose_l2(x, y, np.zeros(70, int), (1.0, 5.0)) == (5.0, None)  # one fold


def test_activations_file_keeps_rows_of_every_seat(tmp_path: Path) -> None:
    add_rows(tmp_path, [(4, "Alice", {2: [1.0, 2.0], 4: [3.0, 4.0]})], {"model": MODEL})
    add_rows(tmp_path, [(9, "Bob", {2: [5.0, 6.0], 4: [7.0, 8.0]})], {"model": MODEL})
    found = read_activations(tmp_path / ACTIVATIONS)
    assert found.seq.tolist() == [4, 9] and found.seat == ("Alice", "Bob")
    assert found.layers[4].tolist() == [[3.0, 4.0], [7.0, 8.0]]
    assert found.meta["model"] == MODEL
    (tmp_path / "bad.npz").write_bytes(b"nope")
    with pytest.raises(LogError, match="not an activations file"):
        read_activations(tmp_path / "bad.npz")


def test_a_probe_file_for_another_model_or_layer_is_refused(tmp_path: Path) -> None:
    probe = ProbeFile(model=MODEL, layer=30, weights=(1.0, -1.0), bias=0.0, mean=(0, 0),
                      scale=(1, 1))  # fmt: skip
    assert probe.score([2.0, 2.0]) == 0.5 and probe.score([3.0, 0.0]) > 0.9
    assert (
        probe.refuses("local/gemma3-270m")
        == "the probe reads local/smollm2-135m, not local/gemma3-270m"
    )
    assert probe.refuses(MODEL, 15) == "the probe reads layer 30, not layer 15"
    assert probe.refuses(MODEL, 30) is None
    (tmp_path / "junk.json").write_text("{}")
    with pytest.raises(LogError, match=r"junk.json: not a probe file: model: Field required"):
        read_probe(tmp_path / "junk.json")


def write_dataset(root: Path, episodes: int = 30) -> Path:
    """A dataset of ``episodes`` x 8 statements whose run holds synthetic activations
    (layers 2 and 4; lies shifted along one dimension) for the model's statements."""
    run, rows = root / "run", []
    rng = np.random.default_rng(7)
    for e in range(episodes):
        episode = f"ep{e:03d}"
        split = "train" if e < episodes * 0.7 else ("validation" if e % 2 else "test")
        (run / episode).mkdir(parents=True)
        vectors = []
        for seq in range(8):
            label = ("lie", "honest", "mistake", "unknown")[int(rng.integers(0, 4))]
            x = rng.normal(size=WIDTH) + (2.0 if label == "lie" else 0.0) * np.eye(WIDTH)[0]
            side = "traitors" if label == "lie" else "faithful"
            rows.append((episode, seq, split, label, MODEL, side))
            vectors.append((seq, "Alice", {2: x.tolist(), 4: x.tolist()}))
        add_rows(run / episode, vectors[:-1], {"model": MODEL})  # the last: not captured
    data = root / "dataset" / "data"
    data.mkdir(parents=True)
    columns = ["episode", "seq", "split", "label", "speaker_model", "speaker_side"]
    pl.DataFrame(rows, schema=columns, orient="row").write_parquet(
        data / "all-00000-of-00001.parquet"
    )
    (root / "dataset" / "README.md").write_text(
        f"## Sources\n\n- {run}: {episodes} episodes, {len(rows)} statements\n"
    )
    return root / "dataset"


def test_train_then_score_the_other_splits_as_a_detector_run(tmp_path: Path, capsys) -> None:
    dataset = write_dataset(tmp_path)
    probe = train(dataset, layer=4)
    assert probe.model == MODEL and probe.layer == 4 and len(probe.weights) == WIDTH
    assert probe.trained["lie"] > 20 and probe.trained["train_auroc"] > 0.8
    assert probe.trained["cv_auroc"] > 0.75 and probe.trained["cv_folds"] == 5
    assert train(dataset, layer=4, l2=3.0).trained["l2"] == 3.0
    scores = score(probe, dataset, ["validation", "test"])
    assert set(scores["error"].drop_nulls()) == {"no_activations"}  # each episode's last
    assert (
        main(["probe", "train", str(dataset), "--layer", "4", "--out", str(tmp_path / "p.json")])
        == 0
    )
    out = tmp_path / "probe-run"
    assert main(["probe", "score", str(tmp_path / "p.json"), str(dataset), "--out", str(out)]) == 0
    manifest, written = read_manifest(out), read_scores(out)
    assert manifest.kind == "probe" and manifest.status == "partial"
    assert (
        manifest.scored
        == written["score"].is_not_null().sum()
        == scores["score"].is_not_null().sum()
    )
    assert manifest.failed == {"no_activations": 9}
    labels = pl.read_parquet(dataset / "data").join(written, on=["episode", "seq"])
    held = labels.filter(pl.col("label").is_in(["lie", "honest"]) & pl.col("score").is_not_null())
    area = auroc(held["score"].to_numpy(), (held["label"] == "lie").to_numpy().astype(int))
    assert area is not None and area > 0.75
    assert "training AUROC" in capsys.readouterr().out
    assert main(["probe", "control", str(dataset), "--layer", "2"]) == 0
    line = capsys.readouterr().out
    assert line.startswith(f"{dataset} layer 2: speaker_side traitors (")
    assert float(line.rsplit(" ", 1)[1]) > 0.75  # the side is the lie, shifted along dim 0
    assert main(["probe", "control", str(dataset), "--layer", "2", "--column", "label"]) == 2
    assert "label needs two values in the training split (has 4)" in capsys.readouterr().err
    assert main(["probe", "train", str(dataset), "--layer", "4", "--l2", "0"]) == 2
    assert capsys.readouterr().err == "error: --l2 0.0: the penalty must be a number above 0\n"
    assert main(["probe", "train", str(dataset), "--layer", "4", "--l2", "inf"]) == 2
    assert "--l2 inf: the penalty must be" in capsys.readouterr().err


def test_bad_probe_inputs_get_one_line(tmp_path: Path, capsys) -> None:
    dataset = write_dataset(tmp_path, episodes=6)
    with pytest.raises(AnalysisError, match="no layer 7 captured"):
        train(dataset, layer=7)
    other = ProbeFile(model="local/gemma3-270m", layer=4, weights=(0.0,) * WIDTH, bias=0.0,
                      mean=(0.0,) * WIDTH, scale=(1.0,) * WIDTH)  # fmt: skip
    write_probe(tmp_path / "other.json", other)
    assert main(["probe", "score", str(tmp_path / "other.json"), str(dataset)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the probe reads local/gemma3-270m, not local/smollm2" in err


def test_white_box_settings_need_a_local_model_and_a_matching_probe(
    traitors_yaml, tmp_path
) -> None:
    with pytest.raises(SpecError, match=r"agents.default.activations: needs a local model"):
        load_spec(
            traitors_yaml, ["agents.default.model=fake/random", "agents.default.activations=true"]
        )
    other = ProbeFile(model="local/gemma3-270m", layer=4, weights=(0.0,), bias=0.0, mean=(0.0,),
                      scale=(1.0,))  # fmt: skip
    write_probe(tmp_path / "other.json", other)
    with pytest.raises(SpecError, match=r"agents.Alice.probe: .*the probe reads local/gemma3"):
        load_spec(
            traitors_yaml,
            ["agents.default.policy=llm", f"agents.Alice.probe={tmp_path / 'other.json'}"],
        )
    spec = load_spec(traitors_yaml)
    assert episode_id(spec, 1) == episode_id(load_spec(traitors_yaml, ["agents.default.probe="]), 1)


def short_game(traitors_yaml: Path, *extra: str):
    return load_spec(
        traitors_yaml,
        [
            "rules.n_players=6",
            "rules.n_traitors=2",
            "rules.max_rounds=1",
            "agents.default.policy=heuristic",
            "agents.Alice.policy=llm",
            "agents.Alice.max_tokens=24",
            "agents.Alice.memory_events=6",
            "agents.Alice.reasoning=false",
            *extra,
        ],
    )


@pytest.mark.slow
def test_a_local_seat_captures_and_probes_its_statements(traitors_yaml, tmp_path, capsys) -> None:
    probe = ProbeFile(model=MODEL, layer=30, weights=tuple(np.linspace(-0.01, 0.01, 576)),
                      bias=0.0, mean=(0.0,) * 576, scale=(1.0,) * 576)  # fmt: skip
    write_probe(tmp_path / "p.json", probe)
    plain = run_episodes(short_game(traitors_yaml), [2], tmp_path / "plain")[0]
    spec = short_game(
        traitors_yaml, "agents.Alice.activations=true", f"agents.Alice.probe={tmp_path / 'p.json'}"
    )
    summary = run_episodes(spec, [2], tmp_path / "white")[0]
    events = read_episode(summary.dir).events
    said = [e.seq for e in events if isinstance(e, SpeakEvent) and e.actor == "Alice"]
    scores = [e for e in events if isinstance(e, ProbeScoreEvent)]
    assert said and len(scores) == len(said)
    assert all(
        isinstance(e.visibility, GodOnly) and e.actor == "Alice" and 0 <= e.score <= 1
        for e in scores
    )
    assert all(
        not any(isinstance(e, ProbeScoreEvent) for e in player_view(events, p))
        for p in ("Alice", "Bob")
    )
    shown = f"Alice probe p (layer 30): P(lie) {scores[0].score:.2f}"
    assert main(["watch", str(summary.dir), "--plain"]) == 0
    assert shown in capsys.readouterr().out  # the terminal view shows the probe's reading
    assert main(["export", str(summary.dir), "--html", str(tmp_path / "r.html")]) == 0
    assert shown in (tmp_path / "r.html").read_text()  # and so does the HTML replay
    found = read_activations(summary.dir / ACTIVATIONS)
    assert found.seq.tolist() == said and set(found.layers) == {15, 30}
    assert found.layers[30].shape == (len(said), 576)
    # the capture changes nothing the players did; replay serves the scores from calls.jsonl
    game = [e.model_dump(exclude={"seq"}) for e in events if not isinstance(e, ProbeScoreEvent)]
    assert game == [e.model_dump(exclude={"seq"}) for e in read_episode(plain.dir).events]
    (summary.dir / ACTIVATIONS).unlink()
    result = replay_episode(summary.dir)
    assert result.ok, result.divergence
    calls = [json.loads(line) for line in (summary.dir / "calls.jsonl").read_text().splitlines()]
    assert [c["probe_score"] for c in calls if "probe_score" in c][: len(scores)]
