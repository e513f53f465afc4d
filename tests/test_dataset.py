"""``traitors dataset``: statements labelled against the roles and the speakers' beliefs, in the
Hugging Face layout, checked against a recount written here from events.jsonl."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from analysis.dataset import split_of
from traitors.cli import main

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
LABELS = ("lie", "mistake", "honest", "unknown")


def _run(out: Path, scenario: str, episodes: int, *sets: str) -> Path:
    args = ["run", str(SCENARIOS / scenario), "--agents", "scripted"]
    args += ["--episodes", str(episodes), "--out", str(out)]
    assert main([*args, *(a for s in sets for a in ("--set", s))]) in (0, 1)
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scripted Traitors run and a Werewolf run, both with belief probes."""
    root = tmp_path_factory.mktemp("runs")
    _run(root / "traitors", "the_traitors.yaml", 4)
    _run(root / "werewolf", "werewolf.yaml", 3, "rules.belief_probe=true")
    return root


def _export(capsys: pytest.CaptureFixture[str], out: Path, *args: Any) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["dataset", *map(str, args), "--out", str(out)])
    return code, capsys.readouterr().err


def _rows(out: Path) -> pl.DataFrame:
    return pl.concat(pl.read_parquet(f) for f in sorted((out / "data").glob("*.parquet")))


# --- the recount: labels from events.jsonl, written apart from the polars code -------------


def _label(truth: bool | None, believed: bool | None) -> str:
    if truth is None or believed is None:
        return "unknown"
    return "honest" if truth else "mistake" if believed else "lie"


def _statement_label(labels: list[str]) -> str:
    if "lie" in labels:
        return "lie"
    if not labels or "unknown" in labels:
        return "unknown"
    return "mistake" if "mistake" in labels else "honest"


def hand_labels(episode: Path) -> list[dict[str, Any]]:
    """Every public statement of an episode with its label, recomputed from its files."""
    manifest = json.loads((episode / "manifest.json").read_text())
    words = manifest["words"]
    hidden = {f["name"] for f in words["factions"] if f.get("hidden")}
    events = [json.loads(line) for line in (episode / "events.jsonl").read_text().splitlines()]
    reports = {}  # (round, player) -> the player's last belief report of the round
    for event in events:
        if event["kind"] == "belief":
            reports[(event["round"], event["actor"])] = event["probs"]
    role: dict[str, str] = {}
    rows = []
    for event in events:
        if event["kind"] == "role":
            role[event["player"]] = event["role"]
        if event["kind"] != "speak" or event["visibility"]["scope"] != "public":
            continue
        speaker, probs = event["actor"], reports.get((event["round"], event["actor"]))
        labels = []
        for claim in event["claims"]:
            if claim["kind"] == "claim_role":
                truth = believed = claim["role"] == role[speaker]
            else:
                target_hidden = words["roles"][role[claim["target"]]] in hidden
                truth = target_hidden if claim["kind"] == "accuse" else not target_hidden
                p = probs.get(claim["target"]) if probs else None
                if p is None:
                    believed = None
                elif claim["kind"] == "accuse":
                    believed = p >= max(probs.values())
                else:
                    believed = p <= min(probs.values())
            labels.append(_label(truth, believed))
        agent = manifest["agents"][speaker]
        rows.append(
            {
                "episode": manifest["episode_id"],
                "seq": event["seq"],
                "scenario": manifest["scenario"],
                "role": role[speaker],
                "model": agent["policy"] if agent["policy"] == "heuristic" else agent["model"],
                "claim_labels": labels,
                "label": _statement_label(labels),
            }
        )
    return rows


def _episodes(run: Path) -> list[Path]:
    return sorted(p.parent for p in run.glob("*/manifest.json"))


def _card_table(card: str, title: str) -> dict[tuple[str, ...], dict[str, int]]:
    """A count table of the card: its key columns -> label -> count."""
    block = card.split(f"### {title}\n", 1)[1].strip("\n").split("\n\n")[0]
    header, _, *lines = block.splitlines()
    names = [c.strip() for c in header.strip("|").split("|")]
    keys = len(names) - len(LABELS) - 1
    table = {}
    for line in lines:
        cells = [c.strip() for c in line.strip("|").split("|")]
        table[tuple(cells[:keys])] = dict(zip(LABELS, map(int, cells[keys:-1]), strict=True))
        assert int(cells[-1]) == sum(table[tuple(cells[:keys])].values())
    return table


def _recount(rows: list[dict[str, Any]], *keys: str) -> dict[tuple[str, ...], dict[str, int]]:
    counts = Counter((*(r[k] for k in keys), r["label"]) for r in rows)
    groups = {key[:-1] for key in counts}
    return {g: {label: counts[(*g, label)] for label in LABELS} for g in groups}


