"""``traitors import`` at scale: worker processes, the journal that resumes an interrupted
import, and Parquet shards past a threshold (correctness only; the speed is
benchmarks/kaggle_import.py's)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from scenarios.werewolf_kaggle.manifest import episode_id
from traitors.cli import main
from traitors.commands import import_pool
from traitors.commands.import_sources import Task
from traitors.store.import_journal import JOURNAL, read_journal
from traitors.store.import_sink import ImportSink
from traitors.store.imported import Rendered
from traitors.store.shards import read_shard, shard_files

FIXTURES = Path(__file__).parent / "fixtures" / "kaggle_werewolf"
ROOT = Path(__file__).parent.parent


def copies(into: Path, rounds: int, first: int = 0) -> set[str]:
    """``rounds`` copies of every fixture in ``into``, each with a new Kaggle id; their
    episode ids."""
    into.mkdir(parents=True, exist_ok=True)
    ids = set()
    for i in range(first, first + rounds):
        for fixture in sorted(FIXTURES.glob("*.json")):
            data = json.loads(fixture.read_text())
            data["id"] = f"{data['id']}-{i}"
            (into / f"{fixture.stem}-{i}.json").write_text(json.dumps(data))
            ids.add(episode_id(data))
    return ids


def stored(out: Path) -> dict[str, tuple[str, str]]:
    """Episode id -> (manifest, events) of every episode of ``out``, loose or packed; an id
    held twice fails."""
    found: dict[str, tuple[str, str]] = {}
    for name in loose(out):
        directory = out / name
        found[name] = (
            (directory / "manifest.json").read_text(),
            (directory / "events.jsonl").read_text(),
        )
    for shard in shard_files(out):
        for eid, manifest, events in read_shard(shard, ["episode_id", "manifest", "events"]).rows():
            assert eid not in found, f"{eid} stored twice"
            found[eid] = (manifest, events)
    return found


def loose(out: Path) -> list[str]:
    """The episode directories of ``out`` (hidden ones, such as temp ones, left out)."""
    return sorted(
        d.name
        for d in out.iterdir()
        if not d.name.startswith(".") and (d / "manifest.json").is_file()
    )


def leftovers(out: Path) -> list[str]:
    """Temp and spool files an import left behind."""
    return sorted(p.name for p in out.rglob(".*"))


def run_import(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main(["import", "kaggle-werewolf", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def crash_run(script: str, *args: str | Path) -> int:
    """Run the import in a child process after ``script`` (which makes it die); its exit
    code."""
    argv = ["import", "kaggle-werewolf", *map(str, args)]
    code = f"import os, sys\n{script}\nfrom traitors.cli import main\nsys.exit(main({argv!r}))"
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True).returncode


# --- parallel ---------------------------------------------------------------------------


@pytest.mark.slow
def test_parallel_gives_the_same_episodes_as_serial_loose_and_packed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = copies(tmp_path / "in", 3)
    runs = {
        "serial": ("--workers", "1"),
        "parallel": ("--workers", "2"),
        "packed": ("--workers", "2", "--shards-past", "10"),
    }
    found = {}
    for name, options in runs.items():
        code, out, err = run_import(capsys, tmp_path / "in", "--out", tmp_path / name, *options)
        assert code == 0 and err == "" and "imported 24 game(s)" in out
        found[name] = stored(tmp_path / name)
    assert set(found["serial"]) == ids
    assert found["parallel"] == found["serial"]  # byte for byte: no wall-clock field differs
    assert found["packed"] == found["serial"]
    assert len(loose(tmp_path / "parallel")) == 24 and loose(tmp_path / "packed") == []


@pytest.mark.slow
def test_archives_are_read_by_the_workers_and_their_spool_is_removed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = copies(tmp_path / "in", 3)
    files = sorted((tmp_path / "in").iterdir())
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as archive:
        for file in files[:12]:
            archive.write(file, f"games/{file.name}")
    with tarfile.open(tmp_path / "b.tar.gz", "w:gz") as tar:
        for file in files[12:]:
            tar.add(file, file.name)
    out = tmp_path / "out"
    code, stdout, err = run_import(
        capsys, tmp_path / "a.zip", tmp_path / "b.tar.gz", "--out", out, "--workers", "2"
    )
    assert code == 0 and err == "" and "imported 24 game(s)" in stdout
    assert set(stored(out)) == ids and leftovers(out) == []
    assert sorted(read_journal(out)) == sorted(
        [f"{tmp_path / 'a.zip'}:games/{f.name}" for f in files[:12]]
        + [f"{tmp_path / 'b.tar.gz'}:{f.name}" for f in files[12:]]
    )


@pytest.mark.slow
def test_bad_files_get_one_line_each_in_parallel_and_again_when_resumed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = copies(tmp_path / "in", 3)
    (tmp_path / "in" / "cut.json").write_bytes((FIXTURES / "bidding.json").read_bytes()[:5000])
    (tmp_path / "in" / "chess.json").write_text('{"name": "chess", "info": {}}')
    out = tmp_path / "out"
    for already in (0, 24):
        code, stdout, err = run_import(capsys, tmp_path / "in", "--out", out, "--workers", "2")
        assert code == 1 and "Traceback" not in err
        lines = sorted(err.splitlines())
        assert len(lines) == 2
        assert lines[0].startswith(f"skipped {tmp_path / 'in' / 'chess.json'}: not a Werewolf")
        assert lines[1].startswith(f"skipped {tmp_path / 'in' / 'cut.json'}: the file is cut off")
        assert f"imported {24 - already} game(s)" in stdout
        assert f"{already} already there; 2 file(s) skipped" in stdout
        assert set(stored(out)) == ids


# --- shards -----------------------------------------------------------------------------


@pytest.mark.slow
def test_past_the_threshold_the_import_ends_in_shards_and_a_rerun_keeps_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = copies(tmp_path / "first", 1)
    more = copies(tmp_path / "more", 2, first=1)
    out = tmp_path / "out"
    code, stdout, _ = run_import(capsys, tmp_path / "first", "--out", out, "--shards-past", "10")
    assert code == 0 and len(loose(out)) == 8 and shard_files(out) == []
    code, stdout, _ = run_import(capsys, tmp_path / "more", "--out", out, "--shards-past", "10")
    assert code == 0 and "imported 16 game(s)" in stdout
    assert loose(out) == [] and set(stored(out)) == first | more  # the first 8 packed too
    shards = shard_files(out)
    code, stdout, _ = run_import(capsys, tmp_path, "--out", out, "--shards-past", "10")
    assert code == 0 and "imported 0 game(s)" in stdout and "24 already there" in stdout
    assert shard_files(out) == shards


@pytest.mark.parametrize(("threshold", "packed"), [(24, False), (23, True)])
@pytest.mark.slow
def test_the_threshold_counts_the_games_of_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], threshold: int, packed: bool
) -> None:
    ids = copies(tmp_path / "in", 3)
    out = tmp_path / "out"
    args = ("--out", out, "--shards-past", str(threshold), "--workers", "1")
    assert run_import(capsys, tmp_path / "in", *args)[0] == 0
    assert set(stored(out)) == ids
    assert (loose(out) == [], bool(shard_files(out))) == (packed, packed)


def test_a_shard_is_written_per_batch_bounded_by_games_and_bytes(tmp_path: Path) -> None:
    def game(i: int) -> Rendered:
        return Rendered(f"e{i:02d}", "complete", None, '{"status": "complete"}\n', "x" * 100)

    for max_bytes, expected in ((400, [3, 3, 3, 3]), (10_000, [5, 5, 2])):
        out = tmp_path / str(max_bytes)
        sink = ImportSink(out, shards_past=0, per_shard=5, max_shard_bytes=max_bytes)
        sink.expect(12)
        for i in range(12):
            assert sink.add(f"f{i}.json", "1:1", game(i))
        assert not sink.add("again.json", "1:1", game(3))  # held already: kept
        sink.close()
        sizes = [len(read_shard(shard, ["episode_id"])) for shard in shard_files(out)]
        assert sizes == expected  # 123 bytes a game: four pass 400
        assert read_journal(out)["again.json"].episode == "e03" and len(read_journal(out)) == 13


# --- resuming ---------------------------------------------------------------------------


@pytest.mark.slow
def test_an_import_killed_mid_write_resumes_with_every_game_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = copies(tmp_path / "in", 2)
    out = tmp_path / "out"
    die_at_fifth_rename = """
