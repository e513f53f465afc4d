"""``traitors export``: one self-contained, deterministic HTML replay; a seat's export holds
only what that seat saw; bad input is one line and exit code 2; ``analyze --out`` links
the episodes it cites to their replays (no browser here: see test_export_browser.py)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from replay_episodes import HOSTILE, LONG, TAG, embedded, learned, run_hostile

import analysis.replays
from traitors.cli import main
from traitors.episode.spec import load_spec
from traitors.game.events import player_view
from traitors.store.log import EVENTS, read_episode
from traitors.store.shards import compact
from traitors.sweep.episodes import run_episodes
from traitors.view.spectate.view import episode_words


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run of two hostile episodes."""
    out = tmp_path_factory.mktemp("run")
    run_hostile(out, seeds=(1, 2))
    return out


@pytest.fixture(scope="module")
def episode(run_dir: Path) -> Path:
    return min(p for p in run_dir.iterdir() if p.is_dir())


def export(episode: Path, out: Path, *extra: str) -> str:
    assert main(["export", str(episode), "--html", str(out), *extra]) == 0
    return out.read_text(encoding="utf-8")


def seats(episode: Path) -> tuple[str, str]:
    """A seat on the uncovering side and one on the hidden side."""
    roles = read_episode(episode).manifest.roles
    faithful = next(p for p, role in roles.items() if role == "faithful")
    return faithful, next(p for p, role in roles.items() if role == "traitor")


def test_export_is_one_self_contained_deterministic_file(episode: Path, tmp_path: Path) -> None:
    first = export(episode, tmp_path / "a.html")
    assert export(episode, tmp_path / "b.html") == first
    assert (tmp_path / "a.html").read_bytes() == (tmp_path / "b.html").read_bytes()
    assert not re.search(r"https?:|//[a-z]", first, re.I)  # no URL, no protocol-relative link
    assert not re.search(r"\s(src|href)=\"(?!data:)", first)
    assert "default-src 'none'" in first  # a CSP forbids any connection
    doc = embedded(first)
    log = read_episode(episode)
    assert [v["seat"] for v in doc["views"]] == [None, *log.manifest.players]
    for view in doc["views"][1:]:  # each seat's steps are a subset of what it saw
        seen = {e.seq for e in player_view(log.events, view["seat"])}
        assert set(view["steps"]) <= seen
    with_line = [e.seq for e in log.events if e.line_text(episode_words(episode)) is not None]
    assert [e["seq"] for e in doc["events"] if e["line"] is not None] == with_line


def test_player_text_cannot_close_the_data_script(episode: Path, tmp_path: Path) -> None:
    page = export(episode, tmp_path / "god.html")
    data = page[page.index('id="episode-data">') :]
    json_text = data[data.index(">") + 1 : data.index("</script>")]
    assert not set("<>&\u2028\u2029") & set(json_text)
    assert page.count("</script>") == 2 and page.count("<script") == 2
    lines = [e["line"] for e in embedded(page)["events"] if e["line"]]
    for hostile in HOSTILE[:3]:  # markup arrives as text, whole
        assert any(hostile in line for line in lines)
    assert any("</script><script>window.pwned=3</script><!--" in line for line in lines)
    assert any(LONG in line for line in lines)
    assert "\x1b" not in page and "\u202e" not in page  # shown as escapes by printable
    assert any("\\x1b[31mred\\x1b[0m \\u202eevil\\u202c" in line for line in lines)


@pytest.mark.parametrize("side", ["uncovering", "hidden"])
def test_a_seat_export_holds_only_what_the_seat_saw(
    episode: Path, tmp_path: Path, side: str
) -> None:
    seat = seats(episode)[side == "hidden"]
    page = export(episode, tmp_path / "seat.html", "--as", seat)
    log = read_episode(episode)
    view = player_view(log.events, seat)
    seen = {e.seq for e in view}
    hidden = [e for e in log.events if e.seq not in seen]
    shown_tags = {t for e in view for t in TAG.findall(e.model_dump_json())}
    hidden_tags = {t for e in hidden for t in TAG.findall(e.model_dump_json())} - shown_tags
    assert shown_tags and hidden_tags
    assert all(tag in page for tag in shown_tags)  # what the seat saw is there
    leaked = sorted(tag for tag in hidden_tags if tag in page)
    assert not leaked, f"{seat}'s export holds other events' text: {leaked[:5]}"
    assert any(e.kind == "speak" and e.visibility.scope == "channel" for e in hidden) == (
        side == "uncovering"
    )
    words = episode_words(episode)
    for event in hidden:  # other seats' roles, god-only actions, others' channel messages...
        line = event.line_text(words)
        if line is not None and event.kind in ("role", "speak", "reasoning", "belief"):
            assert all(line != e["line"] for e in embedded(page)["events"])
    doc = embedded(page)
    assert {e["seq"] for e in doc["events"]} <= seen
    assert [v["seat"] for v in doc["views"]] == [seat]
    known = learned(view, seat)
    for _, change in doc["views"][0]["board"]:
        for player, state in change.get("seats", {}).items():
            assert state["role"] is None or player in known, f"{seat} never learned {player}"
    assert not {"roles", "seed", "spec", "calls", "agents"} & {*doc, *doc["episode"]}


