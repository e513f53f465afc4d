"""``traitors judge``: statements of a dataset judged by function-backed fake models (no
network): scores, concurrency, budget, resume, replay without a model, failed replies,
preflight."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import polars as pl
import pytest

from traitors.cli import main
from traitors.llm.fake import FakeCall, register_fake_model

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dataset of two scripted Traitors episodes with belief probes (context as pointers)."""
    root = tmp_path_factory.mktemp("judge")
    run = root / "run"
    args = ["run", str(SCENARIOS / "the_traitors.yaml"), "--agents", "scripted"]
    args += ["--episodes", "2", "--out", str(run), "--set", "rules.n_players=8"]
    assert main(args) in (0, 1)
    assert main(["dataset", str(run), "--out", str(root / "ds")]) == 0
    return root / "ds"


def _statements(dataset: Path) -> pl.DataFrame:
    return pl.concat(pl.read_parquet(f) for f in sorted((dataset / "data").glob("*.parquet")))


def _probability(prompt: str) -> float:
    """The fakes' answer: a probability read off the prompt's hash."""
    return int(hashlib.sha256(prompt.encode()).hexdigest()[:4], 16) % 101 / 100


def _reply(call: FakeCall) -> str:
    return json.dumps({"probability": _probability(call.prompt)})


def _judge(dataset: Path, model: str, out: Path, *extra: str) -> int:
    return main(["judge", str(dataset), "--model", model, "--out", str(out), *extra])


def _records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "calls.jsonl").read_text().splitlines()]


def test_every_statement_is_judged_and_recorded(dataset: Path, tmp_path: Path, capsys) -> None:
    model = register_fake_model("judge-hash", _reply)
    out = tmp_path / "judge"
    assert _judge(dataset, model, out) == 0
    rows = _statements(dataset)
    scores = pl.read_parquet(out / "scores.parquet")
    assert scores.columns == ["episode", "seq", "score", "error"]
    assert scores.height == rows.height and scores["error"].null_count() == rows.height
    records = _records(out)
    assert len(records) == rows.height
    by_key = {
        (r["agent"]): _probability("\n".join(m["content"] for m in r["messages"])) for r in records
    }
    for episode, seq, score, _ in scores.iter_rows():
        assert score == by_key[f"{episode}:{seq}"]
    manifest = json.loads((out / "detector.json").read_text())
    assert manifest["kind"] == "judge" and manifest["status"] == "complete"
    assert manifest["scored"] == manifest["statements"] == rows.height
    assert manifest["dataset"] == str(dataset.resolve())
    # the prompt: the transcript before the statement, the statement, no role
    row = rows.filter(pl.col("context_events") > 3).row(0, named=True)
    user = next(r for r in records if r["agent"] == f"{row['episode']}:{row['seq']}")
    prompt = user["messages"][1]["content"]
    assert json.dumps(row["text"], ensure_ascii=False) in prompt and "role (hidden" not in prompt
    lines = prompt.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("The public transcript")) + 1
    assert lines.index("", start) - start == row["context_events"]
    assert "0 kept from before" in capsys.readouterr().out


def test_role_context_shows_the_speakers_role(dataset: Path, tmp_path: Path) -> None:
    model = register_fake_model("judge-role", _reply)
    out = tmp_path / "judge"
    assert _judge(dataset, model, out, "--context", "role", "--split", "train") == 0
    rows = _statements(dataset).filter(pl.col("split") == "train")
    records = _records(out)
    assert len(records) == rows.height
    for record, row in zip(
        sorted(records, key=lambda r: r["agent"]),
        sorted(rows.iter_rows(named=True), key=lambda r: f"{r['episode']}:{r['seq']}"),
        strict=True,
    ):
        assert (
            f"role (hidden from the other players): {row['speaker_role']}"
            in record["messages"][1]["content"]
        )


def test_calls_reach_the_concurrency(dataset: Path, tmp_path: Path) -> None:
    running = peak = 0

    async def slow(call: FakeCall) -> str:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.02)
        running -= 1
        return _reply(call)

    model = register_fake_model("judge-slow", slow)
    assert _judge(dataset, model, tmp_path / "judge", "--concurrency", "4") == 0
    assert peak == 4


def test_budget_stops_and_the_same_command_resumes(dataset: Path, tmp_path: Path, capsys) -> None:
    made = []

    def counted(call: FakeCall) -> str:
        made.append(call)
        return _reply(call)

    model = register_fake_model("judge-priced?price=1", counted)  # $1 per 1,000 tokens
    out = tmp_path / "judge"
    statements = _statements(dataset).height
    code = _judge(dataset, model, out, "--max-cost", "1.5", "--concurrency", "2")
    assert code == 3
    manifest = json.loads((out / "detector.json").read_text())
    spent = manifest["usage"]["cost"]
    assert manifest["status"] == "partial" and 0 < len(made) < statements and spent <= 1.5
    assert manifest["failed"] == {"not_started": statements - len(made)}
    assert "budget reached" in capsys.readouterr().out
    scores = pl.read_parquet(out / "scores.parquet")
    assert scores["score"].null_count() == statements - len(made)  # unstarted: no score
    first = len(made)
    assert _judge(dataset, model, out, "--concurrency", "2") == 0
    assert len(made) == statements  # only the statements left were asked
    assert json.loads((out / "detector.json").read_text())["status"] == "complete"
    assert _judge(dataset, model, out, "--concurrency", "2") == 0  # nothing left to ask
    assert len(made) == statements and first < statements
    assert "0 calls now" in capsys.readouterr().out


