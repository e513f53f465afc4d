"""Parquet shards: compaction of a sweep's finished episodes, byte-for-byte extraction, crash
safety, the analysis of compacted and half-compacted runs, and watch/replay from a shard."""

from __future__ import annotations

import argparse
import io
import json
import math
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from rich.console import Console

import analysis
from analysis import log_lines
from analysis.discover import discover, list_episodes
from analysis.episode_files import read_episode_files
from analysis.frames import DECISION_RECORD, frame_names
from analysis.log_lines import ASCII_SPACE, ORDER, _lines, _parse, _tagged, parse_logs, tag
from analysis.suite import compute
from traitors.cli import main
from traitors.commands.spectate import add_watch_parser, run_watch
from traitors.store import shards
from traitors.store.log import CALLS, ERROR, EVENTS, MANIFEST
from traitors.store.shards import (
    EXTRACTED_DIR,
    SCHEMA,
    SHARD_DIR,
    compact,
    extract,
    is_complete_or_packed,
    packed_statuses,
    read_sharded_manifests,
    resolve_episode,
    shard_files,
    shard_index,
)

ROOT = Path(__file__).resolve().parent.parent
SWEEP = f"""\
name: shards
base: {ROOT / "scenarios" / "the_traitors.yaml"}
set: {{agents.default.policy: llm, agents.default.model: fake/random, rules.n_players: 5,
       rules.n_traitors: 1, rules.max_rounds: 2}}
grid:
  rules.recruitment: [false, true]
episodes: 4
seed: 0
"""
EPISODES = 8