# --- tests ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_card_counts_match_a_recount_from_the_logs(runs, tmp_path, capsys):
    code, err = _export(capsys, tmp_path / "ds", runs / "traitors", runs / "werewolf")
    assert code == 0, err
    card = (tmp_path / "ds" / "README.md").read_text()
    hand = [r for run in ("traitors", "werewolf") for e in _episodes(runs / run) for r in
            hand_labels(e)]  # fmt: skip
    assert _card_table(card, "By scenario") == _recount(hand, "scenario")
    assert _card_table(card, "By scenario and speaker role") == _recount(hand, "scenario", "role")
    assert _card_table(card, "By speaker model") == _recount(hand, "model")
    assert {"lie", "mistake", "honest"} <= {r["label"] for r in hand}  # the counts can differ
    front = card.split("---\n")[1]
    assert "config_name: default" in front and "path: data/train-*.parquet" in front


def test_every_label_is_the_one_recomputed_from_events_jsonl(runs, tmp_path, capsys):
    assert _export(capsys, tmp_path / "ds", runs / "traitors", runs / "werewolf")[0] == 0
    rows = _rows(tmp_path / "ds")
    by_statement = {(r["episode"], r["seq"]): r for r in rows.iter_rows(named=True)}
    hand = [r for run in ("traitors", "werewolf") for e in _episodes(runs / run) for r in
            hand_labels(e)]  # fmt: skip
    assert len(hand) == rows.height
    for expected in hand:
        row = by_statement[(expected["episode"], expected["seq"])]
        assert row["label"] == expected["label"]
        assert [c["label"] for c in row["claims"]] == expected["claim_labels"]
        assert row["speaker_role"] == expected["role"]


def test_a_claims_belief_is_recorded_with_when(runs, tmp_path, capsys):
    assert _export(capsys, tmp_path / "ds", runs / "traitors")[0] == 0
    rows = _rows(tmp_path / "ds")
    claims = rows.select("seq", "round", "claims").explode("claims").unnest("claims")
    accusations = claims.filter(pl.col("kind") == "accuse")
    assert (accusations["belief_source"] == "probe").all()
    assert (accusations["belief_round"] == accusations["round"]).all()
    assert (accusations["belief_seq"] > accusations["seq"]).all()  # the probe after the talk
    role_claims = claims.filter(pl.col("kind") == "claim_role")
    assert (role_claims["belief_source"] == "role").all()
    assert (role_claims["belief_seq"] < role_claims["seq"]).all()
    # the pointer: the public events before the statement
    first = rows.row(0, named=True)
    events = [
        json.loads(line)
        for line in (runs / "traitors" / first["episode"] / "events.jsonl").read_text().splitlines()
    ]
    public = [e["seq"] for e in events if e["visibility"]["scope"] == "public"]
    before = [s for s in public if s < first["seq"]]
    assert first["context_events"] == len(before)
    assert (first["context_seq_first"], first["context_seq_last"]) == (before[0], before[-1])


def test_splits_are_deterministic_and_by_episode(runs, tmp_path, capsys):
    assert _export(capsys, tmp_path / "a", runs / "traitors", runs / "werewolf")[0] == 0
    assert _export(capsys, tmp_path / "b", runs / "werewolf", runs / "traitors")[0] == 0
    a, b = _rows(tmp_path / "a"), _rows(tmp_path / "b")
    key = ["episode", "seq"]
    assert a.sort(key).equals(b.sort(key))
    splits = a.group_by("episode").agg(pl.col("split").n_unique().alias("n"), pl.first("split"))
    assert (splits["n"] == 1).all()
    for episode, split in splits.select("episode", "split").rows():
        assert split == split_of(episode)
        assert (tmp_path / "a" / "data" / f"{split}-00000-of-00001.parquet").is_file()
    shares = Counter(split_of(f"{i:016x}") for i in range(2000))
    assert 1500 < shares["train"] < 1700 and 120 < shares["validation"] < 280


def test_a_run_without_belief_probes_is_exported_with_one_line(tmp_path, capsys):
    run = _run(tmp_path / "werewolf", "werewolf.yaml", 2)
    code, err = _export(capsys, tmp_path / "ds", run)
    assert code == 0
    lines = [line for line in err.splitlines() if "no belief probes" in line]
    assert len(lines) == 1 and str(run) in lines[0]
    claims = _rows(tmp_path / "ds").select("claims").explode("claims").unnest("claims")
    stances = claims.filter(pl.col("kind").is_in(["accuse", "defend"]))
    assert stances.height and (stances["label"] == "unknown").all()
    assert stances["belief_p"].is_null().all()