@pytest.mark.parametrize(
    "case",
    ["unknown seat", "missing episode", "damaged log", "running episode", "unwritable file"],
)
def test_bad_input_is_one_line_and_exit_2(
    episode: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    source, out, extra = episode, tmp_path / "out.html", []
    if case == "unknown seat":
        extra = ["--as", "Nobody"]
    elif case == "missing episode":
        source = tmp_path / "no-such-episode"
    elif case in ("damaged log", "running episode"):
        source = Path(shutil.copytree(episode, tmp_path / "copy"))
        if case == "damaged log":
            events = (source / EVENTS).read_bytes()
            (source / EVENTS).write_bytes(events[: len(events) // 2])
        else:
            manifest = (source / "manifest.json").read_text()
            (source / "manifest.json").write_text(manifest.replace('"complete"', '"running"'))
    else:
        out = tmp_path / "missing-dir" / "out.html"
    assert main(["export", str(source), "--html", str(out), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


def test_a_degraded_episode_says_so_and_a_seat_gets_no_reason(
    episode: Path, tmp_path: Path
) -> None:
    source = Path(shutil.copytree(episode, tmp_path / "degraded"))
    manifest = json.loads((source / "manifest.json").read_text())
    manifest |= {"status": "degraded", "status_reason": "Bob: 3 of 4 actions defaulted"}
    (source / "manifest.json").write_text(json.dumps(manifest))
    god = embedded(export(source, tmp_path / "god.html"))["episode"]
    assert (god["status"], god["played"]) == ("degraded", False)
    assert god["status_reason"] == "Bob: 3 of 4 actions defaulted"
    seat = embedded(export(source, tmp_path / "seat.html", "--as", seats(episode)[0]))["episode"]
    assert (seat["status"], seat["status_reason"]) == ("degraded", "")


@pytest.mark.slow
def test_a_werewolf_episode_exports_in_a_fresh_process(tmp_path: Path) -> None:
    """Its act events carry Werewolf's own action kinds (bids): reading them loads the
    installed scenarios, as reading its own event kinds does."""
    spec = load_spec(ROOT / "scenarios" / "werewolf.yaml", ["agents.default.policy=heuristic"])
    (summary,) = run_episodes(spec, [0], tmp_path / "run")
    out = tmp_path / "werewolf.html"
    command = [sys.executable, "-m", "traitors.cli", "export", str(summary.dir), "--html", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    words = embedded(out.read_text())["words"]
    assert words["suspect"] == "werewolf" and "exile" in words["elimination_votes"]


def test_avalon_team_votes_fill_the_votes_panel(tmp_path: Path) -> None:
    """Avalon's team votes are its own event kinds: the board's tally, which they update,
    gives the votes panel their ballots and counts, as it does the engine's votes."""
    spec = load_spec(ROOT / "scenarios" / "avalon.yaml", ["agents.default.policy=heuristic"])
    (summary,) = run_episodes(spec, [0], tmp_path / "run")
    events = embedded(export(summary.dir, tmp_path / "avalon.html"))["events"]
    ballots = [e for e in events if e["kind"] == "team_vote"]
    results = [e for e in events if e["kind"] == "team_result"]
    assert ballots and results
    for ballot in ballots:
        assert ballot["vote"]["purpose"] == "team"
        assert ballot["vote"]["target"] in ("approve", "reject")
    first = results[0]
    assert (first["result"]["purpose"], first["result"]["ballot"]) == ("team", 0)
    assert first["result"]["decided"] in ("approve", "reject")
    cast = [b for b in ballots if b["seq"] < first["seq"]]
    assert len(cast) == sum(first["result"]["tally"].values()) == 7  # every seat's ballot


def test_a_packed_episode_exports_like_a_loose_one(
    run_dir: Path, episode: Path, tmp_path: Path
) -> None:
    loose = export(episode, tmp_path / "loose.html")
    packed_run = Path(shutil.copytree(run_dir, tmp_path / "packed"))
    compact(packed_run)
    assert not (packed_run / episode.name).exists()
    assert export(packed_run / episode.name, tmp_path / "packed.html") == loose


def report_links(out: Path) -> list[str]:
    report = (out / "report.html").read_text()
    assert "<h2>Episodes</h2>" in report
    return re.findall(r'<a href="([^"]+)"', report)


@pytest.mark.parametrize("packed", [False, True])
@pytest.mark.slow
def test_analyze_links_the_cited_episodes_to_their_replays(
    run_dir: Path, tmp_path: Path, packed: bool
) -> None:
    source = run_dir
    if packed:
        source = Path(shutil.copytree(run_dir, tmp_path / "packed"))
        compact(source)
    out = tmp_path / "report"
    assert main(["analyze", str(source), "--out", str(out), "--by", "episode_id"]) == 0
    links = report_links(out)
    ids = sorted(p.name for p in run_dir.iterdir() if p.is_dir())
    assert {f"replays/{i}.html" for i in ids} == set(links)
    assert len(links) > len(ids)  # the Episodes section and the tables' episode_id cells
    for link in links:
        assert (out / link).is_file()
        assert embedded((out / link).read_text())["episode"]["exported_as"] is None
    assert f"{len(ids)} of {len(ids)} episode(s) are linked" in (out / "report.html").read_text()


@pytest.mark.slow
def test_the_report_exports_a_bounded_number_of_replays(
    run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(analysis.replays, "SAMPLE", 1)
    monkeypatch.setattr(analysis.replays, "MAX_REPLAYS", 1)
    out = tmp_path / "report"
    assert main(["analyze", str(run_dir), "--out", str(out), "--by", "episode_id"]) == 0
    assert len(list((out / "replays").iterdir())) == 1
    assert len(set(report_links(out))) == 1
    assert "1 of 2 episode(s) are linked" in (out / "report.html").read_text()