import pathlib
rename, calls = pathlib.Path.rename, []
def crash(self, target):
    calls.append(self)
    if len(calls) == 5:
        os._exit(9)  # like kill -9: the episode's temp directory is left behind
    return rename(self, target)
pathlib.Path.rename = crash
"""
    assert crash_run(die_at_fifth_rename, tmp_path / "in", "--out", out, "--workers", "1") == 9
    assert len(loose(out)) == 4 and len(read_journal(out)) == 4
    assert [name for name in leftovers(out) if name.startswith(".import-")]  # half-written
    code, stdout, err = run_import(capsys, tmp_path / "in", "--out", out)
    assert code == 0 and err == ""
    assert "imported 12 game(s)" in stdout and "4 already there" in stdout
    assert set(stored(out)) == ids and leftovers(out) == []
    assert len(read_journal(out)) == 16


@pytest.mark.slow
def test_a_crash_after_a_shard_is_written_loses_and_duplicates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = copies(tmp_path / "in", 2)
    out = tmp_path / "out"
    die_before_journaling = """
from traitors.store import import_journal
def crash(self, source, stamp, episode):
    os._exit(9)  # the shard is linked, the journal does not know it yet
import_journal.ImportJournal.write = crash
"""
    args = (tmp_path / "in", "--out", out, "--shards-past", "4")
    assert crash_run(die_before_journaling, *args, "--workers", "1") == 9
    assert len(shard_files(out)) == 1 and read_journal(out) == {}
    code, stdout, _ = run_import(capsys, *args)
    assert code == 0 and "imported 0 game(s)" in stdout and "16 already there" in stdout
    assert set(stored(out)) == ids and len(shard_files(out)) == 1  # stored() checks once


def die_on_bidding(task: Task) -> import_pool.Result:
    """A worker that dies on the copies of bidding.json (run in the worker process)."""
    if "bidding" in task.label:
        os._exit(9)
    assert import_pool._importer is not None
    return import_pool.read_task(import_pool._importer, task)


@pytest.mark.slow
def test_a_worker_that_dies_stops_the_import_with_one_line_and_the_rerun_completes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = copies(tmp_path / "in", 3)
    out = tmp_path / "out"
    monkeypatch.setattr(import_pool, "_read_in_worker", die_on_bidding)
    code, stdout, err = run_import(capsys, tmp_path / "in", "--out", out, "--workers", "2")
    assert code == 1 and "Traceback" not in err
    assert err.splitlines()[0] == "stopped: a worker process died; the same command resumes:"
    assert err.splitlines()[1].strip().endswith(f"--out {out}")
    before = set(stored(out))
    assert before < ids and len(read_journal(out)) == len(before)
    monkeypatch.undo()
    code, stdout, err = run_import(capsys, tmp_path / "in", "--out", out, "--workers", "2")
    assert code == 0 and err == ""
    assert f"{len(before)} already there" in stdout
    assert set(stored(out)) == ids and leftovers(out) == []
    assert (out / JOURNAL).is_file()
