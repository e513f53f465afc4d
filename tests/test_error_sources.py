"""One-line errors name the file (or scenario) and the option at fault, never ``<spec>``."""

from __future__ import annotations

import pytest
from conftest import TRAITORS_YAML

from traitors.cli import main
from traitors.episode.spec import SpecError, load_spec, with_model, with_policy


@pytest.mark.parametrize(
    ("argv", "start"),
    [
        (
            ["check", "avalon", "--policy", "nosuch"],
            "avalon --policy nosuch: agents.default",
        ),
        (
            ["check", str(TRAITORS_YAML), "--policy", "nosuch"],
            f"{TRAITORS_YAML} --policy nosuch: agents.default.policy: unknown policy 'nosuch'",
        ),
        (
            ["run", str(TRAITORS_YAML), "--agents", "llm", "--model", "nosuchprovider/foo"],
            f"{TRAITORS_YAML} --model: agents.default.model: no provider serves",
        ),
    ],
)
def test_the_error_names_the_source(argv, start, tmp_path, capsys) -> None:
    assert main([*argv, *(["--out", str(tmp_path / "out")] if argv[0] == "run" else [])]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {start}") and "\n" not in err, err


def test_spec_helpers_name_the_spec_by_default() -> None:
    spec = load_spec(TRAITORS_YAML)
    with pytest.raises(SpecError, match=r"^the_traitors: agents\.default\.policy: unknown"):
        with_policy(spec, "nosuch")
    with pytest.raises(SpecError, match=r"^the_traitors: agents\.\w+\.model: no provider"):
        with_model(with_policy(spec, "llm"), "nosuchprovider/foo")