def test_replay_needs_no_model_and_finds_changed_scores(
    dataset: Path, tmp_path: Path, capsys
) -> None:
    model = register_fake_model("judge-replayed", _reply)
    out = tmp_path / "judge"
    assert _judge(dataset, model, out) == 0
    written = pl.read_parquet(out / "scores.parquet")

    def gone(call: FakeCall) -> str:
        raise AssertionError("replay called the model")

    register_fake_model("judge-replayed", gone)
    capsys.readouterr()
    assert main(["judge", "--replay", str(out)]) == 0
    assert capsys.readouterr().out.startswith(f"OK {out}")
    assert pl.read_parquet(out / "scores.parquet").equals(written)
    changed = written.with_columns(
        score=pl.when(pl.int_range(pl.len()) == 0).then(0.123).otherwise("score")
    )
    changed.write_parquet(out / "scores.parquet")
    assert main(["judge", "--replay", str(out)]) == 1
    assert "DIVERGED" in capsys.readouterr().out


def test_a_reply_that_is_no_probability_is_a_failed_call(
    dataset: Path, tmp_path: Path, capsys
) -> None:
    def vague(call: FakeCall) -> str:
        p = _probability(call.prompt)
        return "I would say it is likely" if p < 0.3 else "1.5" if p < 0.5 else _reply(call)

    model = register_fake_model("judge-vague", vague)
    out = tmp_path / "judge"
    assert _judge(dataset, model, out) == 1
    printed = capsys.readouterr().out
    scores = pl.read_parquet(out / "scores.parquet")
    failed = scores.filter(pl.col("score").is_null())
    assert failed.height
    for record in _records(out):  # the vague replies have no score, never 0.5
        p = _probability("\n".join(m["content"] for m in record["messages"]))
        episode, seq = record["agent"].split(":")
        score = scores.filter((pl.col("episode") == episode) & (pl.col("seq") == int(seq)))
        assert score["score"].item() == (None if p < 0.5 else p)
    assert failed["error"].str.starts_with("not a probability").all()
    manifest = json.loads((out / "detector.json").read_text())
    assert manifest["failed"] == {"not_a_probability": failed.height}
    assert f"{failed.height} statements without a score (failed calls: not_a_probability" in printed
    assert main(["analyze", str(out), "--metrics", "detectors", "--format", "json"]) == 0
    table = json.loads(capsys.readouterr().out)["detectors"][0]
    assert table["unscored"] == failed.height


def test_preflight_fails_before_any_call(
    dataset: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    for model, words in (
        ("openai/gpt-4o-mini", "OPENAI_API_KEY not set"),
        ("openai/gpt-no-such-model", "litellm does not know"),
        ("nosuch/model", "no provider serves"),
    ):
        assert _judge(dataset, model, tmp_path / "judge") == 2
        err = capsys.readouterr().err
        assert words in err and len(err.strip().splitlines()) == 1
        assert not (tmp_path / "judge").exists()


def test_bad_templates_and_settings_are_refused(dataset: Path, tmp_path: Path, capsys) -> None:
    model = register_fake_model("judge-template", _reply)
    prompt = tmp_path / "prompt.txt"
    for text, words in (
        ("Is {speaker} lying? {statment}", "unknown field {statment}"),
        ("Is {speaker} lying?", "needs {statement}"),
    ):
        prompt.write_text(text)
        assert _judge(dataset, model, tmp_path / "judge", "--prompt", str(prompt)) == 2
        assert words in capsys.readouterr().err
    prompt.write_text("{transcript}\nNow {speaker} says {statement}. Lying?")
    out = tmp_path / "judge"
    assert _judge(dataset, model, out, "--prompt", str(prompt)) == 0
    assert "Now " in _records(out)[0]["messages"][1]["content"]
    assert _judge(dataset, model, out) == 2  # another template into the same run
    assert "judged with another template" in capsys.readouterr().err


def test_progress_follows_the_answers_of_this_invocation(dataset: Path, tmp_path: Path) -> None:
    from traitors.commands.judge import dataset_statements
    from traitors.sweep.judge import JudgeSettings, run_judge
    from traitors.sweep.judge_prompt import DEFAULT_TEMPLATE

    model = register_fake_model("judge-progress", _reply)
    statements, runs = dataset_statements(dataset, (), [])
    settings = JudgeSettings(
        model=model, template=DEFAULT_TEMPLATE, context="public", runs=tuple(map(str, runs))
    )
    seen: list[tuple[int, int]] = []
    out = tmp_path / "judge"
    run_judge(statements[:5], settings, dataset, out, 2, on_answer=lambda *p: seen.append(p))
    assert sorted(seen) == [(k, 5) for k in range(1, 6)]
    seen.clear()
    run_judge(statements[:8], settings, dataset, out, 2, on_answer=lambda *p: seen.append(p))
    assert sorted(seen) == [(1, 3), (2, 3), (3, 3)]  # the five judged before are kept