def test_bad_paths_and_damaged_logs_get_one_line_and_the_rest_is_exported(runs, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(runs / "traitors", copy)
    damaged = _episodes(copy)[0]
    events = damaged / "events.jsonl"
    events.write_text(events.read_text()[:-40])  # the last line cut off
    not_a_run = tmp_path / "notes"
    not_a_run.mkdir()
    (not_a_run / "notes.txt").write_text("hello")
    missing = tmp_path / "missing"
    code, err = _export(capsys, tmp_path / "ds", missing, not_a_run, copy)
    assert code == 0
    assert "Traceback" not in err
    assert [line for line in err.splitlines() if str(missing) in line] == [
        f"{missing}: left out: no such directory"
    ]
    assert len([line for line in err.splitlines() if line.startswith(str(not_a_run))]) == 1
    assert f"{damaged}: left out: a log is damaged" in err.splitlines()
    rows = _rows(tmp_path / "ds")
    assert rows["episode"].n_unique() == len(_episodes(copy)) - 1
    assert damaged.name not in rows["episode"].to_list()
    code, err = _export(capsys, tmp_path / "none", missing)
    assert code == 2 and len(err.splitlines()) == 2  # the path, and nothing to export


def test_a_compacted_run_exports_the_same_statements(runs, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(runs / "traitors", copy)
    assert main(["compact", str(copy)]) == 0
    assert not _episodes(copy) and list((copy / "shards").glob("*.parquet"))
    assert _export(capsys, tmp_path / "packed", copy)[0] == 0
    assert _export(capsys, tmp_path / "loose", runs / "traitors")[0] == 0
    assert _rows(tmp_path / "packed").equals(_rows(tmp_path / "loose"))
    code, _ = _export(capsys, tmp_path / "inline", copy, "--inline-context")
    assert code == 0 and _rows(tmp_path / "inline")["context"].str.len_chars().min() > 0


def test_inline_context_holds_what_the_speaker_saw_before(runs, tmp_path, capsys):
    assert _export(capsys, tmp_path / "ds", runs / "traitors", "--inline-context")[0] == 0
    rows = _rows(tmp_path / "ds").filter(pl.col("episode") == pl.first("episode")).sort("seq")
    first, second = rows.row(0, named=True), rows.row(1, named=True)
    said = f"{first['speaker']} said: {json.dumps(first['text'])}"
    assert second["context"].splitlines()[-1].startswith(said)  # the last public event before
    assert not first["context"].splitlines()[-1].startswith(said)
    assert len(second["context"]) > len(first["context"])
    assert "P(traitor)" not in second["context"]  # no private belief, no one's role


def test_imported_episodes_without_claims_or_beliefs_are_unknown(tmp_path, capsys):
    run = _run(tmp_path / "imported", "werewolf.yaml", 1)
    episode = _episodes(run)[0]
    lines = []
    for line in (episode / "events.jsonl").read_text().splitlines():
        event = json.loads(line)
        if event["kind"] == "speak":
            event["claims"] = []
        if event["kind"] == "reasoning":  # a private feeling, as Kaggle's records keep them
            event = {**event, "kind": "threat", "level": "DANGER"}
            del event["text"]
        lines.append(json.dumps(event))
    (episode / "events.jsonl").write_text("\n".join(lines) + "\n")
    code, err = _export(capsys, tmp_path / "ds", run)
    assert code == 0, err
    rows = _rows(tmp_path / "ds")
    assert rows.height and (rows["label"] == "unknown").all()
    assert (rows["claims"].list.len() == 0).all()
    assert "threat" in (tmp_path / "ds" / "README.md").read_text()


def test_degraded_episodes_only_when_asked(runs, tmp_path, capsys):
    copy = tmp_path / "copy"
    shutil.copytree(runs / "werewolf", copy)
    degraded = _episodes(copy)[0]
    manifest = json.loads((degraded / "manifest.json").read_text())
    (degraded / "manifest.json").write_text(json.dumps({**manifest, "status": "degraded"}))
    code, err = _export(capsys, tmp_path / "ds", copy)
    assert code == 0 and "1 episode(s) left out: degraded" in err
    assert degraded.name not in _rows(tmp_path / "ds")["episode"].to_list()
    assert _export(capsys, tmp_path / "all", copy, "--include-degraded")[0] == 0
    statuses = dict(_rows(tmp_path / "all").group_by("episode").agg(pl.first("status")).rows())
    assert statuses[degraded.name] == "degraded"
    assert set(statuses.values()) == {"complete", "degraded"}
