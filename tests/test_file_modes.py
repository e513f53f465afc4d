"""Every file and directory a run writes gets the same mode (0666 / 0777 less the umask):
manifests, sweep files, shards and imported episodes are not left at mkstemp's 0600."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from traitors.cli import main
from traitors.store.log import EVENTS, MANIFEST, write_json_atomic
from traitors.store.shards import write_shard
from traitors.util.files import new_temp

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def umask() -> int:
    old = os.umask(0o022)
    yield 0o022
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_an_episodes_files_share_one_mode(tmp_path: Path, umask: int) -> None:
    out = tmp_path / "run"
    args = ["run", str(ROOT / "scenarios" / "werewolf.yaml"), "--agents", "random"]
    assert main([*args, "--episodes", "1", "--out", str(out)]) in (0, 1)
    (episode,) = [p for p in out.iterdir() if p.is_dir()]
    assert mode(episode / MANIFEST) == mode(episode / EVENTS) == 0o666 & ~umask
    write_json_atomic(tmp_path / "sweep.json", {"a": 1})
    assert mode(tmp_path / "sweep.json") == 0o644


def test_shards_temp_files_and_imported_episodes_share_it_too(tmp_path: Path, umask: int) -> None:
    assert mode(new_temp(tmp_path, ".x-", ".tmp")) == 0o644
    assert mode(new_temp(tmp_path, ".d-", folder=True)) == 0o755
    row = {"episode_id": "e1", "manifest": "{}", "events": "", "calls": None, "error": None}
    (tmp_path / "run").mkdir()
    assert mode(write_shard(tmp_path / "run", [row])) == 0o644
    out = tmp_path / "imported"
    fixture = ROOT / "tests" / "fixtures" / "kaggle_werewolf" / "team_reveals.json"
    assert main(["import", "kaggle-werewolf", str(fixture), "--out", str(out)]) == 0
    (episode,) = [p for p in out.iterdir() if p.is_dir()]
    assert mode(episode) == 0o755 and mode(episode / MANIFEST) == 0o644