@pytest.fixture(scope="module")
def sweep_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished sweep of 8 LLM episodes (the fake model), each with its calls.jsonl."""
    base = tmp_path_factory.mktemp("sweep")
    spec = base / "sweep.yaml"
    spec.write_text(SWEEP)
    run = base / "run"
    assert main(["sweep", str(spec), "--out", str(run)]) == 0
    assert len(episode_dirs(run)) == EPISODES
    return run


@pytest.fixture
def run(sweep_run: Path, tmp_path: Path) -> Path:
    """A copy of the sweep for one test to change."""
    copy = tmp_path / "run"
    shutil.copytree(sweep_run, copy)
    return copy


def episode_dirs(run: Path) -> list[Path]:
    return sorted(p for p in run.iterdir() if (p / MANIFEST).is_file())


def files_of(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def snapshot(run: Path) -> dict[str, dict[str, bytes]]:
    return {d.name: files_of(d) for d in episode_dirs(run)}


def all_files(run: Path) -> list[Path]:
    return sorted(p for p in run.rglob("*") if p.is_file())


def frames(path: Path, include_degraded: bool = False) -> dict[str, pl.DataFrame]:
    data = analysis.load(path, include_degraded=include_degraded)
    return {name: data.frame(name).collect() for name in frame_names()}


def tables(path: Path) -> dict[str, list[dict[str, Any]]]:
    return {t.name: t.frame.to_dicts() for t in compute(analysis.load(path), [], [])}


def assert_same_frames(got: dict[str, pl.DataFrame], want: dict[str, pl.DataFrame]) -> None:
    for name in frame_names():  # the same rows, in the same order, with the same dtypes
        assert got[name].equals(want[name]), name
        assert got[name].schema == want[name].schema, name


def assert_same_tables(got: dict[str, list[dict[str, Any]]], want: dict[str, Any]) -> None:
    """Equal, value for value; floats to 1e-12 (a few metric groups aggregate in polars'
    hash order, so the last bit of a mean may differ between two runs of the same logs)."""
    assert got.keys() == want.keys()
    for name in want:
        assert len(got[name]) == len(want[name]), name
        for row_got, row_want in zip(got[name], want[name], strict=True):
            assert row_got.keys() == row_want.keys(), name
            for key, value in row_want.items():
                other = row_got[key]
                if isinstance(value, float) and isinstance(other, float):
                    same = math.isclose(other, value, rel_tol=1e-12, abs_tol=1e-15) or (
                        math.isnan(value) and math.isnan(other)
                    )
                    assert same, (name, key, other, value)
                else:
                    assert other == value, (name, key, other, value)


def move_out(run: Path, names: list[str], holding: Path) -> None:
    holding.mkdir(exist_ok=True)
    for name in names:
        shutil.move(run / name, holding / name)


def move_back(run: Path, holding: Path) -> None:
    for directory in holding.iterdir():
        shutil.move(directory, run / directory.name)


# --- compaction and extraction -------------------------------------------------------------


@pytest.mark.slow
def test_compact_packs_every_episode_and_each_comes_back_byte_for_byte(
    run: Path, tmp_path: Path
) -> None:
    before = snapshot(run)
    assert all(CALLS in files for files in before.values())  # the LLM seats called a model
    run_files = sorted(p for p in run.iterdir() if p.is_file())  # sweep.json, ...
    assert len(all_files(run)) == 3 * EPISODES + len(run_files)  # manifest, events, calls

    report = compact(run)

    shard = run / SHARD_DIR / "shard-00000.parquet"
    assert report.shards == (shard,)
    assert (report.packed, report.removed, report.skipped) == (EPISODES, EPISODES, ())
    assert all_files(run) == sorted([*run_files, shard])
    assert [p.name for p in run.iterdir() if p.is_dir()] == [SHARD_DIR]
    assert shard_files(run) == [shard]
    assert shard_index(run) == dict.fromkeys(before, shard)
    assert dict(read_sharded_manifests(run)) == {
        eid: files[MANIFEST].decode() for eid, files in before.items()
    }

    stored = pl.read_parquet(shard)
    assert stored.schema == pl.Schema(SCHEMA)
    assert stored["episode_id"].to_list() == sorted(before)
    for row in stored.iter_rows(named=True):
        files = before[row["episode_id"]]
        assert row["events"].encode() == files[EVENTS]
        assert row["calls"].encode() == files[CALLS]
        assert row["error"] is None

    for eid, files in before.items():
        directory = extract(run, eid, tmp_path / "out")
        assert directory == tmp_path / "out" / eid
        assert files_of(directory) == files  # the same files, byte for byte, nothing more
    with pytest.raises(FileNotFoundError, match=f"{run}: no shard holds episode nope"):
        extract(run, "nope", tmp_path / "out")


def test_a_second_compaction_packs_only_new_episodes_and_leaves_old_shards_alone(
    run: Path, tmp_path: Path
) -> None:
    names = [d.name for d in episode_dirs(run)]
    later, holding = names[::2], tmp_path / "later"
    move_out(run, later, holding)
    first = compact(run)
    assert first.packed == EPISODES - len(later)
    (old,) = first.shards
    stat = old.stat()
    old_bytes = old.read_bytes()

    assert compact(run) == shards.CompactReport((), 0, 0)  # nothing loose: nothing to do
    move_back(run, holding)
    assert compact(run, min_episodes=len(later) + 1).packed == 0  # too few loose ones yet
    assert len(episode_dirs(run)) == len(later)
    second = compact(run, per_shard=3)

    assert second.packed == len(later) == 4
    assert [s.name for s in second.shards] == ["shard-00001.parquet", "shard-00002.parquet"]
    assert [pl.read_parquet(s).height for s in second.shards] == [3, 1]
    after = old.stat()
    assert (after.st_mtime_ns, after.st_size, after.st_ino) == (
        stat.st_mtime_ns,
        stat.st_size,
        stat.st_ino,
    )
    assert old.read_bytes() == old_bytes
    index = shard_index(run)
    assert sorted(index) == sorted(names)
    assert {eid for eid, shard in index.items() if shard == old} == set(names) - set(later)
    assert episode_dirs(run) == []


def test_failed_running_and_unpackable_episodes_stay_loose(run: Path) -> None:
    failed, running, degraded, extra, *_ = episode_dirs(run)
    set_status(failed, "failed")
    (failed / ERROR).write_text("Traceback: boom\n")
    set_status(running, "running")
    set_status(degraded, "degraded")
    (degraded / ERROR).write_text("a note kept byte for byte\n")
    (extra / "notes.txt").write_text("not an episode file")
    kept = {d.name: files_of(d) for d in (failed, running, extra)}
    degraded_files = files_of(degraded)

    report = compact(run)

    assert report.packed == EPISODES - 3
    assert report.skipped == (f"{extra}: holds other files (notes.txt)",)
    assert {d.name: files_of(d) for d in episode_dirs(run)} == kept  # untouched
    assert degraded.name in shard_index(run) and not degraded.exists()
    assert files_of(extract(run, degraded.name, run.parent / "x")) == degraded_files
    statuses = packed_statuses(run)
    assert statuses[degraded.name] == "degraded"
    assert failed.name not in statuses and running.name not in statuses

    data = analysis.load(run, include_degraded=True)
    assert (data.failed, data.incomplete, data.duplicates) == (1, 1, 0)
    status = dict(data.episodes.select("episode_id", "status").collect().iter_rows())
    assert len(status) == EPISODES - 2 and status[degraded.name] == "degraded"


def set_status(directory: Path, status: str) -> None:
    manifest = json.loads((directory / MANIFEST).read_text())
    manifest["status"] = status
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")


def test_nested_runs_are_not_entered(run: Path, tmp_path: Path) -> None:
    parent = tmp_path / "runs"
    parent.mkdir()
    shutil.move(run, parent / "run")
    report = compact(parent)
    assert report == shards.CompactReport((), 0, 0)
    assert len(episode_dirs(parent / "run")) == EPISODES
    assert not (parent / SHARD_DIR).exists()


# --- crashes and copies held twice ---------------------------------------------------------


def test_a_crash_before_the_directories_are_removed_loses_nothing_and_counts_nothing_twice(
    run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    want = frames(run)
    before = snapshot(run)

    def crash(loose: object) -> bool:
        raise KeyboardInterrupt  # the process dies once the shard is in place

    with monkeypatch.context() as patch:
        patch.setattr(shards, "_remove", crash)
        with pytest.raises(KeyboardInterrupt):
            compact(run)
    (shard,) = shard_files(run)
    assert snapshot(run) == before  # every directory still there, unchanged
    assert not [p for p in (run / SHARD_DIR).iterdir() if p.name.startswith(".")]  # no temp

    data = analysis.load(run)  # each episode once, loose and packed
    assert (data.duplicates, data.incomplete, data.failed) == (0, 0, 0)
    assert_same_frames(frames(run), want)

    # A crash while removing them: the manifest goes first, so what is left looks unfinished.
    half = episode_dirs(run)[0]
    (half / MANIFEST).unlink()
    data = analysis.load(run)
    assert (data.duplicates, data.incomplete) == (0, 0)
    assert_same_frames(frames(run), want)

    report = compact(run)  # finishes the job: identical copies removed, nothing packed again
    assert (report.shards, report.packed, report.removed) == ((), 0, EPISODES - 1)
    assert shard_files(run) == [shard]
    assert_same_frames(frames(run), want)


def test_a_newer_loose_copy_is_read_and_packed_again(run: Path, tmp_path: Path) -> None:
    directory = episode_dirs(run)[0]
    saved = tmp_path / "saved"
    shutil.copytree(directory, saved)
    compact(run)
    # The sweep ran the episode again (say, it was degraded): a new loose copy.
    shutil.copytree(saved, directory)
    manifest = json.loads((directory / MANIFEST).read_text())
    manifest["finished_at"] += 1000.0
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    newer = files_of(directory)

    data = analysis.load(run)
    assert data.duplicates == 0
    duration = data.episodes.filter(pl.col("episode_id") == directory.name)
    assert duration.select("duration_s").collect().item() == pytest.approx(
        manifest["finished_at"] - manifest["started_at"]
    )

    report = compact(run)
    assert report.packed == 1 and [s.name for s in report.shards] == ["shard-00001.parquet"]
    assert shard_index(run)[directory.name] == report.shards[0]  # the last shard is read
    assert files_of(extract(run, directory.name, tmp_path / "x")) == newer
    assert json.loads(dict(read_sharded_manifests(run))[directory.name]) == manifest
    data = analysis.load(run)
    assert data.duplicates == 0 and data.episodes.select(pl.len()).collect().item() == EPISODES
    duration = data.episodes.filter(pl.col("episode_id") == directory.name)
    assert duration.select("duration_s").collect().item() == pytest.approx(
        manifest["finished_at"] - manifest["started_at"]
    )


def test_a_directory_written_while_it_is_packed_is_kept(
    run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second, *_ = episode_dirs(run)
    write_shard = shards.write_shard

    def rerun_during(run_dir: Path, rows: list[Any]) -> Path:
        path = write_shard(run_dir, rows)
        with (first / EVENTS).open("a") as log:  # a writer at work in the directory
            log.write("\n")
        return path

    monkeypatch.setattr(shards, "write_shard", rerun_during)
    report = compact(run)
    assert (report.packed, report.removed) == (EPISODES, EPISODES - 1)
    assert episode_dirs(run) == [first]  # kept: it changed after it was read
    assert (first / EVENTS).read_text().endswith("\n\n")
    assert not second.exists()


def test_sweep_helpers_say_what_is_complete_loose_or_packed(run: Path) -> None:
    first, second, *_ = episode_dirs(run)
    set_status(second, "degraded")
    compact(run)
    packed = packed_statuses(run)
    assert packed[first.name] == "complete" and packed[second.name] == "degraded"
    assert is_complete_or_packed(first, packed)
    assert not is_complete_or_packed(second, packed)  # degraded: a sweep runs it again
    assert not is_complete_or_packed(run / "0000000000000000", packed)
    second.mkdir()  # a re-run in progress: its manifest says running
    (second / MANIFEST).write_text(json.dumps({"status": "running"}))
    assert not is_complete_or_packed(second, packed)


# --- analysis ------------------------------------------------------------------------------


@pytest.mark.slow
def test_analysis_is_the_same_before_during_and_after_compaction(run: Path, tmp_path: Path) -> None:
    want_frames, want_tables = frames(run), tables(run)
    assert main(["analyze", str(run), "--compact", "--format", "json"]) == 0
    assert analysis.load(run).cached

    names = [d.name for d in episode_dirs(run)]
    holding = tmp_path / "later"
    move_out(run, names[:3], holding)
    compact(run)
    move_back(run, holding)  # half compacted: 5 packed, 3 loose
    assert len(episode_dirs(run)) == 3 and len(shard_index(run)) == 5
    data = analysis.load(run)
    assert not data.cached  # a new shard changes the fingerprint
    assert data.left_out == 0
    assert_same_frames(frames(run), want_frames)
    assert_same_tables(tables(run), want_tables)

    compact(run)  # all packed
    assert episode_dirs(run) == []
    assert_same_frames(frames(run), want_frames)
    assert_same_tables(tables(run), want_tables)
    assert main(["analyze", str(run), "--compact", "--format", "json"]) == 0
    cached = analysis.load(run)
    assert cached.cached
    assert_same_frames({n: cached.frame(n).collect() for n in frame_names()}, want_frames)

    # From the directory above the run, too (the shard's episodes keep their paths).
    assert_same_frames(frames(tmp_path), want_frames)


def test_cli_analyze_prints_the_same_line_and_tables_after_compaction(
    run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["analyze", str(run), "--metrics", "outcome", "--format", "csv"]) == 0
    before = capsys.readouterr()
    compact(run)
    assert main(["analyze", str(run), "--metrics", "outcome", "--format", "csv"]) == 0
    after = capsys.readouterr()
    assert after.out == before.out
    assert after.err == before.err
    assert f"{EPISODES} complete episode(s)" in after.err


def test_a_damaged_packed_episode_is_left_out_and_named_as_before(run: Path) -> None:
    cut, bad_call, short, *_ = episode_dirs(run)
    events = (cut / EVENTS).read_bytes()
    (cut / EVENTS).write_bytes(events[: len(events) // 2])  # cut mid-line
    calls = (bad_call / CALLS).read_text().splitlines()
    calls[0] = calls[0][: len(calls[0]) // 2]
    (bad_call / CALLS).write_text("\n".join(calls) + "\n")
    # Cut on a line boundary: it parses, but is not the whole game its manifest counts.
    lines = (short / EVENTS).read_text().splitlines(keepends=True)
    (short / EVENTS).write_text("".join(lines[:-3]))
    want = analysis.load(run)
    assert sorted(want.damaged) == sorted(map(str, (cut, bad_call, short)))
    want_frames = frames(run)

    assert compact(run).packed == EPISODES  # packed byte for byte, damage included
    got = analysis.load(run)
    assert got.damaged == want.damaged
    assert_same_frames(frames(run), want_frames)


def test_a_damaged_shard_is_named_and_the_rest_is_read(run: Path) -> None:
    names = [d.name for d in episode_dirs(run)]
    holding = run.parent / "later"
    move_out(run, names[:4], holding)
    compact(run)
    move_back(run, holding)
    compact(run)
    first, _ = shard_files(run)
    data = first.read_bytes()
    first.write_bytes(data[: len(data) // 2])

    loaded = analysis.load(run)
    assert loaded.damaged == (str(first),)
    assert loaded.episodes.select(pl.len()).collect().item() == EPISODES - 4
    with pytest.raises(ValueError, match=f"{first}: damaged shard"):
        shard_index(run)


def test_lines_are_cut_counted_and_tagged_as_bytes_splitlines_and_strip_would() -> None:
    texts = {
        "plain": '{"kind":"phase","seq":0}\n{"kind":"act","seq":1}\n{"kind":"x","seq":2}\n',
        "crlf": '{"kind":"a"}\r\n\r\n  {"kind":"b"}  \r{"kind":"act"}\r\n',
        "blank": "\n \t\n\x0b\x0c\n",
        "no newline": '{"kind":"a"}\n{"kind":"b"',
        "unicode space": '{"kind":"a"}\u00a0\n\u2028{"kind":"b"}\n',
        "empty": "",
        "tab act": '\t{"kind":"act","seq":3}\n',
    }
    frame = pl.DataFrame({"episode_id": list(texts), "events": list(texts.values())})
    frame = frame.with_row_index(ORDER)
    got = _lines(frame, "events").collect()
    for eid, text in texts.items():
        want = [line.strip() for line in text.encode().splitlines() if line.strip()]
        rows = got.filter(pl.col("episode_id") == eid)
        assert [line.encode() for line in rows["line"]] == want
        assert set(rows["prefix"]) <= {tag(eid)}
    assert got.filter(pl.col("episode_id") == "crlf").height == 3
    assert sorted(ASCII_SPACE.encode()) == [c for c in range(256) if bytes([c]).isspace()]


def test_a_line_that_does_not_parse_or_starts_with_a_non_ascii_character_damages_its_episode() -> (
    None
):
    texts = {
        "good": '{"kind":"a","seq":0}\n{"kind":"act","seq":1}\n',
        "non-ascii first": '\u00e9"kind":"a"}\n{"kind":"b"}\n',
        "cut": '{"kind":"a","seq":0}\n{"kind":"b","se',
        "bad act": '{"kind":"act",\n{"kind":"a","seq":2}\n',
    }
    frame = pl.DataFrame({"episode_id": list(texts), "events": list(texts.values())})
    frame = frame.with_row_index(ORDER)
    damaged: set[str] = set()
    counts: dict[str, int] = {}
    schema = {"kind": pl.String(), "seq": pl.Int64()}
    tagged = _tagged(frame, "events", '{"kind":"act"', damaged, counts)
    parsed = _parse([tagged], schema, damaged)
    assert damaged == {"non-ascii first", "cut"}
    assert counts == {"good": 2, "non-ascii first": 2, "cut": 2, "bad act": 2}
    assert parsed.rows() == [("good", "a", 0), ("bad act", "a", 2)]


def test_logs_parse_as_one_json_reader_of_every_tagged_line_whatever_the_batches(
    run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = [d.name for d in episode_dirs(run)]
    holding = tmp_path / "later"
    move_out(run, names[::2], holding)
    compact(run)
    move_back(run, holding)  # packed and loose episodes, interleaved
    want_frames = frames(run)
    monkeypatch.setattr(log_lines, "PARSE_BATCH", 7)
    monkeypatch.setattr(log_lines, "LOOSE_BATCH", 3)
    assert_same_frames(frames(run), want_frames)

    # How they were parsed before batches: every episode's lines tagged, then one reader.
    discovery = discover(list_episodes(run))
    episodes = [(m["episode_id"], d, m) for d, m in discovery.played]
    schema = {"seq": pl.Int64(), "kind": pl.String(), "actor": pl.String(), "text": pl.String()}
    calls = {"model": pl.String(), "key": pl.String()}
    events, parsed_calls, _, damaged = parse_logs(
        episodes, discovery.sharded, (schema, calls), DECISION_RECORD
    )
    assert not damaged
    for parsed, fields, name in ((events, schema, "events"), (parsed_calls, calls, "calls")):
        tagged = []
        for eid, directory, _ in episodes:
            files = read_episode_files(eid, directory, {})
            assert files is not None
            for line in getattr(files, name).splitlines():
                text = line.strip().decode()
                if text and not text.startswith(DECISION_RECORD):
                    tagged.append(tag(eid) + text[1:])
        data = io.BytesIO("\n".join(tagged).encode())
        assert parsed.equals(pl.read_ndjson(data, schema={"episode_id": pl.String(), **fields}))


# --- watch and replay ----------------------------------------------------------------------


def test_replay_and_watch_open_an_episode_whose_directory_is_gone(run: Path) -> None:
    directory = episode_dirs(run)[0]
    eid = directory.name
    files = files_of(directory)
    assert resolve_episode(directory) == directory  # still loose: itself
    compact(run)
    assert not directory.exists()

    opened = resolve_episode(directory)
    assert opened == run / EXTRACTED_DIR / eid
    assert files_of(opened) == files
    stamp = (opened / MANIFEST).stat().st_mtime_ns
    assert resolve_episode(run, eid[:6]) == opened  # a run and a unique prefix of the id
    assert (opened / MANIFEST).stat().st_mtime_ns == stamp  # the extracted copy is reused
    with pytest.raises(FileNotFoundError, match=f"no shard of {run} holds episode nope"):
        resolve_episode(run / "nope")

    assert main(["replay", str(opened)]) == 0  # every model answer from the shard's calls
    parser = argparse.ArgumentParser()
    add_watch_parser(parser.add_subparsers())
    console = Console(file=io.StringIO(), width=120)
    args = parser.parse_args(["watch", str(opened), "--speed", "0"])
    assert run_watch(args, console=console) == 0
    assert isinstance(console.file, io.StringIO)
    assert "game over" in console.file.getvalue().lower()

    # The extracted copy is hidden from the analysis: nothing is read twice.
    data = analysis.load(run)
    assert data.duplicates == 0
    assert data.episodes.select(pl.len()).collect().item() == EPISODES


def test_the_cli_opens_resumes_and_analyses_a_compacted_sweep(tmp_path: Path, capsys) -> None:
    from traitors.cli import main

    sweep = tmp_path / "sweep.yaml"
    base = Path(__file__).resolve().parent.parent / "scenarios" / "the_traitors.yaml"
    sweep.write_text(
        f"name: packed\nbase: {base}\n"
        "set: {agents.default.policy: heuristic, rules.n_players: 6, rules.n_traitors: 2}\n"
        "episodes: 4\n"
    )
    out = tmp_path / "out"
    assert main(["sweep", str(sweep), "--out", str(out)]) == 0
    assert main(["compact", str(out)]) == 0
    episode = next(iter(shard_index(out)))
    assert not (out / episode).exists()
    capsys.readouterr()
    # resuming runs nothing again
    assert main(["sweep", str(sweep), "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "already complete (skipped)" in said and not (out / episode / "events.jsonl").exists()
    assert main(["replay", str(out / episode)]) == 0
    assert f"OK {out / '.extracted' / episode}" in capsys.readouterr().out
    assert main(["watch", str(out), "--episode", episode[:8], "--speed", "0"]) == 0
    assert "GAME OVER" in capsys.readouterr().out
    assert main(["analyze", str(out)]) == 0
    assert "4 complete episode(s)" in capsys.readouterr().out


def test_run_into_a_compacted_directory_keeps_the_packed_episodes(tmp_path: Path, capsys) -> None:
    traitors_yaml = ROOT / "scenarios" / "the_traitors.yaml"
    out = tmp_path / "out"
    args = ["run", str(traitors_yaml), "--agents", "scripted", "--episodes", "2", "--out", str(out)]
    assert main(args) == 0
    assert main(["compact", str(out)]) == 0
    packed = sorted(shard_index(out))
    assert len(packed) == 2 and not any((out / eid).exists() for eid in packed)
    capsys.readouterr()
    assert main(args) == 0
    said = capsys.readouterr().out
    assert said.count("already complete") == 2
    assert not any((out / eid).exists() for eid in packed)  # not played again
    assert sorted(shard_index(out)) == packed and len(shard_files(out)) == 1
